import type { FileServiceClient } from '../../generated/filetransfer/v1/FileService.js';
import type { ReplicaSet } from '../connection/replicas.js';
import type { RateLimiter } from '../../shared/rateLimiter.js';
import type { PlanState } from '../taskState.js';
import type { FolderSyncer } from './folderSync.js';
import type { RetryNotice } from './retryLoop.js';
import type { TaskRecords } from './taskRecords.js';

/*
 * What a download is given and tells: the engine's context (one per
 * client), a caller's options and events, and the result. Apart from the
 * engine, so the modules it calls can take them without importing it.
 */

export interface DownloadContext {
  client: FileServiceClient;
  /** Whether the channel uses TLS. */
  secure: boolean;
  store: TaskRecords;
  /** Real path of the output folder. */
  out: string;
  /** Paths a download must never write (the task map). */
  reserved: string[];
  retryForMs: number;
  stallTimeoutMs: number;
  /** Output folders already created and found to be real folders. */
  checkedFolders: Set<string>;
  /** Folder fsyncs after renames, shared between downloads. */
  folderSyncer: FolderSyncer;
  /** The output folder is on tmpfs or ramfs, where syncs make nothing durable (see isInMemory); false when unknown. */
  inMemory?: boolean;
  /** Pacing shared by every download of this client, if any. */
  limiter: RateLimiter | undefined;
  /** Ask the server whether a complete file changed (one Stat) before skipping it. */
  checkRemote: boolean;
  /** Whether to treat the server as reached (see RetryState.serverReached); unknown: reached. */
  serverReached?: () => boolean;
  /** A client per replica of the server, beside `client`, which spreads calls over them. */
  replicas: ReplicaSet;
  /** Ranges fetched at once per file, from as many connections and replicas (1: one stream). */
  segments?: number;
  /** Methods the server answered UNIMPLEMENTED for (an older server), shared by the client's calls: their fallbacks are asked instead. */
  missingMethods: Set<string>;
}

export interface DownloadProgress {
  name: string;
  /** Bytes of the file on disk so far. */
  received: number;
  size: number;
  /** Where the running attempt started. */
  attemptOffset: number;
}

export interface DownloadOptions {
  /** Aborting stops the download and leaves a resumable partial. */
  signal?: AbortSignal;
  /** Bytes per second for this download alone, instead of the client's pace. */
  limitRate?: number;
  /** Ranges of the file fetched at once, instead of the client's setting (see FileClientOptions.segments). */
  segments?: number;
  /** The server has described the file and bytes are about to flow. */
  onStart?: (start: DownloadStart) => void;
  onProgress?: (progress: DownloadProgress) => void;
  onRetry?: (notice: RetryNotice) => void;
  /** Another process is downloading into the same folder; we wait for it. */
  onWait?: (wait: { name: string; holderPid: number | undefined }) => void;
}

export interface DownloadStart {
  name: string;
  size: number;
  /** Where this attempt starts. */
  offset: number;
  attempt: number;
}

export interface DownloadResult {
  name: string;
  path: string;
  size: number;
  sha256: string;
  /** The state the file was found in. */
  state: PlanState;
  /** False when nothing had to be downloaded. */
  transferred: boolean;
  /** Offset of the first request: bytes that were already on disk. */
  resumedFrom: number;
  /** File bytes received over the network, over all attempts. */
  bytesReceived: number;
  attempts: number;
  /**
   * Set when a complete file was kept because the server could not be asked
   * whether it changed: why not.
   */
  unchecked?: string;
}
