// @ts-nocheck
import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, type BigIntStats } from 'node:fs';
import { open } from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import PQueue from 'p-queue';
import { StatusError } from '../shared/statusError.js';
import { CONCURRENT_HASHES, DEFAULT_BLOCK_SIZE, DEFAULT_MAX_QUEUED_HASHES } from './limits.js';
import { BlockHasher, blockCount, DIGEST_BYTES } from '../shared/blockHasher.js';
import type { LoggedDigests } from './digestLog.js';
import type { ServedFile } from './servedFile.js';
import { BufferPool } from './bufferPool.js';
import { changedWhileReading, readRange } from './readRange.js';

const HASH_CHUNK = 1 << 20;
const DIGEST_CACHE_LIMIT = 10_000;
/**
 * Bytes of block digests kept: 4 TiB of files with 4 MiB blocks. A count
 * of files would not bound them: one file of 1 TiB has 8 MiB of digests.
 */
const BLOCK_LIST_BYTES = 32 * 1024 * 1024;

/** What the digest log keeps: as many digests as the cache, block lists within the same bound. */
export const logBoundsOf = (blockSize: number) => ({ limit: DIGEST_CACHE_LIMIT, blockSize, blockBytes: BLOCK_LIST_BYTES });

/** A file's whole digest and the digests of its blocks, 32 bytes a block. */
export interface FileDigests {
  sha256: string;
  blocks: Buffer;
}

export interface DigestCacheOptions {
  /** Whole digests kept, the least recently used dropped first. */
  limit?: number;
  /** Bytes of block digests kept, likewise. */
  blockBytes?: number;
  blockSize?: number;
  concurrentHashes?: number;
  maxQueued?: number;
  /** Told each digest learnt here, e.g. to persist it (see DigestLog). */
  onDigest?: (version: string, digests: LoggedDigests) => void;
  /** Told each time a whole file has been read to hash it. */
  onHashed?: () => void;
  /** Turns shared with other processes serving the same files, so that they hash a file once between them. */
  turns?: HashTurns;
}

/** Turns to hash a file's version across processes (see workers.ts). */
export interface HashTurns {
  /** Resolves when this process may hash `version`: with undefined, or with the digests another process computed meanwhile. */
  take(version: string): Promise<FileDigests | undefined>;
  /** Ends this process's turn, with the digests when its hash succeeded. */
  give(version: string, digests: FileDigests | undefined): void;
}

/** A hash waiting for its turn: who still wants it, and how to drop it. */
interface QueuedHash {
  waiters: number;
  drop: AbortController;
}

/**
 * SHA-256 digests of served files, the whole file's and its blocks',
 * keyed by version (which covers device, inode, size, mtime and ctime), so
 * resumes, Stat and Blocks calls do not rehash a file that has not
 * changed. One read of a file gives both (a hash pass); concurrent requests
 * for one version share it. Least recently used entries are dropped past
 * `limit` whole digests and past `blockBytes` of block digests. At most
 * `concurrentHashes` whole files are hashed at once, so requests that each
 * need a full hash (a resume of a file whose digest is not cached, a Stat,
 * Blocks) cannot make the server read every large file in parallel; at
 * most `maxQueued` more wait, each holding a descriptor, and a request
 * beyond that fails with RESOURCE_EXHAUSTED. A waiting hash that every
 * caller has given up on is dropped before it starts.
 */
export class DigestCache {
  readonly blockSize: number;
  private readonly entries = new Map<string, Promise<string>>();
  private readonly settled = new Map<string, string>();
  private readonly blockLists = new Map<string, FileDigests>();
  private blockListBytes = 0;
  /** Hash passes under way or waiting, by version. */
  private readonly passes = new Map<string, Promise<FileDigests>>();
  private readonly queued = new Map<string, QueuedHash>();
  private readonly hashing: PQueue;
  private readonly limit: number;
  private readonly blockBytes: number;
  private readonly maxQueued: number;
  private readonly onDigest: DigestCacheOptions['onDigest'];
  private readonly onHashed: DigestCacheOptions['onHashed'];
  private readonly turns: HashTurns | undefined;
  /** Results of hash passes the turns already carried to the other processes and the log. */
  private readonly told = new WeakSet<FileDigests>();

