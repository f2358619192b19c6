import { stat } from 'node:fs/promises';

/** What is at a path: a regular file of some size, nothing, or something unusable and why. */
export type Found = { size: number } | 'missing' | { unusable: string };

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
