import { status, type ClientReadableStream } from '@grpc/grpc-js';
import { createHash, type Hash } from 'node:crypto';
import { constants, createReadStream, writeSync } from 'node:fs';
import { rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Chunk__Output } from '../generated/filetransfer/v1/Chunk.js';
import type { FileServiceClient } from '../generated/filetransfer/v1/FileService.js';
import { StatusError } from '../shared/statusError.js';
import { toStatusError } from './callError.js';
import { acquireLock, lockLostError } from './fileLock.js';
import type { FolderSyncer } from './folderSync.js';
import { LocalIoError, locally } from './localIoError.js';
import { prepareOutputPaths, type OutputPaths } from './outputPaths.js';
import { openInside } from './pinnedFolder.js';
import { RateLimiter } from './rateLimiter.js';
import { remoteFileOf, type RemoteFile } from './remoteFile.js';
import { decideRetry } from './retryPolicy.js';
import { planTask, type TaskState } from './taskState.js';
import type { TaskStore } from './taskStore.js';
import { Writeback } from './writeback.js';

export interface TransferContext {
  client: FileServiceClient;
  store: TaskStore;
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
  /** Pacing shared by every download of this client, if any. */
  limiter: RateLimiter | undefined;
}

export interface DownloadProgress {
  name: string;
  /** Bytes of the file on disk so far. */
  received: number;
  size: number;
  /** Where the running attempt started. */
  attemptOffset: number;
}

export interface RetryNotice {
  name: string;
  /** The attempt that comes next, 2 for the first retry. */
  attempt: number;
  delayMs: number;
  fromZero: boolean;
  error: StatusError;
}

export interface DownloadOptions {
  /** Aborting stops the download and leaves a resumable partial. */
  signal?: AbortSignal;
  /** Bytes per second for this download alone, instead of the client's pace. */
  limitRate?: number;
  /** The server has described the file and bytes are about to flow. */
  onStart?: (start: DownloadStart) => void;
  onProgress?: (progress: DownloadProgress) => void;
  onRetry?: (notice: RetryNotice) => void;
  /** Another process is downloading the same file into the same folder; we wait for it. */
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
  state: TaskState;
  /** False when nothing had to be downloaded. */
  transferred: boolean;
  /** Offset of the first request: bytes that were already on disk. */
  resumedFrom: number;
  /** File bytes received over the network, over all attempts. */
  bytesReceived: number;
  attempts: number;
}

const HASH_BUFFER = 1 << 20;
/** From this size on, a download waits for its "complete" record (see downloadAttempt). */
const AWAIT_RECORD_BYTES = 16 * 1024 * 1024;
const PART_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW;

/**
 * Brings one remote file to `<out>/<name>`: decides from the task map and the
 * disk what is needed, resumes partials, retries through interruptions, and
 * publishes the file under its final name only once its SHA-256 matches the
 * server's.
 */
export async function downloadFile(context: TransferContext, name: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const paths = await locally('create folders for', name, () => prepareOutputPaths(context.out, name, context.reserved, context.checkedFolders));
  const lockLost = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, lockLost.signal]) : lockLost.signal;
  const lock = await acquireLock(paths.finalPath, `${paths.partPath}.lock`, {
    inside: context.out,
    signal,
    onWait: (pid) => options.onWait?.({ name, holderPid: pid }),
    onCompromised: (err) => lockLost.abort(lockLostError(name, err)),
  }).catch((err: unknown) => {
    if (signal.aborted) throw abortedError(name, signal, err);
    throw err instanceof StatusError ? err : new LocalIoError('lock', paths.finalPath, err as NodeJS.ErrnoException);
  });
  try {
    // Another process may have finished or advanced this file while we waited.
    await context.store.reload();
    return await downloadLocked(context, name, paths, { ...options, signal });
  } finally {
    await lock.release();
  }
}

export function abortedError(name: string, signal: AbortSignal, cause: unknown): StatusError {
  if (signal.reason instanceof StatusError) return signal.reason;
  return new StatusError(status.CANCELLED, `download of ${name} aborted; run again to resume`, { cause });
}

