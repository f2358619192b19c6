// @ts-nocheck
import path from 'node:path';
import { status } from '../../shared/grpcStatus.js';
import { LocalIoError, type ClientError } from '../errors.js';
import { describeFailure } from './describeFailure.js';
import type { BatchSummary, ResultView } from './reportText.js';
import { shortSha256, shownPath, nameList } from './reportText.js';
import { formatBytes } from './parseUnits.js';
import type { UploadResult } from '../upload/uploadFile.js';

/** What `put` uploads: each local file and its name on the server. */
export interface PutItem {
  file: string;
  name: string;
}

/**
 * The server names of `files`: `--as NAME` for a single file, else each
 * file's own name under `--to PREFIX` (a server folder; `logs` and `logs/`
 * mean the same). Throws a RangeError for a usage error.
 */
export function putItemsOf(files: string[], flags: { to?: string; as?: string }): PutItem[] {
  if (flags.as !== undefined) {
    if (files.length !== 1) throw new RangeError('--as names one file; give --to for several');
    if (flags.to !== undefined) throw new RangeError('--as and --to go separately: --as is the whole name');
    return [{ file: files[0]!, name: flags.as }];
  }
  return files.map((file) => ({ file, name: joinPrefix(flags.to, path.basename(file)) }));
}

/** `name` under the server folder `prefix` ('' or '.' for the root). */
export function joinPrefix(prefix: string | undefined, name: string): string {
  const folder = (prefix ?? '').replace(/\/+$/, '');
  return folder === '' || folder === '.' ? name : `${folder}/${name}`;
}

/** What a `put` batch did: as a get's summary, in its own words. */
export interface PutSummary {
  total: number;
  uploaded: number;
  skipped: number;
  failed: BatchSummary['failed'];
  bytesSent: number;
  elapsedMs: number;
  interrupted: boolean;
}

/**
 * A failed upload's line: as a download's, except where the words are a
 * download's own (a local error's remedy, a digest's).
 */
export function describeUploadFailure(name: string, err: ClientError, server: string, secure: boolean): string {
  if (err.kind === 'local-io') return err instanceof LocalIoError && err.errno !== undefined ? `${err.message}; fix that and run again` : err.message;
  if (err.kind === 'remote-status' && err.code === status.DATA_LOSS) return `${name}: ${err.message}`;
  return describeFailure(name, err, server, secure);
}

export function describeUpload(result: UploadResult, view: ResultView): string {
  if (!result.transferred) {
    return result.state === 'complete' || result.state === 'changed'
      ? `${result.name}: already uploaded, skipped (${formatBytes(result.size)})`
      : `${result.name}: the server already holds this content (${formatBytes(result.size)})`;
  }
  const from = view.short ? shownPath(result.path, view.cwd) : result.path;
  const sha256 = view.short ? shortSha256(result.sha256) : result.sha256;
  const resumed = result.resumedFrom > 0 ? `, resumed from ${formatBytes(result.resumedFrom)}` : '';
  const retried = result.attempts > 1 ? `, ${result.attempts} attempts` : '';
  return `${result.name}: uploaded ${formatBytes(result.size)} from ${from}, sha256 ${sha256} verified by the server${resumed}${retried}`;
}

export function describePutSummary(summary: PutSummary): string[] {
  if (summary.total <= 1) return [];
  const parts = [`${summary.uploaded} uploaded`, `${summary.skipped} already there`, `${summary.failed.length} failed`];
  const failed = summary.failed.length > 0 ? `; failed: ${nameList(summary.failed.map((f) => f.name))}` : '';
  return [`${summary.total} files: ${parts.join(', ')} (${formatBytes(summary.bytesSent)} sent in ${(summary.elapsedMs / 1000).toFixed(1)}s)${failed}`];
}
