import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { createHash, type Hash } from 'node:crypto';
import type { Chunk } from '../generated/filetransfer/v1/Chunk.js';
import type { DownloadRequest__Output } from '../generated/filetransfer/v1/DownloadRequest.js';
import { CHUNK_HEADER_ROOM, sealChunk, type WireChunk } from '../shared/chunkCodec.js';
import { StatusError } from '../shared/statusError.js';
import { BoundedWriter } from './boundedWriter.js';
import type { BufferPool } from './bufferPool.js';
import { assertUnchanged, type DigestCache } from './digestCache.js';
import { fileInfoOf } from './fileInfo.js';
import { readRange } from './readRange.js';
import { resumeVerdict } from './resumeCheck.js';
import { openServedFile, type ServedFile } from './servedFile.js';
import type { StreamBudget } from './streamBudget.js';
import type { DescriptorBudget } from './limits.js';

// Per stream, at most the budget's share of chunks (8 when alone: fewer
// starved the socket between write callbacks) wait in grpc-js and READ_AHEAD
// more are being read: with 256 KiB chunks, about 3 MiB however slow the
// reader.
const READ_AHEAD = 3;
const HEARTBEAT_MS = 5000;

export interface DownloadContext {
  root: string;
  digests: DigestCache;
  /** Read buffers shared by all streams, CHUNK_HEADER_ROOM plus a chunk each. */
  pool: BufferPool;
  /** How many chunks this stream may have waiting in grpc-js. */
  budget: StreamBudget;
  /** Descriptors open for calls; the stream holds one while it runs. */
  files: DescriptorBudget;
}

export interface DownloadOutcome {
  offset: string;
  bytesSent: number;
}

/** Parses the requested offset; int64 arrives as an exact decimal string. */
function parseOffset(raw: string): bigint {
  let offset: bigint;
  try {
    offset = BigInt(raw || '0');
  } catch {
    throw new StatusError(status.INVALID_ARGUMENT, `invalid offset ${JSON.stringify(raw)}`);
  }
  if (offset < 0n) throw new StatusError(status.INVALID_ARGUMENT, `invalid offset ${offset}: must not be negative`);
  return offset;
}

/**
 * Streams one file from the requested offset. The first message carries the
 * file's info; data follows in chunks; the last message carries the digest
 * when the first could not. Everything is read from one descriptor, so a
 * file renamed over ours mid-stream is never spliced in, and an in-place
 * write is detected (ABORTED) before the call ends successfully.
 */
export async function streamDownload(
  call: ServerWritableStream<DownloadRequest__Output, Chunk | WireChunk>,
  context: DownloadContext,
  signal: AbortSignal,
  outcome: DownloadOutcome,
): Promise<void> {
  const offset = parseOffset(call.request.offset);
  outcome.offset = offset.toString();
  const release = context.files.take();
  const file = await openServedFile(context.root, call.request.name).catch((err: unknown) => {
    release();
    throw err;
  });
  const leave = context.budget.join();
  let fullDigest: Promise<string> | undefined;
  try {
    const { expectedVersion, prefixSha256, expectedSha256 } = call.request;
    const known = context.digests.known(file.version);
    const verdict = resumeVerdict({ offset, expectedVersion, prefixSha256, expectedSha256 }, { version: file.version, digest: known });
    if (verdict.action === 'refuse') {
      throw verdict.why === 'changed'
        ? new StatusError(status.FAILED_PRECONDITION, `${file.name} changed since version ${expectedVersion}; download it again from offset 0`)
        : otherContent(file.name);
    }
    const size = file.stat.size;
    if (offset > size) {
      throw new StatusError(status.OUT_OF_RANGE, `offset ${offset} is past the end of ${file.name} (${size} bytes)`);
    }
    // Asked before the first message, so a full hash queue fails the call
    // before it sends anything.
    const prefixDigest = verdict.action === 'hash-prefix' ? context.digests.digestOfPrefix(file, offset, signal) : undefined;
    prefixDigest?.catch(() => undefined);
    // From offset 0 the digest is computed on the bytes we send anyway; from
    // elsewhere it needs a read of the whole file, done beside the stream.
    const inline: Hash | undefined = known === undefined && offset === 0n ? createHash('sha256') : undefined;
    const startFullDigest = () => {
      if (known !== undefined || inline !== undefined) return;
      fullDigest = context.digests.digestOf(file, signal);
      // Awaited only after the data is sent; a failure before then must not
      // count as unhandled (which would end the process).
      fullDigest.catch(() => undefined);
    };
    // Only once the prefix matched: a refused resume needs no whole hash.
    if (!prefixDigest) startFullDigest();

    const writer = new BoundedWriter(call, signal, () => context.budget.share());
    await writer.write({ offset: offset.toString(), info: fileInfoOf(file, known ?? '') });
    if (prefixDigest) {
      // The info went first so that heartbeats can keep the client's stall
      // timer from firing while the prefix waits for its turn and is read.
      const digest = await withHeartbeat(untilAborted(prefixDigest, signal), () => writer.write({ offset: offset.toString() }));
      if (digest !== prefixSha256) throw otherContent(file.name);
      startFullDigest();
    }
    const { pool } = context;
    const chunks = readRange(file.handle, { start: offset, end: size, pool, readAhead: READ_AHEAD, headroom: CHUNK_HEADER_ROOM });
    for await (const { position, data, frame } of chunks) {
      inline?.update(data);
      // grpc-js has copied the message into its own frame by the time it
      // calls back, so the buffer can take the next read.
      await writer.write(sealChunk(frame, Number(position), data.length), () => pool.give(frame));
      outcome.bytesSent += data.length;
    }
    await assertUnchanged(file);
    if (known === undefined) {
      const digest = inline ? inline.digest('hex') : await withHeartbeat(untilAborted(fullDigest!, signal), () => writer.write({ offset: size.toString() }));
      if (inline) context.digests.remember(file.version, digest);
      await writer.write({ offset: size.toString(), sha256: digest });
    }
  } finally {
    leave();
    await closeQuietly(file);
    release();
  }
}

const otherContent = (name: string) =>
  new StatusError(status.FAILED_PRECONDITION, `${name} has other content than your partial; download it again from offset 0`);

/**
 * Sends an empty message every HEARTBEAT_MS until `work` settles: hashing a
 * large file after a resume can take longer than a client waits for data
 * before it calls the stream stalled.
 */
async function withHeartbeat<T>(work: Promise<T>, beat: () => Promise<void>): Promise<T> {
  const done = work.then(() => true);
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const tick = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), HEARTBEAT_MS)));
    const finished = await Promise.race([done, tick]).finally(() => clearTimeout(timer));
    if (finished) return work;
    await beat();
  }
}

/**
 * A cancelled call stops waiting for the digest; a hash under way goes on
 * and is cached (one still waiting for a turn is dropped if nobody else
 * wants it).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function closeQuietly(file: ServedFile): Promise<void> {
  await file.handle.close().catch(() => undefined);
}
