import type { TaskRecord } from './taskStore.js';

/**
 * What is on disk for one name before a download: the task map's record, and
 * whether the final file and the partial exist.
 */
export interface LocalFacts {
  record: TaskRecord | undefined;
  finalExists: boolean;
  /** Length of `<name>.part`, or null when there is none. */
  partSize: number | null;
}

/**
 * The plan's state (not the record's status, which is only incomplete or
 * complete). The four states of the lesson this project grew from, plus the two that
 * crashes and lost task maps leave behind:
 * - new: nothing here yet → download from 0;
 * - incomplete: a partial and its record → resume at the partial's length,
 *   asking the server for the same version;
 * - complete: recorded complete and present → nothing to do;
 * - deleted: recorded complete but the file is gone → download again;
 * - orphan-partial: a partial without a usable record → resume at its
 *   length and let the final digest decide;
 * - unverified: a final file the task map does not vouch for (a crash
 *   between rename and record, or a lost map) → compare its digest with the
 *   server's before trusting it.
 */
export type PlanState = 'new' | 'incomplete' | 'complete' | 'deleted' | 'orphan-partial' | 'unverified';

export type Plan =
  | { state: 'complete'; action: 'skip' }
  | { state: 'unverified'; action: 'verify' }
  | { state: Exclude<PlanState, 'complete' | 'unverified'>; action: 'download'; offset: number; expectedVersion: string | undefined };

export function planTask({ record, finalExists, partSize }: LocalFacts): Plan {
  if (record?.status === 'complete' && finalExists) return { state: 'complete', action: 'skip' };
  if (partSize !== null) {
    if (record?.status === 'incomplete') {
      // A partial longer than the file it belongs to cannot be resumed.
      if (partSize > record.size) return { state: 'incomplete', action: 'download', offset: 0, expectedVersion: undefined };
      return { state: 'incomplete', action: 'download', offset: partSize, expectedVersion: record.version };
    }
    return { state: 'orphan-partial', action: 'download', offset: partSize, expectedVersion: undefined };
  }
  if (finalExists) return { state: 'unverified', action: 'verify' };
  if (record?.status === 'complete') return { state: 'deleted', action: 'download', offset: 0, expectedVersion: undefined };
  return { state: 'new', action: 'download', offset: 0, expectedVersion: undefined };
}
