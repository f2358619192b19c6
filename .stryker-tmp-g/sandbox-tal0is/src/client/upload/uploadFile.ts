// @ts-nocheck
import type { FileServiceClient } from '../../generated/filetransfer/v1/FileService.js';
import { parseUploadName } from '../../shared/names.js';
import { RateLimiter } from '../../shared/rateLimiter.js';
import type { DownloadProgress, DownloadStart } from '../download/downloadOptions.js';
import { retryOptionsOf, withRetries, type RetryNotice } from '../download/retryLoop.js';
import type { TaskRecords } from '../download/taskRecords.js';
import { InvalidNameError } from '../errors.js';
import { trace } from '../trace.js';
import { LocalSource } from './localSource.js';
import { queryUpload, uploadAttempt, type UploadTarget } from './uploadAttempt.js';
import { planUpload, preconditionOf, type UploadState } from './uploadPlan.js';

export interface UploadContext {
  client: FileServiceClient;
  secure: boolean;
  /** The upload map: records by remote name. */
  store: TaskRecords;
  retryForMs: number;
  stallTimeoutMs: number;
  /** Pacing shared by every transfer of this client, if any. */
  limiter: RateLimiter | undefined;
  serverReached?: () => boolean;
}

export interface UploadOptions {
  /** Aborting stops the upload; the server keeps what it staged, and the next run continues there. */
  signal?: AbortSignal;
  /** Bytes per second for this upload alone, instead of the client's pace. */
  limitRate?: number;
  /**
   * Replace the file the name holds only if it has this sha256 (64 hex
   * digits) or version; without it an upload only creates, unless the upload
   * map says this client published the name's current content.
   */
  replace?: string;
  /** Bytes are about to flow; `offset` is where the server's staged bytes end. */
  onStart?: (start: DownloadStart) => void;
  /** `received` counts the bytes the server holds or was sent. */
  onProgress?: (progress: DownloadProgress) => void;
  onRetry?: (notice: RetryNotice) => void;
}

export interface UploadResult {
  name: string;
  /** The local file. */
  path: string;
  size: number;
  sha256: string;
  /** The state the upload was found in. */
  state: UploadState;
  /** False when nothing had to be sent: complete already, or the server held it. */
  transferred: boolean;
  /** Bytes the server held when this run began sending. */
  resumedFrom: number;
  /** File bytes sent over the network, over all attempts. */
  bytesSent: number;
  attempts: number;
  /** The version of the published file, when the server told it in this run. */
  version?: string;
}

/**
 * Brings the local `file` to `name` on the server: decides from the upload
 * map and the file what is needed, asks the server where its staged bytes
 * end before each attempt, retries through interruptions as downloads do,
 * and records the upload complete only once the server has verified and
 * published it. A replacement keeps its "complete" record of the old
 * content until the new one is published, so an interrupted replacement
 * still knows what it replaces when it is run again.
 */
export async function uploadFile(context: UploadContext, file: string, name: string, options: UploadOptions = {}): Promise<UploadResult> {
  try {
    parseUploadName(name);
  } catch (err) {
    throw new InvalidNameError((err as Error).message, { cause: err });
  }
  const source = await LocalSource.open(file);
  try {
    return await uploadOpen(context, source, name, options);
  } finally {
    await source.close();
  }
}

async function uploadOpen(context: UploadContext, source: LocalSource, name: string, options: UploadOptions): Promise<UploadResult> {
  const { store } = context;
  await store.reload();
  const record = store.get(name);
  const plan = planUpload(record, source.identity);
  trace.plan('%s: record %s, local %s -> %j', name, record?.status ?? 'none', source.path, plan);
  const base = { name, path: source.path, size: source.size, state: plan.state, resumedFrom: 0, bytesSent: 0, attempts: 0 };
  if (plan.action === 'skip') return { ...base, sha256: record!.sha256!, transferred: false };
  const sha256 = plan.action === 'resume' ? plan.sha256 : await source.sha256(options.signal);
  const facts = { size: source.size, version: source.identity.version, sha256 };
  if (plan.state === 'changed' && sha256 === record!.sha256) {
    // Touched, copied back or restored: the same bytes are published already.
    await store.markComplete(name, facts);
    return { ...base, sha256, transferred: false };
  }
  const replaces = options.replace ?? (plan.action === 'hash' ? plan.replaces : undefined);
  const target: UploadTarget = { name, size: source.size, sha256, ...preconditionOf(replaces) };
  if (replaces === undefined) await store.markIncomplete(name, facts);

  const limiter = options.limitRate ? new RateLimiter(options.limitRate) : context.limiter;
  let offset = 0;
  let resumedFrom: number | undefined;
  let sent = 0;
  let attempts = 0;
  /**
   * Where the previous attempt began. Bytes sent are no measure of progress:
   * a server that fails every write (a full disk) still takes a window's
   * worth off the wire each time. An attempt that begins further on than
   * the one before proves that one staged bytes, so progress shows one
   * attempt late.
   */
  let previousOffset = -1;
  let progressed = false;
  const outcome = await withRetries(
    async (attempt) => {
      attempts = attempt;
      progressed = false;
      const held = await queryUpload(context.client, target, context.stallTimeoutMs, options.signal, context.secure);
      trace.plan('%s: the server holds %d of %d bytes%s', name, held.committed, target.size, held.complete ? ', complete' : '');
      resumedFrom ??= held.complete ? target.size : held.committed;
      if (held.complete) return { transferred: attempt > 1 || sent > 0, version: undefined };
      progressed = held.committed > previousOffset;
      previousOffset = offset = held.committed;
      options.onStart?.({ name, size: target.size, offset, attempt });
      let position = offset;
      try {
        const response = await uploadAttempt({
          client: context.client,
          secure: context.secure,
          target,
          source,
          offset,
          stallTimeoutMs: context.stallTimeoutMs,
          limiter,
          signal: options.signal,
          onSent: (at) => {
            position = at;
            options.onProgress?.({ name, received: at, size: target.size, attemptOffset: offset });
          },
        });
        return { transferred: true, version: response.info?.version };
      } finally {
        sent += position - offset;
      }
    },
    {
      ...retryOptionsOf(context, name, options),
      progressed: () => progressed,
      attemptOffset: () => offset,
    },
  );
  await store.markComplete(name, facts);
  return { ...base, sha256, transferred: outcome.transferred, resumedFrom: resumedFrom ?? 0, bytesSent: sent, attempts, version: outcome.version };
}
