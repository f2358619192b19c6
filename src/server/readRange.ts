import { status } from '@grpc/grpc-js';
import type { FileHandle } from 'node:fs/promises';
import { StatusError } from '../shared/statusError.js';

/**
 * Reads [start, end) of an open file in chunks of at most `chunkSize`, with
 * positional reads so that several readers can share one descriptor. Each
 * chunk is a fresh buffer the caller may keep. A file that shrinks under us
 * is an error, never a short result.
 */
export async function* readRange(
  handle: FileHandle,
  start: bigint,
  end: bigint,
  chunkSize: number,
): AsyncGenerator<{ position: bigint; data: Buffer }> {
  let position = start;
  while (position < end) {
    const want = Number(end - position < BigInt(chunkSize) ? end - position : BigInt(chunkSize));
    const data = Buffer.allocUnsafe(want);
    let filled = 0;
    while (filled < want) {
      const { bytesRead } = await handle.read(data, filled, want - filled, Number(position) + filled);
      if (bytesRead === 0) throw changedWhileReading();
      filled += bytesRead;
    }
    yield { position, data };
    position += BigInt(want);
  }
}

export function changedWhileReading(): StatusError {
  return new StatusError(status.ABORTED, 'the file changed while it was being read; retry to get the new version');
}
