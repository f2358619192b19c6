// @ts-nocheck
import { findFile } from '../localFile.js';
import { outputPathsOf } from '../outputPaths.js';
import type { TaskRecord } from '../taskMap/taskRecord.js';
import { hashFile } from './partialFile.js';

/**
 * What re-reading a file says against its record, like aria2c
 * --check-integrity:
 * - ok: the recorded size and SHA-256;
 * - damaged: the recorded size, another SHA-256;
 * - size-differs: another length (truncated or grown);
 * - missing: no file;
 * - unreadable: a file that cannot be read (not a regular file, no permission);
 * - not-complete: the record is of a download still under way, with no digest yet;
 * - not-found: the task map has no record of that name.
 */
export type LocalVerdict = 'ok' | 'damaged' | 'size-differs' | 'missing' | 'unreadable' | 'not-complete' | 'not-found';

export interface VerifyResult {
  name: string;
  verdict: LocalVerdict;
  /** Where the file is looked for; null for a name without a record. */
  path: string | null;
  /** Bytes on disk; null without a readable file. */
  size: number | null;
  expectedSize: number | null;
  /** SHA-256 (hex) of the bytes on disk, when they were read. */
  sha256: string | null;
  expectedSha256: string | null;
  /** Why the file could not be read, for `unreadable`. */
  problem?: string;
}

/**
 * The verdict from the record and what is on disk. `sha256` undefined means
 * the file was not read yet: 'read' asks for its digest, which only a file
 * of the recorded length is worth.
 */
export function localVerdict(record: TaskRecord | undefined, size: number | null, sha256?: string): LocalVerdict | 'read' {
  if (record === undefined) return 'not-found';
  if (record.status !== 'complete') return 'not-complete';
  if (size === null) return 'missing';
  if (size !== record.size) return 'size-differs';
  if (sha256 === undefined) return 'read';
  return sha256 === record.sha256 ? 'ok' : 'damaged';
}

/**
 * Re-hashes the files of `names` (all complete records when none are given)
 * under `out` against the task map, one at a time. `onDamaged` is told of
 * each file whose bytes are not the recorded ones, before the next is read.
 */
export async function verifyRecords(
  out: string,
  lookup: (name: string) => TaskRecord | undefined,
  names: string[],
  onDamaged: (record: TaskRecord) => Promise<unknown>,
): Promise<VerifyResult[]> {
  const results: VerifyResult[] = [];
  for (const name of names) {
    const record = lookup(name);
    const base = { name, expectedSize: record?.size ?? null, expectedSha256: record?.sha256 ?? null, sha256: null };
    if (record === undefined || record.status !== 'complete') {
      results.push({ ...base, verdict: localVerdict(record, null) as LocalVerdict, path: null, size: null });
      continue;
    }
    const { finalPath } = outputPathsOf(out, name);
    const seen = await findFile(finalPath);
    if (seen !== 'missing' && 'unusable' in seen) {
      results.push({ ...base, verdict: 'unreadable', path: finalPath, size: null, problem: seen.unusable });
      continue;
    }
    const found = seen === 'missing' ? null : seen.size;
    const first = localVerdict(record, found);
    if (first !== 'read') {
      results.push({ ...base, verdict: first, path: finalPath, size: found });
      continue;
    }
    let read: { size: number; sha256: string };
    try {
      read = await hashFile(finalPath);
    } catch (err) {
      results.push({ ...base, verdict: 'unreadable', path: finalPath, size: found, problem: (err as Error).message });
      continue;
    }
    const verdict = localVerdict(record, read.size, read.sha256) as LocalVerdict;
    if (verdict === 'damaged') await onDamaged(record);
    results.push({ ...base, verdict, path: finalPath, size: read.size, sha256: read.sha256 });
  }
  return results;
}
