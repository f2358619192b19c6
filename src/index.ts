export { FileClient, readTasks, type FileClientOptions } from './client/fileClient.js';
export type { DownloadOptions, DownloadProgress, DownloadResult, DownloadStart, RetryNotice } from './client/transfer.js';
export type { BatchOptions, BatchResult } from './client/batch.js';
export type { BatchItem, Order } from './client/schedule.js';
export type { RemoteFile } from './client/remoteFile.js';
export { TaskMapError, type TaskMap, type TaskRecord, type TaskStatus } from './client/taskStore.js';
export type { TaskState } from './client/taskState.js';
export { startServer, type RunningServer, type ServerOptions } from './server/server.js';
export { StatusError } from './shared/statusError.js';