  constructor(options: DigestCacheOptions = {}) {
    this.limit = options.limit ?? DIGEST_CACHE_LIMIT;
    this.blockBytes = options.blockBytes ?? BLOCK_LIST_BYTES;
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED_HASHES;
    this.onDigest = options.onDigest;
    this.onHashed = options.onHashed;
    this.turns = options.turns;
    this.hashing = new PQueue({ concurrency: options.concurrentHashes ?? CONCURRENT_HASHES });
  }

  /** Takes digests known from before, oldest first, e.g. persisted by an earlier run. */
  preload(digests: Iterable<[string, LoggedDigests]>): void {
    for (const [version, { sha256, blocks }] of digests) {
      this.settled.set(version, sha256);
      this.touch(version, Promise.resolve(sha256));
      if (blocks) this.keepBlocks(version, { sha256, blocks });
    }
  }

  /** Whole-file hashes under way and waiting for a turn. */
  get hashes(): { running: number; waiting: number } {
    return { running: this.hashing.pending, waiting: this.hashing.size };
  }

  /**
   * The digest if it is already known. A computation still under way does
   * not count: waiting for it would hold back a stream's first byte.
   */
  known(version: string): string | undefined {
    const digest = this.settled.get(version);
    if (digest !== undefined) this.touch(version, Promise.resolve(digest));
    return digest;
  }

  /**
   * The file's whole and block digests if both are known. A list that does
   * not add up to the file's size (a damaged log) counts as unknown.
   */
  knownBlocks(file: Pick<ServedFile, 'version' | 'stat'>): FileDigests | undefined {
    const known = this.blockLists.get(file.version);
    if (known && BigInt(known.blocks.length / DIGEST_BYTES) === blockCount(file.stat.size, this.blockSize)) {
      this.keepBlocks(file.version, known);
      return known;
    }
    this.dropBlocks(file.version);
    // A file of one block at most: that block's digest is the whole file's,
    // known without keeping a list (e.g. from DownloadMany's small files).
    const sha256 = file.stat.size <= BigInt(this.blockSize) ? this.known(file.version) : undefined;
    if (sha256 === undefined) return undefined;
    return { sha256, blocks: file.stat.size === 0n ? Buffer.alloc(0) : Buffer.from(sha256, 'hex') };
  }

  /**
   * A hasher for the blocks of a read of the whole file, unless they are
   * known, or will be with its whole digest (one block at most).
   */
  blockHasherFor(file: Pick<ServedFile, 'version' | 'stat'>): BlockHasher | undefined {
    return file.stat.size > BigInt(this.blockSize) && !this.knownBlocks(file) ? new BlockHasher(this.blockSize) : undefined;
  }

  /**
   * Records digests computed elsewhere, e.g. while streaming from offset 0;
   * `blocks` when they were computed too, of blocks of `blockSize`.
   */
  remember(version: string, sha256: string, blocks?: Buffer): void {
    this.learn(version, sha256, blocks, true);
  }

  private learn(version: string, sha256: string, blocks: Buffer | undefined, tell: boolean): void {
    // A list past the whole bound is neither kept nor persisted.
    const kept = blocks && blocks.length <= this.blockBytes ? blocks : undefined;
    const learnt = this.settled.get(version) !== sha256 || (kept !== undefined && !this.blockLists.has(version));
    this.settled.set(version, sha256);
    this.touch(version, Promise.resolve(sha256));
    if (kept) this.keepBlocks(version, { sha256, blocks: kept });
    if (learnt && tell) this.onDigest?.(version, kept ? { sha256, blocks: kept } : { sha256 });
  }