async function downloadLocked(context: TransferContext, name: string, paths: OutputPaths, options: DownloadOptions): Promise<DownloadResult> {
  const { store } = context;
  const plan = planTask({
    record: store.get(name),
    finalExists: (await sizeOf(paths.finalPath)) !== null,
    partSize: await sizeOf(paths.partPath),
  });
  const base = { name, path: paths.finalPath, state: plan.state, bytesReceived: 0, attempts: 0, resumedFrom: 0 };

  if (plan.action === 'skip') {
    const record = store.get(name)!;
    return { ...base, size: record.size, sha256: record.sha256 ?? '', transferred: false };
  }
  let offset = 0;
  let expectedVersion: string | undefined;
  if (plan.action === 'verify') {
    const remote = await statWithRetries(context, name, options);
    const local = await locally('read', paths.finalPath, () => hashFile(paths.finalPath));
    if (local.size === remote.size && local.sha256 === remote.sha256) {
      await store.markComplete(name, { size: remote.size, version: remote.version, sha256: remote.sha256 });
      return { ...base, size: remote.size, sha256: remote.sha256, transferred: false };
    }
  } else {
    offset = plan.offset;
    expectedVersion = plan.expectedVersion;
  }

  const result = { ...base, resumedFrom: offset, transferred: true };
  const limiter = options.limitRate ? new RateLimiter(options.limitRate) : context.limiter;
  let lastProgressAt = Date.now();
  let failuresWithoutProgress = 0;
  let restarts = 0;
  let digestFailures = 0;
  let carried: { length: number; hash: Hash } | undefined;
  for (;;) {
    result.attempts += 1;
    // A retry that resumes exactly where the last attempt's hash stopped
    // continues that hash instead of reading the whole partial again.
    const hash = carried?.length === offset ? carried.hash : undefined;
    const attempt: AttemptState = { number: result.attempts, received: offset, version: expectedVersion, hash };
    carried = undefined;
    try {
      options.signal?.throwIfAborted();
      const done = await downloadAttempt(context, paths, name, attempt, limiter, options);
      result.bytesReceived += attempt.received - offset;
      return { ...result, size: done.size, sha256: done.sha256 };
    } catch (err) {
      carried = carryHash(attempt);
      result.bytesReceived += attempt.received - offset;
      if (attempt.received > offset) {
        lastProgressAt = Date.now();
        failuresWithoutProgress = 0;
      }
      if (options.signal?.aborted) throw abortedError(name, options.signal, err);
      const error = toStatusError(err);
      const decision =
        error instanceof LocalIoError
          ? ({ action: 'fail' } as const)
          : decideRetry(
              error.code,
              { failuresWithoutProgress, msSinceProgress: Date.now() - lastProgressAt, restarts, digestFailures, attemptOffset: offset },
              { retryForMs: context.retryForMs },
            );
      if (decision.action === 'fail') {
        await discardEmpty(paths.partPath);
        throw error;
      }
      failuresWithoutProgress += 1;
      if (decision.reason === 'changed') restarts += 1;
      if (decision.reason === 'digest') digestFailures += 1;
      options.onRetry?.({ name, attempt: result.attempts + 1, delayMs: decision.delayMs, fromZero: decision.fromZero, error });
      await waitToRetry(name, decision.delayMs, options.signal, error);
      if (decision.fromZero) {
        offset = 0;
        expectedVersion = undefined;
      } else {
        offset = (await sizeOf(paths.partPath)) ?? 0;
        expectedVersion = offset > 0 ? attempt.version : undefined;
      }
    }
  }
}

/** The hash state of a failed attempt, if it still matches its bytes on disk. */
function carryHash(attempt: AttemptState): { length: number; hash: Hash } | undefined {
  try {
    return attempt.hash ? { length: attempt.received, hash: attempt.hash.copy() } : undefined;
  } catch {
    // Already finalised (a digest mismatch): nothing to carry.
    return undefined;
  }
}

/** Where an attempt stands; it starts from `received` bytes of `version`. */
interface AttemptState {
  number: number;
  /** Length of the partial so far. */
  received: number;
  /** Version the partial's bytes belong to, once the server told us. */
  version: string | undefined;
  /** The digest of the partial's first `received` bytes, from the last attempt. */
  hash?: Hash;
}

