import { status } from '@grpc/grpc-js';
import type { FileHandle } from 'node:fs/promises';
import { StatusError } from '../shared/statusError.js';

/**
 * Reads [start, end) of an open file in chunks of at most `chunkSize`, with
 * positional reads so that several readers can share one descriptor. Up to
 * `readAhead` chunks are read before they are asked for, so the disk works
 * while the previous chunk is being sent; memory stays at that many chunks.
 * Each chunk is a fresh buffer the caller may keep. A file that shrinks
 * under us is an error, never a short result.
 */
export async function* readRange(
  handle: FileHandle,
  start: bigint,
  end: bigint,
  chunkSize: number,
  readAhead = 2,
): AsyncGenerator<{ position: bigint; data: Buffer }> {
  const queue: Promise<{ position: bigint; data: Buffer }>[] = [];
  let next = start;
  const fill = () => {
    while (queue.length < readAhead && next < end) {
      const position = next;
      const length = Number(end - position < BigInt(chunkSize) ? end - position : BigInt(chunkSize));
      next += BigInt(length);
      const read = readChunk(handle, position, length);
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

async function readChunk(handle: FileHandle, position: bigint, length: number): Promise<{ position: bigint; data: Buffer }> {
  const data = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(data, filled, length - filled, Number(position) + filled);
    if (bytesRead === 0) throw changedWhileReading();
    filled += bytesRead;
  }
  return { position, data };
}

export function changedWhileReading(): StatusError {
  return new StatusError(status.ABORTED, 'the file changed while it was being read; retry to get the new version');
}
