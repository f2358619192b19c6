// @ts-nocheck
import { DIGEST_BYTES } from '../../shared/blockHasher.js';

/** Bytes [start, end) of a file. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Blocks whose digests differ between two lists of the same block size,
 * compared over the blocks both have, in order.
 */
export function differingBlocks(local: Buffer, remote: Buffer): number[] {
  const count = Math.min(local.length, remote.length) / DIGEST_BYTES;
  const differing: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const at = i * DIGEST_BYTES;
    if (local.compare(remote, at, at + DIGEST_BYTES, at, at + DIGEST_BYTES) !== 0) differing.push(i);
  }
  return differing;
}

/** The bytes that blocks cover in a file of `size`, neighbours merged, in order. */
export function rangesOfBlocks(blocks: readonly number[], blockSize: number, size: number): ByteRange[] {
  const ranges: ByteRange[] = [];
  for (const block of [...blocks].sort((a, b) => a - b)) {
    const start = block * blockSize;
    const end = Math.min(size, start + blockSize);
    if (start >= end) continue;
    const last = ranges.at(-1);
    if (last && last.end === start) last.end = end;
    else ranges.push({ start, end });
  }
  return ranges;
}
