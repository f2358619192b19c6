// @ts-nocheck
import { constants } from 'node:fs';
import { open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { isInside } from '../shared/names.js';
import { LocalIoError } from './errors.js';

/**
 * A folder under --out, held open and checked by its descriptor. Paths from
 * `at` go through /proc/self/fd/N (Linux's stand-in for openat, which Node
 * lacks), so they reach the folder that was checked even if a folder on the
 * way is renamed and replaced by a symlink afterwards.
 */
export interface PinnedFolder {
  /** A path to `name` in this folder. */
  at(name: string): string;
  /**
   * Opens `name` in this folder without following a symlink in its place,
   * and checks where the descriptor really points.
   */
  open(name: string, flags: number, mode?: number): Promise<FileHandle>;
  close(): Promise<void>;
}

/** Pins `folder`, which must be `out` (a real path) or lie under it. */
export async function pinFolder(out: string, folder: string): Promise<PinnedFolder> {
  const handle = await open(folder, constants.O_RDONLY | constants.O_DIRECTORY);
  let where: { real: string; viaProc: boolean };
  try {
    where = await whereIs(handle, folder);
    if (!isWithin(out, where.real)) throw outsideError(folder, where.real, out);
  } catch (err) {
    await handle.close();
    throw err;
  }
  const at = (name: string) => path.join(where.viaProc ? procPathOf(handle) : folder, name);
  return {
    at,
    open: async (name, flags, mode) => {
      const file = await open(at(name), flags | constants.O_NOFOLLOW, mode);
      try {
        const { real } = await whereIs(file, path.join(folder, name));
        if (!isWithin(out, path.dirname(real))) throw outsideError(path.join(folder, name), real, out);
        return file;
      } catch (err) {
        await file.close();
        throw err;
      }
    },
    close: () => handle.close(),
  };
}

/** Opens `file`, a path under `out`, only if it really lands under `out`. */
export async function openInside(out: string, file: string, flags: number, mode?: number): Promise<FileHandle> {
  const folder = await pinFolder(out, path.dirname(file));
  try {
    return await folder.open(path.basename(file), flags, mode);
  } finally {
    await folder.close();
  }
}

const procPathOf = (handle: FileHandle) => `/proc/self/fd/${handle.fd}`;

/** Where a descriptor really points: from /proc where Linux provides it, else (racily) from its path. */
async function whereIs(handle: FileHandle, candidate: string): Promise<{ real: string; viaProc: boolean }> {
  try {
    return { real: await readlink(procPathOf(handle)), viaProc: true };
  } catch {
    return { real: await realpath(candidate), viaProc: false };
  }
}

const isWithin = (out: string, real: string) => real === out || isInside(out, real);

function outsideError(file: string, real: string, out: string): LocalIoError {
  return new LocalIoError('write', file, `it leads to ${real}, outside ${out}; files are only written into real folders under it`);
}
