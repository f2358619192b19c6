// @ts-nocheck
import { createHash, type Hash } from 'node:crypto';
import { DIGEST_BYTES } from '../../shared/blockHasher.js';
import { digestOf } from './blockSet.js';

/**
 * Hashes consecutive blocks of a file as their bytes arrive, from block
 * `first` on, and checks each one the moment it is complete against the
 * block list's digest. Until the digests are given, the digests of
 * completed blocks wait for them. The first bad block stops it: its index
 * is `bad`, and nothing more is hashed until rewound.
 */
export class BlockRun {
  /** Index of the block under way. */
  private index: number;
  private hash: Hash = createHash('sha256');
  /** Bytes of the block under way hashed so far. */
  private filled = 0;
  /** Digests of completed blocks not yet checked (no digests given yet), from block `this.checked`. */
  private waiting: Buffer[] = [];
  /** Blocks before this one were checked (from `first`). */
  private checked: number;
  bad: number | undefined;
  /** Told each block that matched, in order. */
  onVerified: ((index: number) => void) | undefined;

  constructor(
    readonly blockSize: number,
    first: number,
    /** The file's size, where the short last block ends; undefined until known. */
    public size: number | undefined,
    private digests: Buffer | undefined,
  ) {
    this.index = first;
    this.checked = first;
  }

  /** Byte position the next byte fed is at. */
  get at(): number {
    return this.index * this.blockSize + this.filled;
  }

  /** Blocks from `first` up to this one are verified. */
  get verifiedTo(): number {
    return this.checked;
  }

  get hasDigests(): boolean {
    return this.digests !== undefined;
  }

  update(data: Buffer): void {
    let at = 0;
    while (at < data.length && this.bad === undefined) {
      const take = Math.min(this.blockSize - this.filled, data.length - at);
      this.hash.update(data.subarray(at, at + take));
      this.filled += take;
      at += take;
      if (this.filled === this.blockSize || (this.size !== undefined && this.at === this.size)) this.close();
    }
  }

  /** Closes a short last block left open (its end was not known when its bytes came). */
  end(): void {
    if (this.filled > 0 && this.bad === undefined) this.close();
  }

  /** The block list's digests: blocks already hashed are checked now. */
  setDigests(digests: Buffer): void {
    this.digests = digests;
    const waiting = this.waiting;
    this.waiting = [];
    for (const digest of waiting) {
      if (!this.judge(digest)) return;
    }
  }

  /** Starts again at block `index` (a bad one, cut off the partial), forgetting anything after it. */
  rewind(index: number): void {
    this.index = index;
    this.checked = Math.min(this.checked, index);
    this.hash = createHash('sha256');
    this.filled = 0;
    this.waiting = [];
    this.bad = undefined;
  }

  private close(): void {
    const digest = this.hash.digest();
    this.hash = createHash('sha256');
    this.filled = 0;
    this.index += 1;
    if (this.digests === undefined) this.waiting.push(digest);
    else this.judge(digest);
  }

  /** Checks the next unchecked block's digest; false when it is bad. */
  private judge(digest: Buffer): boolean {
    const index = this.checked;
    const expected = digestOf(this.digests!, index);
    if (expected.length !== DIGEST_BYTES || !digest.equals(expected)) {
      this.bad = index;
      return false;
    }
    this.checked = index + 1;
    this.onVerified?.(index);
    return true;
  }
}
