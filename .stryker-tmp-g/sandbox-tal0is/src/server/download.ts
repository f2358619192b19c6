// @ts-nocheck
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
import { rangeOf, resumeVerdict } from './resumeCheck.js';
import { openServedFile, type ServedFile } from './servedFile.js';
import { untilAborted } from '../shared/untilAborted.js';
import { withHeartbeat } from './waiting.js';
import type { RateLimiter } from '../shared/rateLimiter.js';
import type { StreamBudget } from './streamBudget.js';
import type { DescriptorBudget } from './limits.js';

export interface DownloadContext {
  root: string;
  digests: DigestCache;
  /** Read buffers shared by all streams, CHUNK_HEADER_ROOM plus a chunk each. */
  pool: BufferPool;
  /** How many chunks this stream may have waiting in grpc-js and read ahead. */
  budget: StreamBudget;
  /** Descriptors open for calls; the stream holds one while it runs. */
  files: DescriptorBudget;
  /** Paces the file data of every call together (--limit-rate). */
  limiter: RateLimiter | undefined;
}

export interface DownloadOutcome {
  offset: string;
  /** Only when the request set one. */
  limit?: string;
  bytesSent: number;
}

/** Parses a requested offset or limit; int64 arrives as an exact decimal string. */
function parseCount(raw: string, what: 'offset' | 'limit'): bigint {
  let value: bigint;
  try {
    value = BigInt(raw || '0');
  } catch {
    throw new StatusError(status.INVALID_ARGUMENT, `invalid ${what} ${JSON.stringify(raw)}`);
  }
  if (value < 0n) throw new StatusError(status.INVALID_ARGUMENT, `invalid ${what} ${value}: must not be negative`);
  return value;
}

/**
 * Streams one file from the requested offset, to its end or for the
 * requested limit. The first message carries the file's info; data follows
 * in chunks; the last message carries the digest when the first could not
 * (and the range may have it). Everything is read from one descriptor, so a
 * file renamed over ours mid-stream is never spliced in, and an in-place
 * write is detected (ABORTED) before the call ends successfully.
 */
export async function streamDownload(
  call: ServerWritableStream<DownloadRequest__Output, Chunk | WireChunk>,
  context: DownloadContext,
  signal: AbortSignal,
  outcome: DownloadOutcome,
): Promise<void> {
  const offset = parseCount(call.request.offset, 'offset');
  const limit = parseCount(call.request.limit, 'limit');
  outcome.offset = offset.toString();
  if (limit > 0n) outcome.limit = limit.toString();
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
    const { end, partial } = rangeOf(offset, limit, size);
    // Asked before the first message, so a full hash queue fails the call
    // before it sends anything.
    const prefixDigest = verdict.action === 'hash-prefix' ? context.digests.digestOfPrefix(file, offset, signal) : undefined;
    prefixDigest?.catch(() => undefined);
    // The whole file from offset 0: its digests are computed on the bytes
    // we send anyway. From elsewhere the whole digest needs a read of the
    // whole file, done beside the stream, unless the range is partial.
    const whole = offset === 0n && end === size;
    const inline: Hash | undefined = known === undefined && whole ? createHash('sha256') : undefined;
    const blocks = whole ? context.digests.blockHasherFor(file) : undefined;
    const startFullDigest = () => {
      if (known !== undefined || inline !== undefined || partial) return;
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
    const { pool, limiter } = context;
    const chunks = readRange(file.handle, { start: offset, end, pool, readAhead: () => context.budget.readAhead(), headroom: CHUNK_HEADER_ROOM });
    for await (const { position, data, frame } of chunks) {
      inline?.update(data);
      blocks?.update(data);
      await limiter?.take(data.length, signal);
      // grpc-js has copied the message into its own frame by the time it
      // calls back, so the buffer can take the next read.
      await writer.write(sealChunk(frame, Number(position), data.length), () => pool.give(frame));
      outcome.bytesSent += data.length;
    }
    await assertUnchanged(file);
    if (known === undefined && !partial) {
      const digest = inline ? inline.digest('hex') : await withHeartbeat(untilAborted(fullDigest!, signal), () => writer.write({ offset: size.toString() }));
      if (inline) context.digests.remember(file.version, digest, blocks?.digest());
      await writer.write({ offset: size.toString(), sha256: digest });
    } else if (known !== undefined && blocks) {
      context.digests.remember(file.version, known, blocks.digest());
    }
  } finally {
    leave();
    await closeQuietly(file);
    release();
  }
}

const otherContent = (name: string) =>
  new StatusError(status.FAILED_PRECONDITION, `${name} has other content than your partial; download it again from offset 0`);

async function closeQuietly(file: ServedFile): Promise<void> {
  await file.handle.close().catch(() => undefined);
}
