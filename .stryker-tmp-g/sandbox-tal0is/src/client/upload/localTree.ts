// @ts-nocheck
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { locally } from '../errors.js';

/** A file found under a local folder, with its path under it ('/'-separated). */
export interface LocalTreeFile {
  file: string;
  relative: string;
}

/**
 * The regular files under `folder`, in name order: symlinks to files are
 * taken as the files they point to, symlinked folders are not entered (a
 * link loop cannot make the walk endless), and anything else (FIFOs,
 * sockets, devices) is left out.
 */
export async function localTree(folder: string): Promise<LocalTreeFile[]> {
  const found: LocalTreeFile[] = [];
  const walk = async (relative: string): Promise<void> => {
    const where = relative === '' ? folder : path.join(folder, relative);
    const entries: Dirent[] = await locally('read folder', where, () => readdir(where, { withFileTypes: true }));
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const name = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const file = path.join(folder, name);
      if (entry.isDirectory()) await walk(name);
      else if (
        entry.isFile() ||
        (entry.isSymbolicLink() &&
          (await stat(file).then(
            (s) => s.isFile(),
            () => false,
          )))
      )
        found.push({ file, relative: name });
    }
  };
  await walk('');
  return found;
}
