import { status } from '@grpc/grpc-js';
import { unlinkSync } from 'node:fs';
import { regularFileSizeSync } from '../localFile.js';
import PQueue from 'p-queue';
import { ClientError, InvalidNameError, LocalIoError, RemoteStatusError, toClientError } from '../errors.js';
import { outputPathsOf } from '../outputPaths.js';
import type { ListedFile, RemoteFile } from '../remoteFile.js';
import { downloadFile } from '../download/downloadFile.js';
import type { DownloadContext, DownloadResult } from '../download/downloadOptions.js';
import { BATCH_LIMITS, fetchInBatches, SMALL_FILE_BYTES, type ManyOutcome } from './fetchMany.js';
import { batchesOf, folderPrefixOf, mayBeUnchanged, mirrorActionOf, orphanActionOf, orphansOf } from './mirrorPlan.js';
import { abortedError, type RetryNotice } from '../download/retryLoop.js';

export interface MirrorContext extends DownloadContext {
  /** Hands each listed file to `take` as the listing arrives. */
  list(prefix: string, take: (file: ListedFile) => void, signal?: AbortSignal): Promise<void>;
  stat(name: string, signal?: AbortSignal): Promise<RemoteFile>;
  /** Drops records of files that are gone. */
  forget(name: string): Promise<unknown>;
  /** The name of every record of the task map, in any order. */
  names(): string[];
}

export interface MirrorOptions {
  /**
   * Also remove local files under the folder that this client fetched and
   * the server no longer lists; false by default. A file the task map does
   * not know, or one changed since it was fetched, is never removed.
   */
  delete?: boolean;
  /** Large files (one Download call each) at once; 5 by default. */
  concurrency?: number;
  /** Aborting stops every transfer; what was verified is kept, the rest resumes next time. */
  signal?: AbortSignal;
  /** The tree as a whole: called as files settle and bytes arrive. */
  onProgress?: (progress: TreeProgress) => void;
  /** Each file that was fetched, failed, vanished or was removed. */
  onFile?: (event: MirrorFileEvent) => void;
  onRetry?: (notice: RetryNotice) => void;
}

export interface TreeProgress {
  /** Files and bytes this run fetches (the plan's, grown by files handed over). */
  files: number;
  bytes: number;
  filesDone: number;
  bytesReceived: number;
}

export type MirrorFileEvent =
  | { name: string; result: 'fetched'; size: number; sha256: string }
  | { name: string; result: 'failed'; error: ClientError }
  | { name: string; result: 'vanished' }
  | { name: string; result: 'deleted' }
  | { name: string; result: 'kept'; reason: string };

export interface MirrorResult {
  /** The server folder mirrored, as a prefix ('' for the whole root). */
  prefix: string;
  /** Files the server listed under it. */
  listed: number;
  fetched: number;
  unchanged: number;
  bytesReceived: number;
  /** Listed, then gone from the server before they could be fetched. */
  vanished: string[];
  /** Local files removed by `delete`. */
  deleted: string[];
  /** Local files the server no longer has, left in place: all of them without `delete`. */
  leftInPlace: string[];
  failed: { name: string; error: ClientError }[];
}

/**
 * Brings the local copy of a server folder up to date: one List call,
 * then, from the task map and the sizes on disk, only what is new or
 * changed is fetched — small files many per DownloadMany call, large ones
 * by Download with resume. A failed file does not stop the others.
 */
export async function mirrorTree(context: MirrorContext, argument: string, options: MirrorOptions = {}): Promise<MirrorResult> {
  // The last commit window's records are written after its files are
  // published (see commitWindow.ts): a caller that exits once this settles
  // must find them on disk, or its next run fetches those files again.
  let result: MirrorResult;
  try {
    result = await mirrorUnflushed(context, argument, options);
  } catch (err) {
    // What failed is the news; a map that cannot be written now says so on the next call.
    await context.store.flushed().catch(() => undefined);
    throw err;
  }
  await context.store.flushed();
  return result;
}

