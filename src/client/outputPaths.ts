import { lstatSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { joinName, parseName, PARTIAL_SUFFIX } from '../shared/names.js';
import { createFolder } from './createFolder.js';
import { InvalidNameError, LocalIoError } from './errors.js';

export interface OutputPaths {
  /** Where the verified file is published. */
  finalPath: string;
  /** Where bytes land until the digest matches. */
  partPath: string;
}

/** Where `name` goes under `out`, without touching the disk. */
export function outputPathsOf(out: string, name: string): OutputPaths {
  const finalPath = joinName(out, name);
  return { finalPath, partPath: finalPath + PARTIAL_SUFFIX };
}

/**
 * Creates the folders `name` needs under `out` and returns its paths. Every
 * folder on the way must be a real folder, not a symlink, so nothing is
 * ever written outside `out`, whatever names a server or a list suggests.
 * Folders found good are remembered in `checked`, which a batch shares.
 */
export async function prepareOutputPaths(out: string, name: string, reserved: string[], checked = new Set<string>()): Promise<OutputPaths> {
  const paths = outputPathsOf(out, name);
  if (reserved.includes(paths.finalPath) || reserved.includes(paths.partPath)) {
    throw new InvalidNameError(`invalid name ${JSON.stringify(name)}: it would overwrite the task map or its lock`);
  }
  // Another name's partial: downloading both into one folder would let one
  // overwrite the other's bytes.
  if (name.endsWith(PARTIAL_SUFFIX)) {
    throw new InvalidNameError(`invalid name ${JSON.stringify(name)}: names ending in ${PARTIAL_SUFFIX} are kept for the partials of other downloads in --out`);
  }
  const folders = parseName(name).slice(0, -1);
  let dir = out;
  for (const folder of folders) {
    dir = path.join(dir, folder);
    if (checked.has(dir)) continue;
    await createFolder(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    const info = await lstat(dir);
    if (!info.isDirectory()) {
      throw new LocalIoError(
        'write',
        name,
        `${dir} is ${info.isSymbolicLink() ? 'a symlink' : 'not a folder'}; files are only written into real folders under ${out}`,
      );
    }
    checked.add(dir);
  }
  return paths;
}

/**
 * Whether no folder on the way to `name` under `out` is a symlink or
 * something else than a folder: what a file found there must pass before
 * it is taken for ours. A folder not there yet passes (nothing can be found
 * under it; the download makes it). Synchronous, each folder looked at
 * once per `known`.
 */
export function foldersAreReal(out: string, name: string, known: Map<string, boolean>): boolean {
  let dir = out;
  for (const folder of name.split('/').slice(0, -1)) {
    dir = path.join(dir, folder);
    let real = known.get(dir);
    if (real === undefined) {
      try {
        const info = lstatSync(dir, { throwIfNoEntry: false });
        real = info === undefined || info.isDirectory();
      } catch {
        // No permission, say: the download of the name tells.
        real = false;
      }
      known.set(dir, real);
    }
    if (!real) return false;
  }
  return true;
}