  /**
   * The file's digest. Throws RESOURCE_EXHAUSTED at once when a new hash
   * would have to wait and the queue is full, so a call fails before it
   * does any work. Once `signal` aborts, this caller no longer counts as
   * waiting; the promise still settles, so callers stop waiting on it
   * themselves.
   */
  digestOf(file: ServedFile, signal?: AbortSignal): Promise<string> {
    let digest = this.entries.get(file.version);
    if (digest) {
      this.touch(file.version, digest);
    } else {
      const pending = this.pass(file).then((digests) => digests.sha256);
      digest = pending;
      this.touch(file.version, pending);
      pending.catch(() => {
        if (this.entries.get(file.version) === pending) this.entries.delete(file.version);
      });
    }
    this.addWaiter(file.version, signal);
    return digest;
  }

  /**
   * The file's whole and block digests: from the cache, or from a hash pass
   * that takes its turn as digestOf's do, on the same terms.
   */
  blocksOf(file: ServedFile, signal?: AbortSignal): Promise<FileDigests> {
    const known = this.knownBlocks(file);
    if (known) return Promise.resolve(known);
    const pass = this.pass(file);
    this.addWaiter(file.version, signal);
    return pass;
  }

  /**
   * The digest of the file's first `length` bytes, for a resume whose
   * client holds bytes of another version. Takes its turn with whole-file
   * hashes; RESOURCE_EXHAUSTED at once when the queue is full. Dropped
   * before it starts once `signal` aborts.
   */
  digestOfPrefix(file: ServedFile, length: bigint, signal: AbortSignal): Promise<string> {
    this.assertRoom();
    let fd: number;
    try {
      fd = reopen(file);
    } catch {
      return Promise.reject(changedWhileReading());
    }
    let started = false;
    return this.hashing
      .add(
        () => {
          started = true;
          return hashReopened(file, fd, length).then(({ sha256 }) => sha256);
        },
        { signal },
      )
      .catch((err: unknown) => {
        if (!started) closeSync(fd);
        throw err;
      });
  }

  private assertRoom(): void {
    if (this.hashing.pending >= this.hashing.concurrency && this.hashing.size >= this.maxQueued) {
      throw new StatusError(status.RESOURCE_EXHAUSTED, `${this.maxQueued} files are already waiting to be hashed; retry shortly`);
    }
  }

  private addWaiter(version: string, signal: AbortSignal | undefined): void {
    const job = this.queued.get(version);
    if (!job) return;
    job.waiters += 1;
    signal?.addEventListener(
      'abort',
      () => {
        job.waiters -= 1;
        if (job.waiters === 0 && this.queued.get(version) === job) {
          job.drop.abort(new StatusError(status.CANCELLED, 'nobody waits for this digest any more'));
        }
      },
      { once: true },
    );
  }

  /** The hash pass of the file's version: the one under way, or a new one. */
  private pass(file: ServedFile): Promise<FileDigests> {
    const running = this.passes.get(file.version);
    if (running) return running;
    this.assertRoom();
    const pass = this.hashWhole(file);
    this.passes.set(file.version, pass);
    // Before any caller's own callbacks: whoever gets a digest finds it cached.
    pass.then(
      (digests) => {
        this.passes.delete(file.version);
        this.learn(file.version, digests.sha256, digests.blocks, !this.told.has(digests));
      },
      () => this.passes.delete(file.version),
    );
    return pass;
  }

  /**
   * Reopens the caller's descriptor at once, so the call that asked may
   * close its file the moment it is cancelled, then hashes when a turn comes.
   */
  private hashWhole(file: ServedFile): Promise<FileDigests> {
    let fd: number;
    try {
      fd = reopen(file);
    } catch {
      return Promise.reject(changedWhileReading());
    }
    const job: QueuedHash = { waiters: 0, drop: new AbortController() };
    this.queued.set(file.version, job);
    const started = () => this.queued.get(file.version) === job && this.queued.delete(file.version);
    return this.hashing
      .add(
        async () => {
          started();
          if (this.turns) {
            const peers = await this.turns.take(file.version);
            // Another process's hash ended just before this turn: its digests came first on the same channel.
            const known = peers ?? this.knownBlocks(file);
            if (known) {
              if (!peers) this.turns.give(file.version, undefined);
              closeSync(fd);
              this.told.add(known);
              return known;
            }
          }
          let digests: FileDigests | undefined;
          try {
            const { sha256, blocks } = await hashReopened(file, fd, file.stat.size, this.blockSize);
            digests = { sha256, blocks: blocks! };
            this.onHashed?.();
            if (this.turns) this.told.add(digests);
            return digests;
          } finally {
            this.turns?.give(file.version, digests);
          }
        },
        { signal: job.drop.signal },
      )
      .catch((err: unknown) => {
        // Dropped while waiting: the descriptor was never handed over.
        if (started()) closeSync(fd);
        throw err;
      });
  }

