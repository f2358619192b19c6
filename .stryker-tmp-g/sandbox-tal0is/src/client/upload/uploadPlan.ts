// @ts-nocheck
import { hash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import type { TaskRecord } from '../taskMap/taskRecord.js';

/**
 * The state an upload is found in, from its record in the upload map and
 * the local file, with the same names as a download's:
 * - new: nothing recorded for this content → hash it, ask the server what
 *   it holds of it, send the rest;
 * - incomplete: recorded as begun for this very local file → no hash,
 *   continue at the server's committed offset;
 * - complete: recorded as published from this very local file → skip;
 * - changed: recorded complete, but the local file is not the one it was
 *   (another inode, size or times) → hash it again, and upload it again
 *   in place of the recorded content unless it is the same.
 */
export type UploadState = 'new' | 'incomplete' | 'complete' | 'changed';

export type UploadPlan =
  | { state: 'complete'; action: 'skip' }
  | { state: 'incomplete'; action: 'resume'; sha256: string }
  /** `replaces`: the recorded digest of what this client published under the name, which the new content may replace. */
  | { state: 'new' | 'changed'; action: 'hash'; replaces: string | undefined };

/** What the upload map knows the local file by: its length, and an identity that changes whenever its content may have. */
export interface LocalIdentity {
  size: number;
  version: string;
}

export function planUpload(record: TaskRecord | undefined, local: LocalIdentity): UploadPlan {
  const same = record !== undefined && record.version === local.version && record.size === local.size;
  if (record?.status === 'complete')
    return same ? { state: 'complete', action: 'skip' } : { state: 'changed', action: 'hash', replaces: record.sha256 ?? undefined };
  if (same && record.sha256 !== null) return { state: 'incomplete', action: 'resume', sha256: record.sha256 };
  return { state: 'new', action: 'hash', replaces: undefined };
}

/**
 * The local file's identity as the server makes a version: device, inode,
 * size and both times, so a rewrite, a replacement or a `touch -d` after
 * an edit all show (ctime cannot be set back).
 */
export function localVersionOf(stat: Pick<BigIntStats, 'dev' | 'ino' | 'size' | 'mtimeNs' | 'ctimeNs'>): string {
  return hash('sha256', [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].join(':'), 'hex').slice(0, 24);
}

/** A replace precondition as given (`--replace`): a sha256 is 64 hex digits, anything else is a version. */
export function preconditionOf(replaces: string | undefined): { ifSha256Match: string; ifVersionMatch: string } {
  if (replaces === undefined) return { ifSha256Match: '', ifVersionMatch: '' };
  return /^[0-9a-f]{64}$/.test(replaces) ? { ifSha256Match: replaces, ifVersionMatch: '' } : { ifSha256Match: '', ifVersionMatch: replaces };
}
