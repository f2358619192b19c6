// @ts-nocheck
export { FileClient, type FileClientOptions, type UploadItem } from './client/fileClient.js';
export type { UploadOptions, UploadResult } from './client/upload/uploadFile.js';
export type { UploadState } from './client/upload/uploadPlan.js';
export { readTasks, verifyFolder } from './client/taskMap/localTasks.js';
export type { LocalVerdict, VerifyResult } from './client/download/verifyLocal.js';
export type { ServerVerdict, ServerVerifyResult } from './client/blocks/serverVerify.js';
export type { ByteRange } from './client/blocks/blockRanges.js';
export type { DownloadOptions, DownloadProgress, DownloadResult, DownloadStart } from './client/download/downloadOptions.js';
export type { RetryNotice } from './client/download/retryLoop.js';
export type { MirrorFileEvent, MirrorOptions, MirrorResult, TreeProgress } from './client/mirror/mirror.js';
export type { BatchOptions, BatchResult } from './client/batch.js';
export type { BatchItem, Order } from './client/schedule.js';
export type { RemoteFile } from './client/remoteFile.js';
export { TaskMapError } from './client/taskMap/taskJournal.js';
export type { TaskRecord, TaskStatus } from './client/taskMap/taskRecord.js';
export type { PlanState } from './client/taskState.js';
export { startServer, type RunningServer, type ServerLimits, type ServerOptions, type UploadOptions as ServerUploadOptions } from './server/server.js';
export { StatusError } from './shared/statusError.js';
export {
  AbortedError,
  BlockMismatchError,
  ClientError,
  ConflictError,
  DigestMismatchError,
  InvalidNameError,
  LocalIoError,
  LockLostError,
  ProtocolError,
  RemoteStatusError,
  type ErrorKind,
} from './client/errors.js';
