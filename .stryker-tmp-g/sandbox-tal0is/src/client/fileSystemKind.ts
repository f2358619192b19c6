// @ts-nocheck
import { statfs } from 'node:fs/promises';

// statfs(2) f_type of file systems that live in memory only.
const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;

/**
 * Whether `folder` is on a file system kept in memory (tmpfs, ramfs), where
 * an fsync has nothing to make durable: a power cut loses everything there
 * anyway. Syncing many small files there costs only trips through libuv's
 * threadpool. False when it cannot tell.
 */
export async function isInMemory(folder: string): Promise<boolean> {
  try {
    const { type } = await statfs(folder);
    return type === TMPFS_MAGIC || type === RAMFS_MAGIC;
  } catch {
    return false;
  }
}
