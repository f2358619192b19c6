import { constants, type BigIntStats, type Dirent } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { checkName } from '../shared/names.js';
import { StatusError } from '../shared/statusError.js';
import type { EntryStat, FsThread } from './fsThread.js';
import { openedPath } from './servedFile.js';

export interface ListedFile {
  name: string;
  stat: EntryStat;
}

/** Files of one folder stat'ed in one request to the file-system thread. */
const STAT_BATCH = 1000;

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
 * order, in runs of up to STAT_BATCH files of one folder, found as they
 * are asked for: a caller that writes them to a stream with backpressure
 * holds a few runs at a time, and the walk stops as soon as `signal`
 * aborts. The next runs are found while the caller sends the current one
 * (see readAhead). Only folders that can hold a
 * match are visited. Symlinks are listed when they resolve to a regular
 * file inside the root; symlinked folders are not entered, so a link loop
 * cannot make a listing endless. One folder is open at a time. A folder's
 * files are stat'ed in batches on `thread`, through the folder's
 * descriptor: one message per batch instead of a thread-pool round trip
 * per file.
 */
export async function* listFiles(
  root: string,
  thread: FsThread,
  prefix: string,
  signal: AbortSignal,
  progress: ListProgress = { folders: 0 },
): AsyncGenerator<ListedFile[]> {
  yield* readAhead(walk({ root, thread, prefix, signal, progress }, ''), RUNS_AHEAD);
}

/** Names one ListNames call may ask for (see the proto). */
const MAX_NAMES = 10_000;

/**
 * The files among `names` that listFiles would list, in the order given
 * (each once), in runs of the names next to each other that share a
 * folder: one folder open and one request to the file-system thread per
 * run. A name that is not valid, or leads through a symlink or a missing
 * folder, is left out, as a walk would never reach it.
 */
export async function* namedFiles(
  root: string,
  thread: FsThread,
  names: readonly string[],
  signal: AbortSignal,
  progress: ListProgress = { folders: 0 },
): AsyncGenerator<ListedFile[]> {
  if (names.length > MAX_NAMES) throw new StatusError(status.INVALID_ARGUMENT, `${names.length} names asked for; at most ${MAX_NAMES} per call`);
  const seen = new Set<string>();
  const runs: { folder: string; names: string[] }[] = [];
  for (const name of names) {
    if (seen.has(name) || !isValidName(name)) continue;
    seen.add(name);
    const cut = name.lastIndexOf('/');
    const folder = cut < 0 ? '' : name.slice(0, cut);
    const last = runs.at(-1);
    if (last?.folder === folder && last.names.length < STAT_BATCH) last.names.push(name);
    else runs.push({ folder, names: [name] });
  }
  yield* readAhead(statRuns(root, thread, runs, signal, progress), RUNS_AHEAD);
}

async function* statRuns(
  root: string,
  thread: FsThread,
  runs: readonly { folder: string; names: string[] }[],
  signal: AbortSignal,
  progress: ListProgress,
): AsyncGenerator<ListedFile[]> {
  for (const run of runs) {
    signal.throwIfAborted();
    const folder = await openFolder(run.folder === '' ? root : path.join(root, run.folder));
    if (!folder) continue;
    progress.folders += 1;
    try {
      // What each is, the thread finds out: a symlink is followed only inside the root.
      const request = run.names.map((name) => ({ name: name.slice(run.folder.length === 0 ? 0 : run.folder.length + 1), symlink: undefined }));
      const stats = await thread.stat(root, `/proc/self/fd/${folder.handle.fd}`, request);
      const found: ListedFile[] = [];
      for (const [index, name] of run.names.entries()) {
        const stat = stats[index];
        if (stat) found.push({ name, stat });
      }
      if (found.length > 0) yield found;
    } finally {
      await folder.handle.close();
    }
  }
}

function isValidName(name: string): boolean {
  try {
    checkName(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs found ahead of the caller: the file-system thread stats the next
 * folder while the caller encodes and sends this one, where one after the
 * other left each side idle half the time (measured: 3.4 s for 100,000
 * files, most of it waiting).
 */
const RUNS_AHEAD = 2;

/**
 * Yields what `source` yields, asking it for up to `ahead` more values
 * before they are wanted. An async generator queues its next() calls, so
 * the source's own order and logic are unchanged. A failure surfaces where
 * its value would have been; when the caller stops, the source is closed
 * after the values already asked for.
 */
export async function* readAhead<T>(source: AsyncGenerator<T>, ahead: number): AsyncGenerator<T> {
  const pending: Promise<IteratorResult<T>>[] = [];
  const ask = () => {
    const next = source.next();
    // Observed now so that a failure of a value never wanted is not an
    // unhandled rejection; it is rethrown below when its turn comes.
    next.catch(() => undefined);
    pending.push(next);
  };
  try {
    ask();
    for (;;) {
      while (pending.length < ahead + 1) ask();
      const result = await pending.shift()!;
      if (result.done) return;
      yield result.value;
    }
  } finally {
    await Promise.allSettled(pending);
    await source.return(undefined);
  }
}

interface Walk {
  root: string;
  thread: FsThread;
  prefix: string;
  signal: AbortSignal;
  progress: ListProgress;
}

async function* walk(how: Walk, relDir: string): AsyncGenerator<ListedFile[]> {
  const { root, prefix, signal, progress } = how;
  signal.throwIfAborted();
  const where = relDir === '' ? root : path.join(root, relDir);
  let folder = await openFolder(where);
  if (!folder) return;
  progress.folders += 1;
  const identity = folder.stat;
  try {
    const entries = await sortedEntries(folder.handle);
    const nameOf = (entry: Dirent) => (relDir === '' ? entry.name : `${relDir}/${entry.name}`);
    for (let at = 0; at < entries.length;) {
      signal.throwIfAborted();
      const entry = entries[at]!;
      if (entry.isDirectory()) {
        at += 1;
        const name = nameOf(entry);
        if (!couldContain(`${name}/`, prefix)) continue;
        await folder.handle.close();
        folder = undefined;
        yield* walk(how, name);
        // Only the same folder is read on from where it was left.
        folder = await openFolder(where, identity);
        if (!folder) return;
        continue;
      }
      // The files up to the next folder, which must come out in between.
      const run: Dirent[] = [];
      for (; at < entries.length && !entries[at]!.isDirectory() && run.length < STAT_BATCH; at += 1) {
        const candidate = entries[at]!;
        if ((candidate.isFile() || candidate.isSymbolicLink()) && nameOf(candidate).startsWith(prefix)) run.push(candidate);
      }
      if (run.length === 0) continue;
      const request = run.map((file) => ({ name: file.name, symlink: file.isSymbolicLink() }));
      const stats = await how.thread.stat(root, `/proc/self/fd/${folder.handle.fd}`, request);
      const found: ListedFile[] = [];
      for (const [index, file] of run.entries()) {
        const stat = stats[index];
        if (stat) found.push({ name: nameOf(file), stat });
      }
      if (found.length > 0) yield found;
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