/** One Download call: from `offset` to the end, verified and published, or an error. */
async function downloadAttempt(
  context: TransferContext,
  paths: OutputPaths,
  name: string,
  attempt: AttemptState,
  limiter: RateLimiter | undefined,
  options: DownloadOptions,
): Promise<{ size: number; sha256: string }> {
  const { partPath, finalPath } = paths;
  const offset = attempt.received;
  const expectedVersion = attempt.version;
  // The destination is opened (and a resumed partial hashed) before the call
  // starts: a grpc-js stream that nobody reads yet buffers without limit.
  const handle = await locally('open', partPath, () => openInside(context.out, partPath, offset === 0 ? PART_FLAGS | constants.O_TRUNC : PART_FLAGS, 0o644));
  const writeback = new Writeback(handle);
  let remote: RemoteFile | undefined;
  let digest: string;
  try {
    if (offset > 0) await locally('truncate', partPath, () => handle.truncate(offset));
    let hash = attempt.hash;
    if (!hash) {
      const fresh = createHash('sha256');
      if (offset > 0) await locally('read', partPath, () => hashPrefix(handle, offset, fresh, options.signal));
      hash = fresh;
    }
    attempt.hash = hash;

    const call = context.client.download({ name, offset: String(offset), expectedVersion: expectedVersion ?? '' });
    const watch = watchCall(call, context.stallTimeoutMs, options.signal);
    let trailerDigest = '';
    try {
      for await (const message of call as AsyncIterable<Chunk__Output>) {
        watch.busy();
        if (remote === undefined) {
          if (!message.info) throw protocolError(name, 'the first message carries no file info');
          remote = remoteFileOf(message.info);
          if (remote.size < offset) throw protocolError(name, `the server offered ${remote.size} bytes, fewer than the ${offset} on disk`);
          attempt.version = remote.version;
          // Not awaited: a partial whose record never reached the disk is
          // resumed without a version and judged by its digest, so data need
          // not wait for the task map (see TaskStore.save).
          void context.store.markIncomplete(name, { size: remote.size, version: remote.version, sha256: remote.sha256 || null }).catch(() => undefined);
          options.onStart?.({ name, size: remote.size, offset, attempt: attempt.number });
        }
        if (message.data.length > 0) {
          if (message.offset !== String(attempt.received)) throw protocolError(name, `data for offset ${message.offset} arrived at ${attempt.received}`);
          if (attempt.received + message.data.length > remote.size) throw protocolError(name, 'the server sent more bytes than the file has');
          writeAll(partPath, handle, message.data, attempt.received);
          writeback.wrote(message.data.length);
          hash.update(message.data);
          attempt.received += message.data.length;
          options.onProgress?.({ name, received: attempt.received, size: remote.size, attemptOffset: offset });
          await limiter?.take(message.data.length, options.signal);
        }
        if (message.sha256 !== '') trailerDigest = message.sha256;
        watch.waiting();
      }
    } catch (err) {
      throw watch.explain(err);
    } finally {
      watch.stop();
    }
    if (remote === undefined) throw protocolError(name, 'the stream ended without file info');
    if (attempt.received !== remote.size) {
      throw new StatusError(status.UNAVAILABLE, `the stream of ${name} ended at byte ${attempt.received} of ${remote.size}`);
    }
    const expected = remote.sha256 || trailerDigest;
    if (expected === '') throw protocolError(name, 'the server sent no sha256');
    digest = hash.digest('hex');
    if (digest !== expected) {
      await unlink(partPath).catch(() => undefined);
      throw new StatusError(status.DATA_LOSS, `sha256 mismatch for ${name}: got ${digest}, the server says ${expected}; the partial was discarded`);
    }
    await locally('sync', partPath, () => writeback.finish());
  } catch (err) {
    // A background sync that failed outranks whatever ended the attempt:
    // the kernel reports a writeback error once, so a retry's fsync on a
    // new descriptor would pass over bytes that never reached the disk.
    await writeback.settled();
    if (writeback.failure !== undefined && !(err instanceof LocalIoError)) {
      throw new LocalIoError('sync', partPath, writeback.failure as NodeJS.ErrnoException);
    }
    throw err;
  } finally {
    await writeback.settled();
    await handle.close().catch(() => undefined);
  }
  // Whoever took over a lost lock may be writing this partial now.
  options.signal?.throwIfAborted();
  await locally('publish', finalPath, async () => {
    await rename(partPath, finalPath);
    await context.folderSyncer.sync(path.dirname(finalPath));
  });
  // Not awaited for small files: a published file whose record was lost in
  // a crash is verified against the server's digest and kept (state
  // "unverified"), which costs little. For a large one that check is a full
  // hash, which another process waiting on our lock would pay if it found
  // no record: the lock is released only once the record is on disk.
  const recorded = context.store.markComplete(name, { size: remote.size, version: remote.version, sha256: digest }).catch(() => undefined);
  if (remote.size >= AWAIT_RECORD_BYTES) await recorded;
  return { size: remote.size, sha256: digest };
}

