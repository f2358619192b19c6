import { parseName } from '../../shared/names.js';
import { InvalidNameError } from '../errors.js';
import type { ListedFile } from '../remoteFile.js';
import type { TaskRecord } from '../taskMap/taskRecord.js';

/**
 * The server folder a `get -r` argument names, as a List prefix: `data`
 * and `data/` both mean `data/`, so `data-old.bin` never matches; `.`, `/`
 * and the empty string mean the whole root ('').
 */
export function folderPrefixOf(argument: string): string {
  const trimmed = argument.replace(/\/+$/, '');
  if (trimmed === '' || trimmed === '.') return '';
  try {
    parseName(trimmed);
  } catch (err) {
    throw new InvalidNameError(`invalid folder ${JSON.stringify(argument)}: ${(err as Error).message}`);
  }
  return `${trimmed}/`;
}

/**
 * What a mirror does with one listed file:
 * - unchanged: recorded complete at the listed version and still on disk at
 *   its size → no call at all;
 * - batch: small enough to come whole in a DownloadMany stream;
 * - single: large, or a partial worth resuming → Download, by offset.
 */
export type MirrorAction = 'unchanged' | 'batch' | 'single';

/** Whether `remote` could be unchanged, which only the size on disk can then tell; saves a stat for every other file. */
export function mayBeUnchanged(remote: ListedFile, record: TaskRecord | undefined): boolean {
  return record?.status === 'complete' && record.version === remote.version && record.size === remote.size;
}

/**
 * `finalSize`: the length of the local file when mayBeUnchanged, else
 * ignored. A partial of a large file is resumed by Download; a small one
 * costs less to fetch again whole than to resume.
 */
export function mirrorActionOf(remote: ListedFile, record: TaskRecord | undefined, finalSize: number | null, smallFileBytes: number): MirrorAction {
  if (mayBeUnchanged(remote, record) && finalSize === remote.size) return 'unchanged';
  return remote.size <= smallFileBytes ? 'batch' : 'single';
}

/** Splits files into DownloadMany calls of at most `maxFiles` names and about `maxBytes` (one file always fits). */
export function batchesOf<T>(files: readonly T[], sizeOf: (file: T) => number, limits: { maxFiles: number; maxBytes: number }): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const file of files) {
    const size = sizeOf(file);
    if (batch.length > 0 && (batch.length >= limits.maxFiles || bytes + size > limits.maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(file);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Recorded names under `prefix` that the server no longer lists, in name order: what --delete may remove. */
export function orphansOf(recorded: readonly string[], listed: ReadonlySet<string>, prefix: string): string[] {
  // Names, not records, and filtered before sorted: a tree's records are
  // mostly listed, and at 100,000 collecting the records took twice as long.
  return recorded.filter((name) => name.startsWith(prefix) && !listed.has(name)).sort();
}

/**
 * What --delete does with an orphan's local file: remove it when it is what
 * we fetched (recorded complete, same size on disk) or our partial; keep a
 * file changed since, which is no longer ours to drop; forget a record
 * whose file is gone anyway.
 */
export function orphanActionOf(record: TaskRecord, finalSize: number | null): 'remove' | 'keep-changed' | 'forget' {
  if (record.status === 'incomplete') return 'remove';
  if (finalSize === null) return 'forget';
  return finalSize === record.size ? 'remove' : 'keep-changed';
}
