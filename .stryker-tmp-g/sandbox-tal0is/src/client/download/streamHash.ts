// @ts-nocheck
import { createHash, type Hash } from 'node:crypto';
import type { BlockList } from '../blocks/blockList.js';
import { blocksIn } from '../blocks/blockSet.js';
import { BlockRun } from '../blocks/blockRun.js';

/**
 * unasked: no list asked for (yet); pending: asked, not come; known; none:
 * the server has none, or none could be had.
 */
type ListState = 'unasked' | 'pending' | 'known' | 'none';

/**
 * What a partial written as one stream is checked by, carried from one
 * attempt to the next: the SHA-256 of the whole file, or, once the block
 * list is asked for, the SHA-256 of each block, checked as it completes.
 * One hash per byte either way: with every block verified against a list
 * that belongs to the server's whole digest, that digest is the file's
 * without hashing it a second time (measured: hashing both cost 0.7 s of
 * CPU per GiB more, a quarter of a whole download's time on two cores).
 *
 * Bytes are hashed as they are appended while the hash in use stands at
 * the partial's end; a hash left behind (the whole one while blocks were
 * used, the blocks hashed by a wrongly guessed size) catches up by reading
 * the partial back (see `behind`, `feedAt`).
 */
export class StreamHash {
  private whole: Hash | undefined = createHash('sha256');
  private wholeAt = 0;
  private blocks: BlockRun | undefined;
  private list: ListState = 'unasked';
  private listDigest: string | undefined;
  /** Whether the whole hash is wanted at the partial's end though blocks are in use: a resume's prefix digest. */
  private wholeWanted = false;
  /** Told when a block is found bad, e.g. to cancel the call that would send more after it. */
  onBad: (() => void) | undefined;

  constructor(
    /** Bytes of the partial, all of them fed (or to be caught up). */
    public length = 0,
  ) {}

  /** The digest a verified file will have: the list's whole digest, once known. */
  get digestOfList(): string | undefined {
    return this.listDigest;
  }

  /** The block size blocks are hashed by, if they are. */
  get blockSize(): number | undefined {
    return this.blocks?.blockSize;
  }

  /** The first bad block found, until the partial is cut back to it. */
  get bad(): number | undefined {
    return this.blocks?.bad;
  }

  /** Whether a list is asked for and has not come. */
  get awaitingList(): boolean {
    return this.list === 'pending';
  }

  /** Whether a list was asked for, or came, or was found missing. */
  get listAsked(): boolean {
    return this.list !== 'unasked';
  }

  /** Whether blocks could start being checked now without reading the partial again: nothing written, or blocks hashed to its end. */
  get blocksReady(): boolean {
    return this.blocks ? this.blocks.at === this.length : this.length === 0;
  }

  /** Whether the whole digest of the partial is at hand without reading it again. */
  get wholeReady(): boolean {
    return this.whole !== undefined && this.wholeAt === this.length;
  }

  /**
   * Hashes blocks too, by `guess` until the list tells: a resume hashes
   * the partial's blocks in the same read as its whole digest.
   */
  hashBlocks(guess: number, size: number | undefined): void {
    this.blocks ??= new BlockRun(guess, 0, size, undefined);
  }

  /** The list is asked for: from now on blocks are hashed, by `guess` until it comes, instead of the whole. */
  askList(guess: number, size: number): void {
    this.list = 'pending';
    this.hashBlocks(guess, size);
    this.blocks!.size = size;
  }

  /** The list came: blocks hashed so far are checked now, or hashed again when the guess was wrong. */
  takeList(list: BlockList): void {
    this.list = 'known';
    this.listDigest = list.remote.sha256;
    if (this.blocks?.blockSize === list.blockSize) {
      this.blocks.size = list.remote.size;
      this.blocks.setDigests(list.digests);
    } else {
      this.blocks = new BlockRun(list.blockSize, 0, list.remote.size, list.digests);
    }
  }

  /** No list to be had (an older server, or none now): the whole hash alone, as it always was. */
  noList(): void {
    if (this.list === 'known') return;
    this.list = 'none';
    this.blocks = undefined;
  }

  /** The whole digest is wanted at the partial's end: see prefixDigest. */
  wantWhole(): void {
    this.wholeWanted = true;
  }

  append(data: Buffer): void {
    if (this.feedsWhole() && this.whole && this.wholeAt === this.length) {
      this.whole.update(data);
      this.wholeAt += data.length;
    }
    if (this.feedsBlocks() && this.blocks!.at === this.length) this.blocks!.update(data);
    this.length += data.length;
  }

  /** Where reading the partial back must start for the hashes in use to reach its end; undefined when they are there. */
  behind(): number | undefined {
    let from: number | undefined;
    if (this.feedsWhole() || this.wholeWanted) {
      if (!this.whole) {
        this.whole = createHash('sha256');
        this.wholeAt = 0;
      }
      if (this.wholeAt < this.length) from = this.wholeAt;
    }
    if (this.feedsBlocks() && this.blocks!.bad === undefined && this.blocks!.at < this.length) from = Math.min(from ?? Infinity, this.blocks!.at);
    return from;
  }

  /** Bytes of the partial read back from `position`: each hash takes those from where it stands. */
  feedAt(data: Buffer, position: number): void {
    const end = position + data.length;
    if (this.whole && (this.feedsWhole() || this.wholeWanted) && this.wholeAt >= position && this.wholeAt < end) {
      this.whole.update(data.subarray(this.wholeAt - position));
      this.wholeAt = end;
    }
    const blocks = this.blocks;
    if (blocks && this.feedsBlocks() && blocks.at >= position && blocks.at < end) blocks.update(data.subarray(blocks.at - position));
  }

  /** SHA-256 (hex) of the partial's bytes; the whole hash must have caught up (wantWhole, behind). */
  prefixDigest(): string {
    if (!this.whole || this.wholeAt !== this.length) throw new Error(`the whole hash stands at ${this.wholeAt}, not ${this.length}`);
    this.wholeWanted = false;
    return this.whole.copy().digest('hex');
  }

  /** The partial is cut back to `length`, the start of a bad block: what was hashed after it goes. */
  cutBack(length: number): void {
    this.length = length;
    if (this.blocks) this.blocks.rewind(Math.floor(length / this.blocks.blockSize));
    if (this.whole && this.wholeAt > length) this.whole = undefined;
  }

  /**
   * The whole file's SHA-256 once every byte (`size` of them) is fed:
   * hashed, or the list's when every block matched it; undefined when a
   * block did not (see `bad`).
   */
  finish(size: number): string | undefined {
    if (this.list === 'known') {
      const blocks = this.blocks!;
      blocks.end();
      if (blocks.bad !== undefined) return undefined;
      if (blocks.verifiedTo !== blocksIn(size, blocks.blockSize))
        throw new Error(`${blocks.verifiedTo} blocks verified of ${blocksIn(size, blocks.blockSize)}`);
      return this.listDigest;
    }
    if (!this.whole || this.wholeAt !== size) throw new Error(`the whole hash stands at ${this.wholeAt}, not ${size}`);
    return this.whole.digest('hex');
  }

  private feedsWhole(): boolean {
    return this.list === 'unasked' || this.list === 'none';
  }

  private feedsBlocks(): boolean {
    return this.blocks !== undefined && this.list !== 'none';
  }
}