/**
 * Cancels a call that has waited `stallMs` for its next message (a silent
 * dead connection) or whose signal aborts, and explains the resulting
 * CANCELLED error. Time spent writing or pacing does not count as a stall.
 */
function watchCall(call: ClientReadableStream<unknown>, stallMs: number, signal: AbortSignal | undefined) {
  let stalled = false;
  let busy = false;
  // One timer for the whole call, restarted per message rather than
  // replaced: this runs once per chunk.
  const timer = setTimeout(() => {
    if (busy) return;
    stalled = true;
    call.cancel();
  }, stallMs);
  const onAbort = () => call.cancel();
  // A listener added to an already aborted signal never fires.
  if (signal?.aborted) call.cancel();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    waiting: () => {
      busy = false;
      timer.refresh();
    },
    busy: () => {
      busy = true;
    },
    stop: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
    explain: (err: unknown): unknown => {
      if (stalled) return new StatusError(status.UNAVAILABLE, `no data from the server for ${stallMs / 1000}s`, { cause: err });
      // Always: breaking out of the loop does not end a grpc-js call, and our
      // own errors (a full disk, a protocol error) would leave the server
      // streaming into a call nobody reads. Harmless on an ended call.
      call.cancel();
      return err;
    },
  };
}

function protocolError(name: string, what: string): StatusError {
  return new StatusError(status.DATA_LOSS, `the server's stream of ${name} is inconsistent: ${what}`);
}

/**
 * Stat for the "unverified" check, retried like a download: a server that
 * is briefly away should not fail a file that a download would have waited
 * for.
 */
async function statWithRetries(context: TransferContext, name: string, options: DownloadOptions): Promise<RemoteFile> {
  const started = Date.now();
  for (let failures = 0; ; failures += 1) {
    try {
      options.signal?.throwIfAborted();
      return await statRemote(context.client, name, options.signal);
    } catch (err) {
      if (options.signal?.aborted) throw abortedError(name, options.signal, err);
      const error = toStatusError(err);
      const decision = decideRetry(
        error.code,
        { failuresWithoutProgress: failures, msSinceProgress: Date.now() - started, restarts: 0, digestFailures: 0, attemptOffset: 0 },
        { retryForMs: context.retryForMs },
      );
      if (decision.action === 'fail') throw error;
      options.onRetry?.({ name, attempt: failures + 2, delayMs: decision.delayMs, fromZero: false, error });
      await waitToRetry(name, decision.delayMs, options.signal, error);
    }
  }
}

/** Sleeps before a retry; an abort ends the wait, and the download. */
async function waitToRetry(name: string, delayMs: number, signal: AbortSignal | undefined, error: StatusError): Promise<void> {
  await sleep(delayMs, undefined, signal ? { signal } : {}).catch(() => undefined);
  if (signal?.aborted) throw abortedError(name, signal, error);
}

export function statRemote(client: FileServiceClient, name: string, signal?: AbortSignal): Promise<RemoteFile> {
  return new Promise((resolve, reject) => {
    // Removed once the call settles: callers pass one signal to many calls.
    const onAbort = () => call.cancel();
    const call = client.stat({ name }, (err, info) => {
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(toStatusError(err));
      else resolve(remoteFileOf(info!));
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Synchronous on purpose: a chunk's write into the page cache takes less
 * time than its hash, which blocks the event loop anyway, and a hop through
 * the libuv threadpool per chunk cost more CPU than the write itself
 * (measured: 1 GiB took 3.6-4.1 s with awaited writes, 2.7-3.6 s without).
 */
function writeAll(partPath: string, handle: FileHandle, data: Buffer, position: number): void {
  let written = 0;
  try {
    while (written < data.length) written += writeSync(handle.fd, data, written, data.length - written, position + written);
  } catch (err) {
    throw new LocalIoError('write', partPath, err as NodeJS.ErrnoException);
  }
}

async function hashPrefix(handle: FileHandle, length: number, hash: Hash, signal?: AbortSignal): Promise<void> {
  const buffer = Buffer.allocUnsafe(HASH_BUFFER);
  let position = 0;
  while (position < length) {
    signal?.throwIfAborted();
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - position), position);
    if (bytesRead === 0) throw new Error('the partial shrank while it was being read');
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}

export async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: HASH_BUFFER }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** A failed first attempt leaves an empty partial: litter, not progress. */
async function discardEmpty(partPath: string): Promise<void> {
  if ((await sizeOf(partPath)) === 0) await unlink(partPath).catch(() => undefined);
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    const info = await stat(file);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}
