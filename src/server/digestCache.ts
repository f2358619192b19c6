import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, type BigIntStats } from 'node:fs';
import { open } from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import PQueue from 'p-queue';
import { StatusError } from '../shared/statusError.js';
import { CONCURRENT_HASHES, DEFAULT_MAX_QUEUED_HASHES } from './limits.js';
import type { ServedFile } from './servedFile.js';
import { BufferPool } from './bufferPool.js';
import { changedWhileReading, readRange } from './readRange.js';

const HASH_CHUNK = 1 << 20;
export const DIGEST_CACHE_LIMIT = 10_000;

/** A hash waiting for its turn: who still wants it, and how to drop it. */
interface QueuedHash {
  waiters: number;
  drop: AbortController;
}

/**
 * SHA-256 digests of served files, keyed by version (which covers device,
 * inode, size, mtime and ctime), so resumes and Stat calls do not rehash a
 * file that has not changed. Concurrent requests for one version share a
 * single computation. Least recently used entries are dropped past `limit`.
 * At most `concurrentHashes` whole files are hashed at once, so requests
 * that each need a full hash (a resume of a file whose digest is not
 * cached, a Stat) cannot make the server read every large file in parallel;
 * at most `maxQueued` more wait, each holding a descriptor, and a request
 * beyond that fails with RESOURCE_EXHAUSTED. A waiting hash that every
 * caller has given up on is dropped before it starts.
 */
export class DigestCache {
  private readonly entries = new Map<string, Promise<string>>();
  private readonly settled = new Map<string, string>();
  private readonly queued = new Map<string, QueuedHash>();
  private readonly hashing: PQueue;

  constructor(
    private readonly limit = DIGEST_CACHE_LIMIT,
    concurrentHashes = CONCURRENT_HASHES,
    private readonly maxQueued = DEFAULT_MAX_QUEUED_HASHES,
    /** Told each digest computed here, e.g. to persist it (see DigestLog). */
    private readonly onDigest?: (version: string, digest: string) => void,
  ) {
    this.hashing = new PQueue({ concurrency: concurrentHashes });
  }

  /** Takes digests known from before, e.g. persisted by an earlier run. */
  preload(digests: Iterable<[string, string]>): void {
    for (const [version, digest] of digests) {
      this.settled.set(version, digest);
      this.touch(version, Promise.resolve(digest));
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

  /** Records a digest computed elsewhere, e.g. while streaming from offset 0. */
  remember(version: string, digest: string): void {
    if (this.settled.get(version) !== digest) this.onDigest?.(version, digest);
    this.settled.set(version, digest);
    this.touch(version, Promise.resolve(digest));
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
      this.assertRoom();
      digest = this.hashWhole(file);
      this.touch(file.version, digest);
      digest.then(
        (value) => {
          this.onDigest?.(file.version, value);
          if (this.entries.has(file.version)) this.settled.set(file.version, value);
        },
        () => this.entries.delete(file.version),
      );
    }
    this.addWaiter(file.version, signal);
    return digest;
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
          return hashReopened(file, fd, length);
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

  /**
   * Reopens the caller's descriptor at once, so the call that asked may
   * close its file the moment it is cancelled, then hashes when a turn comes.
   */
  private hashWhole(file: ServedFile): Promise<string> {
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
        () => {
          started();
          return hashReopened(file, fd, file.stat.size);
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
}

/**
 * A descriptor of our own for the caller's file, through /proc (same inode,
 * whatever happened to the name since). Synchronous: it must happen before
 * the caller can close the descriptor we reopen, or its number be reused.
 */
function reopen(file: ServedFile): number {
  return openSync(`/proc/self/fd/${file.handle.fd}`, constants.O_RDONLY);
}

/** Hashes a file's first `end` bytes through a descriptor of its own (see `reopen`). */
async function hashReopened(file: ServedFile, fd: number, end: bigint): Promise<string> {
  const handle = await open(`/proc/self/fd/${fd}`, constants.O_RDONLY).finally(() => closeSync(fd));
  try {
    const own = { ...file, handle };
    const reopened = await handle.stat({ bigint: true });
    if (reopened.ino !== file.stat.ino || reopened.dev !== file.stat.dev) throw changedWhileReading();
    const hash = createHash('sha256');
    const pool = new BufferPool(HASH_CHUNK, 2);
    for await (const { data, frame } of readRange(handle, { start: 0n, end, pool, readAhead: 2 })) {
      hash.update(data);
      pool.give(frame);
    }
    await assertUnchanged(own);
    return hash.digest('hex');
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
