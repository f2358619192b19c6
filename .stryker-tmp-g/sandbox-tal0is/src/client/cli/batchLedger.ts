// @ts-nocheck
import { stat } from 'node:fs/promises';
import { outputPathsOf } from '../outputPaths.js';
import type { DownloadProgress, DownloadStart } from '../download/downloadOptions.js';

/**
 * Which files of a batch started and which settled, so that an interrupted
 * run can say what it left on disk and what it never began.
 */
export function batchLedger(names: string[]) {
  const started = new Set<string>();
  const settled = new Set<string>();
  const last = new Map<string, number>();
  const thisRun = new Map<string, number>();
  const unsettled = () => names.filter((name) => !settled.has(name));
  return {
    start({ name, offset }: DownloadStart) {
      started.add(name);
      last.set(name, offset);
    },
    progress({ name, received }: DownloadProgress) {
      thisRun.set(name, (thisRun.get(name) ?? 0) + Math.max(0, received - (last.get(name) ?? received)));
      last.set(name, received);
    },
    settle(name: string) {
      settled.add(name);
    },
    /** Bytes that arrived in this run for files that did not settle. */
    unsettledBytesThisRun: () => unsettled().reduce((sum, name) => sum + (thisRun.get(name) ?? 0), 0),
    neverStarted: () => unsettled().filter((name) => !started.has(name)),
    /** Started files that did not settle, with the length of their partials now. */
    partials: (out: string) =>
      Promise.all(
        unsettled()
          .filter((name) => started.has(name))
          .map(async (name) => ({ name, bytesOnDisk: await lengthOf(outputPathsOf(out, name).partPath, last.get(name) ?? 0) })),
      ),
  };
}

async function lengthOf(file: string, lastSeen: number): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    // Unreadable now: the last length the download reported is the best account.
    return lastSeen;
  }
}
