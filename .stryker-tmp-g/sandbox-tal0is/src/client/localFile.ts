// @ts-nocheck
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';

/** What is at a path: a regular file of some size, nothing, or something unusable and why. */
export type Found = { size: number } | 'missing' | { unusable: string };

/** Whether a path is a folder, a file, something else, or missing (or cannot be looked at): what a command line checks of the paths it is given. */
export async function kindOf(file: string): Promise<'file' | 'folder' | 'missing' | 'other'> {
  return stat(file).then(
    (found) => (found.isFile() ? 'file' : found.isDirectory() ? 'folder' : 'other'),
    () => 'missing',
  );
}

/** Looks at a local path without opening it: what `status` and `verify` report on. */
export async function findFile(file: string): Promise<Found> {
  try {
    const found = await stat(file);
    return found.isFile() ? { size: found.size } : { unusable: 'not a regular file' };
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : { unusable: message };
  }
}

/** The length of the regular file at `file`; null for nothing there, anything else, or a path that cannot be looked at. */
export async function regularFileSize(file: string): Promise<number | null> {
  const found = await findFile(file);
  return typeof found === 'object' && 'size' in found ? found.size : null;
}

/**
 * regularFileSize, synchronous: a mirror's plan looks at up to every file
 * of the tree, and a stat is cheaper than a trip through the threadpool
 * (the plan yields to the event loop between slices).
 */
export function regularFileSizeSync(file: string): number | null {
  try {
    const found = statSync(file, { throwIfNoEntry: false });
    return found?.isFile() ? found.size : null;
  } catch {
    // A file where a folder on the way should be (ENOTDIR), no permission:
    // nothing usable there, as for regularFileSize. What the download then
    // meets says what is wrong, for that file alone.
    return null;
  }
}
