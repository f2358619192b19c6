// @ts-nocheck
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { BlockHasher } from '../../shared/blockHasher.js';
import { digestOf } from './blockList.js';

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

/**
 * How many of a local file's first `count` blocks have the digests in
 * `expected` (a server's list of the same block size), read in order and
 * only up to the first that differs: a file rewritten at its start costs
 * one block's read, not the whole file's.
 */
export async function matchingBlocks(file: string, blockSize: number, expected: Buffer, count: number, signal?: AbortSignal): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.min(READ_BUFFER, blockSize));
    for (let block = 0; block < count; block += 1) {
      const hash = createHash('sha256');
      const end = (block + 1) * blockSize;
      for (let position = block * blockSize; position < end;) {
        signal?.throwIfAborted();
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - position), position);
        if (bytesRead === 0) throw new Error(`${file} is shorter than ${count} blocks of ${blockSize} bytes`);
        const piece = buffer.subarray(0, bytesRead);
        hash.update(piece);
        position += bytesRead;
      }
      if (!hash.digest().equals(digestOf(expected, block))) return block;
    }
    return count;
  } finally {
    await handle.close();
  }
}
