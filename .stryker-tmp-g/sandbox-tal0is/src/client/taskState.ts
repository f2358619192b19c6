// @ts-nocheck
import type { RemoteFile } from './remoteFile.js';
import type { TaskRecord } from './taskMap/taskRecord.js';

/**
 * What is on disk for one name before a download: the task map's record, and
 * the lengths of the final file and the partial.
 */
export interface LocalFacts {
  record: TaskRecord | undefined;
  /** Length of `<name>`, or null when there is none. */
  finalSize: number | null;
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
 * - complete: recorded complete and present at its recorded size → nothing
 *   to fetch, unless the server's copy changed (see remoteVerdict);
 * - deleted: recorded complete but the file is gone → download again;
 * - orphan-partial: a partial without a usable record → resume at its
 *   length and let the final digest decide;
 * - unverified: a final file the task map does not vouch for (a crash
 *   between rename and record, a lost map, or a size other than the
 *   recorded one) → compare its digest with the server's before trusting it.
 */
export type PlanState = 'new' | 'incomplete' | 'complete' | 'deleted' | 'orphan-partial' | 'unverified';

export type Plan =
  | { state: 'complete'; action: 'skip' }
  | { state: 'unverified'; action: 'verify' }
  | { state: Exclude<PlanState, 'complete' | 'unverified'>; action: 'download'; offset: number; expectedVersion: string | undefined };

export function planTask({ record, finalSize, partSize }: LocalFacts): Plan {
  if (record?.status === 'complete' && finalSize === record.size) return { state: 'complete', action: 'skip' };
  if (partSize !== null) {
    if (record?.status === 'incomplete') {
      // A partial longer than the file it belongs to cannot be resumed.
      if (partSize > record.size) return { state: 'incomplete', action: 'download', offset: 0, expectedVersion: undefined };
      return { state: 'incomplete', action: 'download', offset: partSize, expectedVersion: record.version };
    }
    return { state: 'orphan-partial', action: 'download', offset: partSize, expectedVersion: undefined };
  }
  if (finalSize !== null) return { state: 'unverified', action: 'verify' };
  if (record?.status === 'complete') return { state: 'deleted', action: 'download', offset: 0, expectedVersion: undefined };
  return { state: 'new', action: 'download', offset: 0, expectedVersion: undefined };
}

/**
 * What the server's Stat says of a file recorded complete:
 * - current: same size and version, or no version match but the same
 *   sha256 (a copy, a touch or a restore changes the version, which is made
 *   of inode, size and times, not of the content) → keep the file;
 * - same-content: kept too, and the record takes the new version so the next
 *   check is decided by version alone;
 * - changed: fetch it again.
 */
export type RemoteVerdict = 'current' | 'same-content' | 'changed';

export function remoteVerdict(record: TaskRecord, remote: Pick<RemoteFile, 'size' | 'version' | 'sha256'>): RemoteVerdict {
  if (remote.size !== record.size) return 'changed';
  if (remote.version === record.version) return 'current';
  // A server that did not compute the digest sends '', which no record
  // holds (a task map's sha256 is 64 hex digits or null).
  if (remote.sha256 === record.sha256) return 'same-content';
  return 'changed';
}
