import { constants, type BigIntStats, type Dirent } from 'node:fs';
import { open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { isInside } from '../shared/names.js';
import { openedPath } from './servedFile.js';

export interface ListedFile {
  name: string;
  stat: BigIntStats;
}

/** How far a listing got; shows in its call log line. */
export interface ListProgress {
  folders: number;
}

interface OpenFolder {
  handle: FileHandle;
  stat: BigIntStats;
}

/**
 * Regular files under `root` whose name starts with `prefix`, in name
 * order, found as they are asked for: a caller that writes each to a
 * stream with backpressure holds one folder's names at a time, and the
 * walk stops as soon as `signal` aborts. Only folders that can hold a
 * match are visited. Symlinks are listed when they resolve to a regular
 * file inside the root; symlinked folders are not entered, so a link loop
 * cannot make a listing endless. One folder is open at a time.
 */
export async function* listFiles(root: string, prefix: string, signal: AbortSignal, progress: ListProgress = { folders: 0 }): AsyncGenerator<ListedFile> {
  yield* walk(root, '', prefix, signal, progress);
}

async function* walk(root: string, relDir: string, prefix: string, signal: AbortSignal, progress: ListProgress): AsyncGenerator<ListedFile> {
  signal.throwIfAborted();
  const where = relDir === '' ? root : path.join(root, relDir);
  let folder = await openFolder(where);
  if (!folder) return;
  progress.folders += 1;
  const identity = folder.stat;
  try {
    for (const entry of await sortedEntries(folder.handle)) {
      signal.throwIfAborted();
      const name = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!couldContain(`${name}/`, prefix)) continue;
        await folder.handle.close();
        folder = undefined;
        yield* walk(root, name, prefix, signal, progress);
        // Only the same folder is read on from where it was left.
        folder = await openFolder(where, identity);
        if (!folder) return;
      } else if (name.startsWith(prefix)) {
        const file = await describe(root, folder.handle, entry, name);
        if (file) yield file;
      }
    }
  } finally {
    await folder?.handle.close();
  }
}

/**
 * A folder's entries in the order that makes the walk's output sorted by
 * full name: a folder sorts as its name plus '/', so `a.txt` comes before
 * everything in `a/`, as it does among full names.
 */
async function sortedEntries(handle: FileHandle): Promise<Dirent[]> {
  const entries = await readdir(`/proc/self/fd/${handle.fd}`, { withFileTypes: true });
  const key = (entry: Dirent) => (entry.isDirectory() ? `${entry.name}/` : entry.name);
  return entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

// O_NOFOLLOW: a folder swapped for a symlink is not entered; O_NONBLOCK
// as in servedFile.ts, should the name now be a FIFO.
const FOLDER_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Opens the folder at `where` (a real path under the root) only if the
 * descriptor really is that folder: a parent swapped for a symlink since
 * its entries were read would otherwise lead the walk outside the root.
 * With `same`, it must also still be that very folder.
 */
async function openFolder(where: string, same?: BigIntStats): Promise<OpenFolder | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(where, FOLDER_FLAGS);
  } catch {
    return undefined;
  }
  try {
    const [opened, info] = await Promise.all([openedPath(handle), handle.stat({ bigint: true })]);
    if (folderIsInPlace(where, opened, info, same)) return { handle, stat: info };
  } catch {
    // Treated as gone, below.
  }
  await handle.close();
  return undefined;
}

/**
 * Whether an opened folder may be listed: its descriptor resolves to the
 * path the walk meant (so no symlink anywhere on the way), it is a folder,
 * and, when reopened, it is the one read before.
 */
export function folderIsInPlace(meant: string, opened: string, info: BigIntStats, same?: BigIntStats): boolean {
  return opened === meant && info.isDirectory() && (!same || (info.dev === same.dev && info.ino === same.ino));
}

/** Whether names starting with `dirPrefix` can start with `prefix`. */
function couldContain(dirPrefix: string, prefix: string): boolean {
  return dirPrefix.startsWith(prefix) || prefix.startsWith(dirPrefix);
}

/** Looks at `entry` through its folder's descriptor, so the folder cannot be swapped under the lookup. */
async function describe(root: string, folder: FileHandle, entry: Dirent, name: string): Promise<ListedFile | undefined> {
  const at = `/proc/self/fd/${folder.fd}/${entry.name}`;
  try {
    if (entry.isSymbolicLink() && !isInside(root, await realpath(at))) return undefined;
    if (!entry.isFile() && !entry.isSymbolicLink()) return undefined;
    const info = await stat(at, { bigint: true });
    if (!info.isFile()) return undefined;
    return { name, stat: info };
  } catch {
    return undefined;
  }
}
