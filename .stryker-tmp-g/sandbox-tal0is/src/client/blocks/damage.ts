// @ts-nocheck
import { DIGEST_BYTES } from '../../shared/blockHasher.js';
import type { TaskRecord } from '../taskMap/taskRecord.js';
import { blocksIn } from './blockList.js';
import { differingBlocks, rangesOfBlocks, type ByteRange } from './blockRanges.js';

/** What differs between a local file and the server's copy, by the server's blocks. */
export interface Damage {
  /** The server's blocks that the local file lacks or holds otherwise, in order: what a repair fetches. */
  blocks: number[];
  /** The bytes that differ, neighbours merged: those blocks, and any bytes past the server's end. */
  ranges: ByteRange[];
}

/**
 * Compares a local file of `localSize` bytes with the server's list, from
 * the local digests of its first min(localSize, server's size) bytes: so a
 * longer file's blocks line up with the server's, and its extra bytes are
 * a range of their own that a repair cuts off rather than fetches. Blocks
 * the local file does not reach, or reaches only in part, differ.
 */
export function damageOf(localSize: number, localDigests: Buffer, list: { remote: { size: number }; blockSize: number; digests: Buffer }): Damage {
  const { size } = list.remote;
  const blocks = differingBlocks(localDigests, list.digests);
  const total = blocksIn(size, list.blockSize);
  for (let block = localDigests.length / DIGEST_BYTES; block < total; block += 1) blocks.push(block);
  const ranges = rangesOfBlocks(blocks, list.blockSize, size);
  if (localSize > size) {
    const last = ranges.at(-1);
    if (last?.end === size) last.end = localSize;
    else ranges.push({ start: size, end: localSize });
  }
  return { blocks, ranges };
}

/**
 * Whether a local file whose digest is `sha256` (undefined: not known) is
 * exactly what its record says was downloaded.
 */
export function asRecorded(record: TaskRecord | undefined, sha256: string | undefined): boolean {
  return record?.status === 'complete' && record.sha256 === sha256;
}

/**
 * A local file against the server's: ok when no byte differs; outdated
 * when it differs but still holds what was downloaded (the server's copy
 * changed, not ours); damaged otherwise.
 */
export function compareVerdict(ranges: readonly ByteRange[], recorded: boolean): 'ok' | 'outdated' | 'damaged' {
  if (ranges.length === 0) return 'ok';
  return recorded ? 'outdated' : 'damaged';
}
