// @ts-nocheck
import { status } from '@grpc/grpc-js';
import { hash } from 'node:crypto';
import { constants, type BigIntStats } from 'node:fs';
import { open, readlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { isInside, parseName } from '../shared/names.js';
import { StatusError } from '../shared/statusError.js';

/** An open regular file under the root, pinned by its descriptor. */
export interface ServedFile {
  name: string;
  handle: FileHandle;
  stat: BigIntStats;
  version: string;
}

/** Hex digits of a version; clients see it only as an opaque string. */
export const VERSION_LENGTH = 24;

/**
 * Opaque version of a file's content. Replacing a file (new inode), writing
 * into it (mtime, ctime) or resizing it changes the version; ctime cannot be
 * set back by users, so `touch -d` after an in-place edit still shows.
 */
export function versionOf(stat: BigIntStats): string {
  // VERSION_LENGTH characters.
  const identity = [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].join(':');
  // One-shot: a listing takes a version per file, and a Hash object each
  // cost twice the time.
  return hash('sha256', identity, 'hex').slice(0, VERSION_LENGTH);
}

// O_NONBLOCK so that opening a FIFO returns at once instead of parking a
// libuv threadpool thread until a writer appears; it has no effect on
// regular files, which are all we go on to read.
export const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

export const notFound = (name: string) => new StatusError(status.NOT_FOUND, `not found: ${name}`);

/**
 * What a failed open of `name` tells the client: NOT_FOUND for every cause,
 * so the answer never tells whether a file outside the root exists.
 */
export function openFailure(name: string, err: unknown): StatusError {
  if ((err as NodeJS.ErrnoException).code === 'ENAMETOOLONG') {
    return new StatusError(status.INVALID_ARGUMENT, `invalid name ${JSON.stringify(name)}: too long for the file system`);
  }
  return notFound(name);
}

/**
 * Opens `name` under `root` (a real path) for reading, or throws a
 * StatusError. Symlinks are followed only while they stay inside the root.
 * The check is made on the descriptor after opening, so a rename racing with
 * the request cannot swap in a file from outside. Every failure to open is
 * NOT_FOUND, so the answer never tells whether a file outside the root exists.
 */
export async function openServedFile(root: string, name: string): Promise<ServedFile> {
  const candidate = path.join(root, ...parseName(name));
  let handle: FileHandle;
  try {
    handle = await open(candidate, OPEN_FLAGS);
  } catch (err) {
    throw openFailure(name, err);
  }
  try {
    const stat = await handle.stat({ bigint: true });
    if (!stat.isFile()) throw notFound(name);
    if (!isInside(root, await openedPath(handle))) throw notFound(name);
    return { name, handle, stat, version: versionOf(stat) };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Where a descriptor really points (checked at startup: see `assertProcWorks`). */
export function openedPath(handle: FileHandle): Promise<string> {
  return readlink(`/proc/self/fd/${handle.fd}`);
}

const NO_PROC = "Linux's /proc is needed (/proc/self/fd pins each served file to one descriptor) and is not available here";

/**
 * Why the server cannot run, given what /proc/self/fd said the root's own
 * descriptor points to (undefined when it could not be read); undefined
 * when /proc works. Without it, Download could not check where an opened
 * file lies and every resume of an uncached file would fail as changed.
 */
export function procProblem(root: string, resolved: string | undefined): string | undefined {
  return resolved === root ? undefined : NO_PROC;
}

/** Refuses to start, in one line, where /proc does not resolve descriptors. */
export async function assertProcWorks(root: string): Promise<void> {
  const handle = await open(root, constants.O_RDONLY | constants.O_DIRECTORY);
  let resolved: string | undefined;
  try {
    resolved = await openedPath(handle).catch(() => undefined);
  } finally {
    await handle.close();
  }
  const problem = procProblem(root, resolved);
  if (problem !== undefined) throw new Error(problem);
}