async function mirrorUnflushed(context: MirrorContext, argument: string, options: MirrorOptions): Promise<MirrorResult> {
  const { signal } = options;
  const prefix = folderPrefixOf(argument);
  // Before the listing: the plan is made as the listing arrives.
  await context.store.reload();

  const result: MirrorResult = {
    prefix,
    listed: 0,
    fetched: 0,
    unchanged: 0,
    bytesReceived: 0,
    vanished: [],
    deleted: [],
    leftInPlace: [],
    failed: [],
  };
  const progress: TreeProgress = { files: 0, bytes: 0, filesDone: 0, bytesReceived: 0 };
  const tell = () => options.onProgress?.({ ...progress });
  const fail = (name: string, err: unknown) => {
    const error = toClientError(err, context);
    result.failed.push({ name, error });
    progress.filesDone += 1;
    options.onFile?.({ name, result: 'failed', error });
    tell();
  };

  const listed: string[] = [];
  const batch: ListedFile[] = [];
  const single: ListedFile[] = [];
  const plan = (remote: ListedFile) => {
    listed.push(remote.name);
    const record = context.store.get(remote.name);
    const finalSize = mayBeUnchanged(remote, record) ? regularFileSizeSync(outputPathsOf(context.out, remote.name).finalPath) : null;
    const action = mirrorActionOf(remote, record, finalSize, SMALL_FILE_BYTES);
    if (action === 'unchanged') {
      result.unchanged += 1;
      return;
    }
    progress.files += 1;
    progress.bytes += remote.size;
    (action === 'single' ? single : batch).push(remote);
  };
  await context.list(prefix, plan, signal);
  result.listed = listed.length;
  if (listed.length === 0) throw await emptyFolderError(context, prefix, argument, signal);
  tell();

  const singles = new PQueue({ concurrency: options.concurrency ?? 5 });
  const fetchSingle = (name: string) =>
    void singles.add(async () => {
      let received = 0;
      try {
        const done: DownloadResult = await downloadFile(context, name, {
          signal,
          onRetry: options.onRetry,
          onProgress: ({ received: onDisk, attemptOffset }) => {
            const now = onDisk - attemptOffset;
            progress.bytesReceived += Math.max(0, now - received);
            received = now;
            tell();
          },
        });
        // A resumed attempt counts from its own offset: add what the
        // others received before it.
        progress.bytesReceived += Math.max(0, done.bytesReceived - received);
        result.bytesReceived += done.bytesReceived;
        result.fetched += done.transferred ? 1 : 0;
        result.unchanged += done.transferred ? 0 : 1;
        progress.filesDone += 1;
        options.onFile?.({ name, result: 'fetched', size: done.size, sha256: done.sha256 });
        tell();
      } catch (err) {
        if (!signal?.aborted) fail(name, err);
      }
    });
  for (const remote of single) fetchSingle(remote.name);
  single.length = 0;

  const onOutcome = (outcome: ManyOutcome) => {
    if (outcome.result === 'handOver') {
      fetchSingle(outcome.name);
      return;
    }
    if (outcome.result === 'failed') {
      fail(outcome.name, outcome.error);
      return;
    }
    progress.filesDone += 1;
    if (outcome.result === 'vanished') {
      result.vanished.push(outcome.name);
      options.onFile?.({ name: outcome.name, result: 'vanished' });
    } else {
      result.fetched += 1;
      result.bytesReceived += outcome.remote.size;
      options.onFile?.({ name: outcome.name, result: 'fetched', size: outcome.remote.size, sha256: outcome.sha256 });
    }
    tell();
  };
  const pending = batchesOf(batch, (remote) => remote.size, BATCH_LIMITS);
  // From here the pending batches alone hold their files: 100,000 listed
  // files are 5 MB.
  batch.length = 0;
  await fetchInBatches(context, pending, {
    signal,
    label: (files) => `${prefix || '/'} (${files} files)`,
    onRetry: options.onRetry,
    onBytes: (bytes) => {
      progress.bytesReceived += bytes;
      tell();
    },
    onOutcome,
    onFailed: (remote, err) => {
      // After an abort the mirror fails as a whole, below.
      if (!signal?.aborted) fail(remote.name, err);
    },
  });
  await singles.onIdle();
  if (signal?.aborted) throw abortedError(prefix, signal, signal.reason);

  for (const name of orphansIn(context, listed, prefix)) {
    const record = context.store.get(name);
    if (!record) continue;
    const paths = outputPathsOf(context.out, record.name);
    const finalSize = regularFileSizeSync(paths.finalPath);
    const action = orphanActionOf(record, finalSize);
    if (!options.delete || action === 'keep-changed') {
      if (finalSize !== null) result.leftInPlace.push(record.name);
      if (options.delete) options.onFile?.({ name: record.name, result: 'kept', reason: 'changed here since it was fetched' });
      continue;
    }
    if (action === 'remove') {
      try {
        removeIfPresent(paths.finalPath);
        removeIfPresent(paths.partPath);
      } catch (err) {
        fail(record.name, err);
        continue;
      }
      result.deleted.push(record.name);
      options.onFile?.({ name: record.name, result: 'deleted' });
    }
    await context.forget(record.name);
  }
  return result;
}

/**
 * Recorded names under `prefix` that were not `listed`. Counted first: a
 * run that leaves none, as most do, never builds a set of every listed
 * name (6 MB at 100,000 files, at the end of the run, when memory peaks).
 */
function orphansIn(context: MirrorContext, listed: readonly string[], prefix: string): string[] {
  const recorded = context.names().filter((name) => name.startsWith(prefix));
  let listedRecorded = 0;
  for (const name of listed) if (context.store.get(name) !== undefined) listedRecorded += 1;
  return recorded.length > listedRecorded ? orphansOf(recorded, new Set(listed), prefix) : [];
}

/** Why a folder listed nothing: it is a file, or there is nothing there. */
async function emptyFolderError(context: MirrorContext, prefix: string, argument: string, signal: AbortSignal | undefined): Promise<ClientError> {
  if (prefix !== '') {
    const asFile = await context.stat(prefix.slice(0, -1), signal).catch((err: unknown) => {
      if (err instanceof ClientError && err.code === status.NOT_FOUND) return undefined;
      throw err;
    });
    if (asFile) return new InvalidNameError(`${asFile.name} is a file on the server, not a folder: get it without -r`);
  }
  return new RemoteStatusError(status.NOT_FOUND, prefix === '' ? 'nothing on the server' : `nothing under ${argument} on the server`);
}

function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new LocalIoError('remove', file, err as NodeJS.ErrnoException);
  }
}
