import { status, type ClientReadableStream } from '@grpc/grpc-js';
import type { Chunk__Output } from '../../generated/filetransfer/v1/Chunk.js';
import type { ChunkBatch__Output } from '../../generated/filetransfer/v1/ChunkBatch.js';
import { ClientError, RemoteStatusError } from '../errors.js';
import PQueue from 'p-queue';
import { prepareOutputPaths, type OutputPaths } from '../outputPaths.js';
import type { ListedFile, RemoteFile } from '../remoteFile.js';
import { methodIsMissing } from '../connection/missingMethod.js';
import { watchCall } from '../download/callWatch.js';
import { readOneAhead } from '../../shared/readOneAhead.js';
import { receiveBuffers } from '../../shared/receiveBuffers.js';
import { CommitWindow, type WritingFile } from './commitWindow.js';
import type { DownloadContext } from '../download/downloadOptions.js';
import { ManyFrames } from './manyFrames.js';
import { retryOptionsOf, withRetries, type RetryNotice } from '../download/retryLoop.js';

/** One small file to fetch whole: where the listing said it is and where it goes. */
interface ManyItem {
  remote: ListedFile;
  paths: OutputPaths;
}

/**
 * How one file of a DownloadMany stream ended:
 * - ok: verified, published and recorded;
 * - vanished: the server no longer has it (removed since it was listed);
 * - handOver: worth a Download of its own, which retries and resumes (it
 *   changed while the server read it, or its digest did not match);
 * - failed: anything else, for the user to see.
 */
export type ManyOutcome =
  | { name: string; result: 'ok'; remote: RemoteFile; sha256: string }
  | { name: string; result: 'vanished' }
  | { name: string; result: 'handOver'; error: ClientError }
  | { name: string; result: 'failed'; error: ClientError };

interface FetchManyOptions {
  signal: AbortSignal | undefined;
  onOutcome: (outcome: ManyOutcome) => void;
  /** File bytes received (before they are committed). */
  onBytes?: (bytes: number) => void;
  onRetry?: (notice: RetryNotice) => void;
}

/**
 * Fetches small files whole, many per call (DownloadManyBatches, or
 * DownloadMany from an older server), and commits them
 * in windows (see CommitWindow). A call that breaks is retried like a
 * download (same policy, same outages waited out) for the files it had
 * not finished; files already verified are kept. Throws, once the policy
 * gives up, for every file not settled yet.
 */
async function fetchMany(context: DownloadContext, label: string, items: readonly ManyItem[], options: FetchManyOptions): Promise<void> {
  const byName = new Map(items.map((item) => [item.remote.name, item]));
  const window = new CommitWindow(context.out, context.store, context.inMemory ? undefined : context.folderSyncer, (committed) =>
    options.onOutcome(
      committed.ok
        ? { name: committed.name, result: 'ok', remote: committed.remote, sha256: committed.sha256 }
        : { name: committed.name, result: 'failed', error: committed.error },
    ),
  );
  let remaining: readonly string[] = items.map((item) => item.remote.name);
  let progressed = false;
  try {
    await withRetries(
      async () => {
        progressed = false;
        const frames = new ManyFrames(remaining);
        try {
          await streamOnce(context, frames, remaining, byName, window, options, () => (progressed = true));
        } finally {
          remaining = frames.remaining;
        }
      },
      {
        ...retryOptionsOf(context, label, options),
        progressed: () => progressed,
      },
    );
  } finally {
    await window.drain();
  }
}

/** Files up to this size come whole in DownloadMany streams; larger ones by Download, which resumes. */
export const SMALL_FILE_BYTES = 1024 * 1024;
/** Per DownloadMany call: a broken call re-asks for what it had not finished, so this bounds nothing lost, only the request's size. */
export const BATCH_LIMITS = { maxFiles: 1000, maxBytes: 64 * 1024 * 1024 };
/** DownloadMany calls at once: one reads files on the server while the other's are written here. */
const PARALLEL_BATCHES = 2;

export interface InBatchesOptions extends Omit<FetchManyOptions, 'onOutcome'> {
  /** A batch's name in retry notices, from its number of files. */
  label: (files: number) => string;
  /** How a file that a call brought ended. */
  onOutcome: (outcome: ManyOutcome) => void;
  /** A file no call settled: its paths could not be made, its batch failed for good, or the batches were aborted before it. */
  onFailed: (remote: ListedFile, err: unknown) => void;
}

/**
 * Fetches `batches` (see batchesOf), PARALLEL_BATCHES calls at once: each
 * file ends in `onOutcome` or `onFailed`. Takes the array over, emptying
 * each batch as it is queued, and queues them as the queue runs short, not
 * all at once: p-queue keeps the tasks it ran until its queue empties, and
 * with them every file of every batch done (measured: 98,000 listed files
 * still held near the end of a 100,000-file mirror). A file's paths are
 * made only when its batch starts: held for a whole tree, they would be two
 * more strings per file.
 */
