import type { BigIntStats, Dirent } from 'node:fs';
import { opendir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isInside } from '../shared/names.js';

export interface ListedFile {
  name: string;
  stat: BigIntStats;
}

/**
 * Regular files under `root` whose name starts with `prefix`, sorted by name.
 * Only folders that can hold a match are visited. Symlinks are listed when
 * they resolve to a regular file inside the root; symlinked folders are not
 * entered, so a link loop cannot make a listing endless.
 */
export async function listFiles(root: string, prefix: string): Promise<ListedFile[]> {
  const found: ListedFile[] = [];
  await walk(root, '', prefix, found);
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function walk(root: string, relDir: string, prefix: string, found: ListedFile[]): Promise<void> {
  let dir;
  try {
    dir = await opendir(path.join(root, relDir));
  } catch {
    return;
  }
  for await (const entry of dir) {
    const name = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (couldContain(`${name}/`, prefix)) await walk(root, name, prefix, found);
    } else if (name.startsWith(prefix)) {
      const file = await describe(root, name, entry);
      if (file) found.push(file);
    }
  }
}

/** Whether names starting with `dirPrefix` can start with `prefix`. */
export function couldContain(dirPrefix: string, prefix: string): boolean {
  return dirPrefix.startsWith(prefix) || prefix.startsWith(dirPrefix);
}

async function describe(root: string, name: string, entry: Dirent): Promise<ListedFile | undefined> {
  const full = path.join(root, name);
  try {
    if (entry.isSymbolicLink() && !isInside(root, await realpath(full))) return undefined;
    if (!entry.isFile() && !entry.isSymbolicLink()) return undefined;
    const info = await stat(full, { bigint: true });
    if (!info.isFile()) return undefined;
    return { name, stat: info };
  } catch {
    return undefined;
  }
}
