// @ts-nocheck
import { DIGEST_BYTES } from '../../shared/blockHasher.js';

/** Blocks of a file of `size` bytes: the last may be short; an empty file has none. */
export const blocksIn = (size: number, blockSize: number) => Math.ceil(size / blockSize);

/** Block `index`'s digest in a list of digests back to back. */
export const digestOf = (digests: Buffer, index: number) => digests.subarray(index * DIGEST_BYTES, (index + 1) * DIGEST_BYTES);

/** Blocks [start, end) of a file, by index. */
export type BlockRange = [start: number, end: number];

/**
 * A set of block indexes kept as sorted, disjoint, non-adjacent ranges:
 * the verified blocks of a sparse partial, which grow from a few starting
 * points and so stay a handful of ranges however large the file.
 */
export class BlockSet {
  private list: BlockRange[];

  constructor(ranges: readonly BlockRange[] = []) {
    this.list = [];
    for (const [start, end] of ranges) this.addRange(start, end);
  }

  has(index: number): boolean {
    return this.list.some(([start, end]) => index >= start && index < end);
  }

  add(index: number): void {
    this.addRange(index, index + 1);
  }

  addRange(start: number, end: number): void {
    if (start >= end) return;
    const kept: BlockRange[] = [];
    let merged: BlockRange = [start, end];
    for (const range of this.list) {
      if (range[1] < merged[0] || range[0] > merged[1]) kept.push(range);
      else merged = [Math.min(range[0], merged[0]), Math.max(range[1], merged[1])];
    }
    kept.push(merged);
    this.list = kept.sort((a, b) => a[0] - b[0]);
  }

  /** Blocks in the set. */
  get count(): number {
    return this.list.reduce((sum, [start, end]) => sum + end - start, 0);
  }

  /** The end of the run that starts at block 0: every block before it is in the set. */
  get prefixEnd(): number {
    const first = this.list[0];
    return first !== undefined && first[0] === 0 ? first[1] : 0;
  }

  ranges(): BlockRange[] {
    return this.list.map(([start, end]) => [start, end]);
  }

  /** The ranges of [0, total) not in the set. */
  missing(total: number): BlockRange[] {
    const gaps: BlockRange[] = [];
    let at = 0;
    for (const [start, end] of this.list) {
      if (start >= total) break;
      if (start > at) gaps.push([at, start]);
      at = Math.max(at, end);
    }
    if (at < total) gaps.push([at, total]);
    return gaps;
  }
}

/**
 * Whether `value` is a list of block ranges a file of `blocks` blocks can
 * have: [start, end) pairs of whole numbers, 0 <= start < end <= blocks,
 * in order and apart. Says what is wrong, or undefined.
 */
export function rangesFault(value: unknown, blocks: number): string | undefined {
  if (!Array.isArray(value)) return 'are not a list';
  let last = -1;
  for (const range of value) {
    if (!Array.isArray(range) || range.length !== 2 || !range.every((n) => Number.isSafeInteger(n))) return `hold ${JSON.stringify(range)}, not [start, end]`;
    const [start, end] = range as [number, number];
    if (start < 0 || start >= end || end > blocks) return `hold [${start}, ${end}], outside the ${blocks} blocks of the file`;
    if (start <= last) return `are not in order and apart at [${start}, ${end}]`;
    last = end;
  }
  return undefined;
}
