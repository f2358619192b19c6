import { createHash } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import PQueue from 'p-queue';
import type { ServedFile } from './servedFile.js';
import { BufferPool } from './bufferPool.js';
import { changedWhileReading, readRange } from './readRange.js';

const HASH_CHUNK = 1 << 20;

/**
 * SHA-256 digests of served files, keyed by version (which covers device,
 * inode, size, mtime and ctime), so resumes and Stat calls do not rehash a
 * file that has not changed. Concurrent requests for one version share a
 * single computation. Least recently used entries are dropped past `limit`.
 * At most `concurrentHashes` whole files are hashed at once, so requests
 * that each need a full hash (a resume of a file whose digest is not
 * cached, a Stat) cannot make the server read every large file in parallel.
 */
export class DigestCache {
  private readonly entries = new Map<string, Promise<string>>();
  private readonly settled = new Map<string, string>();
  private readonly hashing: PQueue;

  constructor(
    private readonly limit = 10_000,
    concurrentHashes = 2,
  ) {
    this.hashing = new PQueue({ concurrency: concurrentHashes });
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
    this.settled.set(version, digest);
    this.touch(version, Promise.resolve(digest));
  }

  digestOf(file: ServedFile): Promise<string> {
    const hit = this.entries.get(file.version);
    if (hit) {
      this.touch(file.version, hit);
      return hit;
    }
    const computing = this.hashWhole(file);
    this.touch(file.version, computing);
    computing.then(
      (digest) => this.entries.has(file.version) && this.settled.set(file.version, digest),
      () => this.entries.delete(file.version),
    );
    return computing;
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
    return this.hashing.add(() => hashReopened(file, fd));
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

/** Hashes a file through a descriptor of its own (see `reopen`), from the start. */
async function hashReopened(file: ServedFile, fd: number): Promise<string> {
  const handle = await open(`/proc/self/fd/${fd}`, constants.O_RDONLY).finally(() => closeSync(fd));
  try {
    const own = { ...file, handle };
    const reopened = await handle.stat({ bigint: true });
    if (reopened.ino !== file.stat.ino || reopened.dev !== file.stat.dev) throw changedWhileReading();
    const hash = createHash('sha256');
    const pool = new BufferPool(HASH_CHUNK, 2);
    for await (const { data, frame } of readRange(handle, { start: 0n, end: file.stat.size, pool, readAhead: 2 })) {
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
  const now = await file.handle.stat({ bigint: true });
  const ctimeMoved = now.ctimeNs !== file.stat.ctimeNs && now.nlink === file.stat.nlink;
  if (now.size !== file.stat.size || now.mtimeNs !== file.stat.mtimeNs || ctimeMoved) throw changedWhileReading();
}
