export { FileClient, readTasks, type FileClientOptions } from './client/fileClient.js';
export type { DownloadOptions, DownloadProgress, DownloadResult, RetryNotice } from './client/transfer.js';
export type { RemoteFile } from './client/remoteFile.js';
export type { TaskRecord, TaskStatus } from './client/taskStore.js';
export type { TaskState } from './client/taskState.js';
export { startServer, type RunningServer, type ServerOptions } from './server/server.js';
export { StatusError } from './shared/statusError.js';
