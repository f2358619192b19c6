// @ts-nocheck
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * mkdir whose failure names the real cause. A recursive mkdir under a
 * read-only mount reports ENOENT, not EROFS, which sends a person looking
 * for a missing folder instead of at the disk.
 */
export async function createFolder(dir: string, options: { recursive?: boolean } = {}): Promise<void> {
  try {
    await mkdir(dir, options);
  } catch (err) {
    throw await explainMkdirFailure(dir, err as NodeJS.ErrnoException);
  }
}

/**
 * For an ENOENT from mkdir: asks the nearest folder that exists whether it
 * can be written, and if not, returns that refusal (EROFS, EACCES, ...) as
 * the error, naming the folder. Any other error, or a nearest folder that is
 * writable (it was a race, or a dangling symlink), keeps `err`.
 */
export async function explainMkdirFailure(dir: string, err: NodeJS.ErrnoException): Promise<NodeJS.ErrnoException> {
  // A refusal mkdir reports itself (EACCES where no mount hides it) reads
  // the same as one found behind an ENOENT: the folder it came from.
  if (err.code !== undefined && err.code in REFUSALS && err.path !== undefined) {
    return refusalError(path.dirname(err.path), err.code, dir, err);
  }
  if (err.code !== 'ENOENT') return err;
  const nearest = await nearestExistingFolder(path.dirname(path.resolve(dir)));
  if (nearest === undefined) return err;
  const refusal = await access(nearest, constants.W_OK | constants.X_OK).then(
    () => undefined,
    (probe: NodeJS.ErrnoException) => probe.code,
  );
  if (refusal === undefined) return err;
  return refusalError(nearest, refusal, dir, err);
}

function refusalError(nearest: string, code: string, dir: string, cause: NodeJS.ErrnoException): NodeJS.ErrnoException {
  return Object.assign(new Error(describeRefusal(nearest, code), { cause }), { code, path: dir, syscall: 'mkdir' });
}

async function nearestExistingFolder(start: string): Promise<string | undefined> {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const found = await stat(dir).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (found) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

const REFUSALS: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
};

/** What stops folders from being created under `nearest`, the nearest folder that exists. */
export function describeRefusal(nearest: string, code: string): string {
  return `${REFUSALS[code] ?? code} (${code}) at ${nearest}, the nearest folder that exists`;
}
