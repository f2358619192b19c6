// @ts-nocheck
import { status } from '@grpc/grpc-js';
import type { FileHandle } from 'node:fs/promises';
import { StatusError } from '../shared/statusError.js';
import type { BufferPool } from './bufferPool.js';

export interface RangeOptions {
  start: bigint;
  /** Exclusive. */
  end: bigint;
  /** Chunks are read into buffers of this pool; its size bounds a chunk. */
  pool: BufferPool;
  /** Chunks read before they are asked for: a number, or a function asked before each read, for a limit that moves. */
  readAhead: number | (() => number);
  /** Bytes left free in front of each chunk's data. */
  headroom?: number;
}

export interface RangeChunk {
  position: bigint;
  /** The file's bytes. */
  data: Buffer;
  /**
   * The pool buffer that holds them, `headroom` bytes in front of `data`,
   * where a caller can encode a message header without copying the data.
   * Give it back to the pool once `data` is no longer needed.
   */
  frame: Buffer;
}

/**
 * Reads a range of an open file in chunks, with positional reads so that
 * several readers can share one descriptor. Up to `readAhead` chunks are
 * read before they are asked for, so the disk works while the previous
 * chunk is being sent; memory stays at that many chunks plus those the
 * caller holds. A file that shrinks under us is an error, never a short
 * result.
 */
export async function* readRange(handle: FileHandle, options: RangeOptions): AsyncGenerator<RangeChunk> {
  const { end, pool, readAhead } = options;
  const headroom = options.headroom ?? 0;
  const chunkSize = BigInt(pool.size - headroom);
  const queue: Promise<RangeChunk>[] = [];
  let next = options.start;
  const ahead = typeof readAhead === 'number' ? () => readAhead : readAhead;
  const fill = () => {
    while (queue.length < ahead() && next < end) {
      const position = next;
      const length = Number(end - position < chunkSize ? end - position : chunkSize);
      next += BigInt(length);
      const read = readChunk(handle, position, length, pool.take(), headroom);
      read.catch(() => undefined);
      queue.push(read);
    }
  };
  fill();
  while (queue.length > 0) {
    const chunk = await queue.shift()!;
    fill();
    yield chunk;
  }
}

async function readChunk(handle: FileHandle, position: bigint, length: number, frame: Buffer, headroom: number): Promise<RangeChunk> {
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(frame, headroom + filled, length - filled, Number(position) + filled);
    if (bytesRead === 0) throw changedWhileReading();
    filled += bytesRead;
  }
  return { position, data: frame.subarray(headroom, headroom + length), frame };
}

export function changedWhileReading(): StatusError {
  return new StatusError(status.ABORTED, 'the file changed while it was being read; retry to get the new version');
}