  private touch(version: string, digest: Promise<string>): void {
    this.entries.delete(version);
    this.entries.set(version, digest);
    if (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) {
        this.entries.delete(oldest);
        this.settled.delete(oldest);
      }
    }
  }

  /** Keeps a block list (within the bound) as the most recently used. */
  private keepBlocks(version: string, digests: FileDigests): void {
    this.dropBlocks(version);
    if (digests.blocks.length > this.blockBytes) return;
    this.blockLists.set(version, digests);
    this.blockListBytes += digests.blocks.length;
    for (const oldest of this.blockLists.keys()) {
      if (this.blockListBytes <= this.blockBytes) break;
      this.dropBlocks(oldest);
    }
  }

  private dropBlocks(version: string): void {
    const known = this.blockLists.get(version);
    if (!known) return;
    this.blockLists.delete(version);
    this.blockListBytes -= known.blocks.length;
  }
}

/**
 * A descriptor of our own for the caller's file, through /proc (same inode,
 * whatever happened to the name since). Synchronous: it must happen before
 * the caller can close the descriptor we reopen, or its number be reused.
 */
function reopen(file: ServedFile): number {
  return openSync(`/proc/self/fd/${file.handle.fd}`, constants.O_RDONLY);
}

/**
 * Hashes a file's first `end` bytes through a descriptor of its own (see
 * `reopen`), and their blocks too when given a block size.
 */
async function hashReopened(file: ServedFile, fd: number, end: bigint, blockSize?: number): Promise<{ sha256: string; blocks: Buffer | undefined }> {
  const handle = await open(`/proc/self/fd/${fd}`, constants.O_RDONLY).finally(() => closeSync(fd));
  try {
    const own = { ...file, handle };
    const reopened = await handle.stat({ bigint: true });
    if (reopened.ino !== file.stat.ino || reopened.dev !== file.stat.dev) throw changedWhileReading();
    const hash = createHash('sha256');
    const blocks = blockSize === undefined ? undefined : new BlockHasher(blockSize);
    const pool = new BufferPool(HASH_CHUNK, 2);
    for await (const { data, frame } of readRange(handle, { start: 0n, end, pool, readAhead: 2 })) {
      hash.update(data);
      blocks?.update(data);
      pool.give(frame);
    }
    await assertUnchanged(own);
    return { sha256: hash.digest('hex'), blocks: blocks?.digest() };
  } finally {
    await handle.close();
  }
}

/**
 * Fails if the open file was written to since it was opened. ctime catches a
 * write whose mtime was set back, but also moves when the name is unlinked
 * or renamed over, which leaves the bytes we read intact: it only counts
 * while the link count is unchanged.
 */
export async function assertUnchanged(file: ServedFile): Promise<void> {
  if (changedSince(file.stat, await file.handle.stat({ bigint: true }))) throw changedWhileReading();
}

type Looks = Pick<BigIntStats, 'size' | 'mtimeNs' | 'ctimeNs' | 'nlink'>;

/** Whether a file that looked like `before` when opened was written to by the time it looks like `now`. */
export function changedSince(before: Looks, now: Looks): boolean {
  const ctimeMoved = now.ctimeNs !== before.ctimeNs && now.nlink === before.nlink;
  return now.size !== before.size || now.mtimeNs !== before.mtimeNs || ctimeMoved;
}
