import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { BlockHasher } from '../../shared/blockHasher.js';

const READ_BUFFER = 1 << 20;

/**
 * The block digests of a local file's first `length` bytes (all of it when
 * omitted), with the SHA-256 of those bytes, in one read: the same list the
 * server gives for a file with those bytes.
 */
export async function hashLocalBlocks(
  file: string,
  blockSize: number,
  length?: number,
  signal?: AbortSignal,
): Promise<{ digests: Buffer; sha256: string; size: number }> {
  const handle = await open(file, 'r');
  try {
    const size = length ?? (await handle.stat()).size;
    const blocks = new BlockHasher(blockSize);
    const whole = createHash('sha256');
    const buffer = Buffer.allocUnsafe(Math.min(READ_BUFFER, Math.max(1, size)));
    for (let position = 0; position < size;) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
      if (bytesRead === 0) throw new Error(`${file} is shorter than ${size} bytes`);
      const piece = buffer.subarray(0, bytesRead);
      blocks.update(piece);
      whole.update(piece);
      position += bytesRead;
    }
    return { digests: blocks.digest(), sha256: whole.digest('hex'), size };
  } finally {
    await handle.close();
  }
}
