// @ts-nocheck
import { constants } from 'node:fs';
import { copyFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { locally } from '../errors.js';
import type { OutputPaths } from '../outputPaths.js';
import { pinFolder } from '../pinnedFolder.js';

/**
 * Copies the published file to its partial, which a repair then patches or
 * an append extends while readers keep the published file until the new
 * one is verified and renamed over it. A clone where the file system has
 * them (btrfs, XFS: no bytes copied), a real copy elsewhere. The partial
 * is made afresh in its folder, pinned under `out`: whatever was in its
 * place, a symlink included, is removed, not written through.
 */
export async function copyToPartial(out: string, paths: OutputPaths): Promise<void> {
  await locally('copy', paths.finalPath, async () => {
    const folder = await pinFolder(out, path.dirname(paths.partPath));
    try {
      const part = folder.at(path.basename(paths.partPath));
      await unlink(part).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await copyFile(folder.at(path.basename(paths.finalPath)), part, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    } finally {
      await folder.close();
    }
  });
}
