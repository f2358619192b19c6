// @ts-nocheck
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Makes renames into folders durable with as few folder fsyncs as will do:
 * one sync covers every rename made before it started, so downloads that
 * finish into one folder while a sync runs share the next one instead of
 * each paying for its own (a journal commit on a real disk).
 */
export class FolderSyncer {
  private readonly folders = new Map<string, { running?: Promise<void>; queued?: Promise<void> }>();

  constructor(private readonly syncFolder: (folder: string) => Promise<void> = fsyncFolder) {}

  /** Resolves once a sync of `folder` that started after this call has finished. */
  sync(folder: string): Promise<void> {
    let state = this.folders.get(folder);
    if (!state) {
      state = {};
      this.folders.set(folder, state);
    }
    if (state.queued) return state.queued;
    const own = state;
    // A sync already running may have started before the caller's rename.
    const queued: Promise<void> = (own.running ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        own.queued = undefined;
        own.running = queued;
        return this.syncFolder(folder);
      })
      .finally(() => {
        if (own.running === queued) own.running = undefined;
        if (!own.running && !own.queued && this.folders.get(folder) === own) this.folders.delete(folder);
      });
    own.queued = queued;
    return queued;
  }
}

export async function fsyncFolder(folder: string): Promise<void> {
  const handle = await open(folder, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