export async function fetchInBatches(context: DownloadContext, batches: ListedFile[][], options: InBatchesOptions): Promise<void> {
  const { signal, onFailed } = options;
  const queue = new PQueue({ concurrency: PARALLEL_BATCHES });
  for (let next = 0; next < batches.length; next += 1) {
    const files = batches[next]!;
    batches[next] = [];
    await queue.onSizeLessThan(1);
    void queue.add(async () => {
      // A batch waiting behind the running ones starts even after an abort.
      if (signal?.aborted) {
        for (const remote of files) onFailed(remote, signal.reason);
        return;
      }
      const chosen: ManyItem[] = [];
      for (const remote of files) {
        try {
          chosen.push({ remote, paths: await prepareOutputPaths(context.out, remote.name, context.reserved, context.checkedFolders) });
        } catch (err) {
          onFailed(remote, err);
        }
      }
      if (chosen.length === 0) return;
      const settled = new Set<string>();
      try {
        await fetchMany(context, options.label(chosen.length), chosen, {
          ...options,
          onOutcome: (outcome) => {
            settled.add(outcome.name);
            options.onOutcome(outcome);
          },
        });
      } catch (err) {
        for (const item of chosen) if (!settled.has(item.remote.name)) onFailed(item.remote, err);
      }
    });
  }
  await queue.onIdle();
}

/** The method that packs many files' Chunks into each message, and the one every server of the contract has. */
const BATCHED = 'DownloadManyBatches';

/**
 * One call for `names`: DownloadManyBatches, or DownloadMany from a server
 * without it (UNIMPLEMENTED before any message), asked directly from then on.
 */
async function streamOnce(
  context: DownloadContext,
  frames: ManyFrames,
  names: readonly string[],
  byName: ReadonlyMap<string, ManyItem>,
  window: CommitWindow,
  options: FetchManyOptions,
  onFileDone: () => void,
): Promise<void> {
  const request = { names: [...names], prefix: '' };
  const read = <T>(call: ClientReadableStream<T>, chunksOf: (message: T) => readonly Chunk__Output[]) =>
    readCall(context, call, chunksOf, frames, byName, window, options, onFileDone);
  if (!context.missingMethods.has(BATCHED)) {
    let received = false;
    try {
      await read(context.client.downloadManyBatches(request), (batch: ChunkBatch__Output) => {
        received = true;
        return batch.chunks;
      });
      return;
    } catch (err) {
      if (!methodIsMissing(err, received, options.signal?.aborted ?? false)) throw err;
      context.missingMethods.add(BATCHED);
    }
  }
  await read(context.client.downloadMany(request), (chunk: Chunk__Output) => [chunk]);
}

/** Reads a call's messages, the Chunks of each given by `chunksOf`, writing and committing the files they frame. */
async function readCall<T>(
  context: DownloadContext,
  call: ClientReadableStream<T>,
  chunksOf: (message: T) => readonly Chunk__Output[],
  frames: ManyFrames,
  byName: ReadonlyMap<string, ManyItem>,
  window: CommitWindow,
  options: FetchManyOptions,
  onFileDone: () => void,
): Promise<void> {
  if (context.limiter) readOneAhead(call);
  const watch = watchCall(call, context.stallTimeoutMs, options.signal);
  let writing: (WritingFile & { end(sha256: string): ClientError | undefined; drop(): void }) | undefined;
  try {
    for await (const message of call as AsyncIterable<T>) {
      watch.busy();
      const chunks = chunksOf(message);
      for (const chunk of chunks) {
        for (const event of frames.read(chunk)) {
          if (event.type === 'begin') {
            const item = byName.get(event.remote.name)!;
            writing = await window.begin(item.paths, sharingStrings(event.remote, item.remote));
          } else if (event.type === 'data') {
            writing!.write(event.data);
            options.onBytes?.(event.data.length);
            await context.limiter?.take(event.data.length, options.signal);
          } else if (event.type === 'end') {
            const mismatch = writing!.end(event.sha256);
            writing = undefined;
            onFileDone();
            if (mismatch) options.onOutcome({ name: event.name, result: 'handOver', error: mismatch });
          } else {
            writing?.drop();
            writing = undefined;
            onFileDone();
            options.onOutcome(outcomeOfFailure(event.name, event.code, event.message));
          }
        }
      }
      // Every file the message framed is written and hashed whole, so its
      // buffer (any chunk's data is a view of it) can take the next message:
      // a batch of small files is large enough to come from the pool.
      const data = writing ? undefined : chunks.find((chunk) => chunk.data.length > 0)?.data;
      if (data) receiveBuffers.give(data);
      await window.commitIfDue();
      watch.waiting();
    }
    frames.finish();
  } catch (err) {
    writing?.drop();
    throw watch.explain(err, context.secure);
  } finally {
    watch.stop();
  }
}

/**
 * `remote` with the name and version strings of its listing where they are
 * equal: the record made of it then holds no strings of its own, 80 bytes
 * less per file of a tree held in memory.
 */
function sharingStrings(remote: RemoteFile, listed: ListedFile): RemoteFile {
  return { ...remote, name: listed.name, version: remote.version === listed.version ? listed.version : remote.version };
}

/** A file the server could not send: gone, worth a Download of its own, or a failure. */
export function outcomeOfFailure(name: string, code: number, message: string): ManyOutcome {
  if (code === status.NOT_FOUND) return { name, result: 'vanished' };
  const error = new RemoteStatusError(code, message);
  return code === status.ABORTED ? { name, result: 'handOver', error } : { name, result: 'failed', error };
}
