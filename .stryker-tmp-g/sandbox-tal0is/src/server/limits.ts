// @ts-nocheck
import { status } from '../shared/grpcStatus.js';
import { readFile } from 'node:fs/promises';
import { StatusError } from '../shared/statusError.js';

export const DEFAULT_CHUNK_SIZE = 256 * 1024;
// A message must stay under grpc-js's default 4 MiB receive limit with its
// framing, or every client fails with RESOURCE_EXHAUSTED.
export const MAX_CHUNK_SIZE = 1024 * 1024;
/**
 * Bytes per block of Blocks' digests: large enough that a list stays small
 * (8 MiB for a 1 TiB file), small enough that a bad block costs little to
 * fetch again. A size must be a multiple of BLOCK_SIZE_UNIT, so blocks line
 * up with the pages and file-system blocks a client reads and writes.
 */
export const DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024;
export const BLOCK_SIZE_UNIT = 64 * 1024;
export const MAX_BLOCK_SIZE = 1024 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 1024;
export const DEFAULT_MAX_OPEN_FILES = 256;
export const DEFAULT_MAX_QUEUED_HASHES = 64;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** An upload abandoned for a day is given up: long enough for a client to come back after a night. */
export const DEFAULT_UPLOAD_TTL_MS = 24 * 3_600_000;
export const DEFAULT_MAX_UPLOAD_SIZE = 64 * 1024 ** 3;
export const DEFAULT_MAX_STAGED_BYTES = 64 * 1024 ** 3;
/** Whole-file hashes running at once (see DigestCache). */
export const CONCURRENT_HASHES = 2;
/** Descriptors for Node itself, logs, metrics and the listeners. */
const RESERVED_DESCRIPTORS = 64;

/**
 * Default caps on connections and on files open for calls, so that idle
 * sockets and many requests together stay within the process's descriptor
 * limit (`openFileLimit`; Node raises the soft limit to the hard one):
 * what the hashes and Node need is set aside, connections get three
 * quarters of the rest and files a quarter, each at most its usual default.
 */
export function defaultLimits(openFileLimit: number, maxQueuedHashes = DEFAULT_MAX_QUEUED_HASHES): { maxConnections: number; maxOpenFiles: number } {
  const available = Math.max(0, openFileLimit - RESERVED_DESCRIPTORS - CONCURRENT_HASHES - maxQueuedHashes);
  return {
    maxConnections: Math.max(1, Math.min(DEFAULT_MAX_CONNECTIONS, Math.floor((available * 3) / 4))),
    maxOpenFiles: Math.max(1, Math.min(DEFAULT_MAX_OPEN_FILES, Math.floor(available / 4))),
  };
}

/** The soft RLIMIT_NOFILE, which Node has no API for, from /proc (which startup requires). */
export async function openFileLimit(): Promise<number> {
  const limits = await readFile('/proc/self/limits', 'utf8');
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
  return soft === undefined || soft === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(soft);
}

/**
 * Counts descriptors held for calls (a served file, a listed folder) against
 * a cap. Over it a call fails at once with RESOURCE_EXHAUSTED, which clients
 * retry with backoff, instead of waiting or running the process out of
 * descriptors.
 */
export class DescriptorBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes a place, or throws; the returned function gives it back (once). */
  take(): () => void {
    if (this.used >= this.limit) {
      throw new StatusError(status.RESOURCE_EXHAUSTED, `the server has ${this.limit} files open, its limit; retry shortly`);
    }
    this.used += 1;
    let returned = false;
    return () => {
      if (returned) return;
      returned = true;
      this.used -= 1;
    };
  }
}
