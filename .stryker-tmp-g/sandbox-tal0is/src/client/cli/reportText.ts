// @ts-nocheck
import path from 'node:path';
import { formatBytes } from './parseUnits.js';
import type { DownloadResult, DownloadStart } from '../download/downloadOptions.js';

/** How a result is shown: a terminal gets short values, a pipe or file the full ones. */
export interface ResultView {
  short: boolean;
  /** Paths are shown relative to this folder when `short`. */
  cwd: string;
}

/** The first and last 8 hex digits: enough to compare by eye, short enough for a line. */
export function shortSha256(sha256: string): string {
  return sha256.length > 17 ? `${sha256.slice(0, 8)}…${sha256.slice(-8)}` : sha256;
}

/** Relative to `cwd` when that is shorter; a path outside it keeps its absolute form. */
export function shownPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative !== '' && relative.length < file.length ? relative : file;
}

export function describeResult(result: DownloadResult, view: ResultView): string {
  if (!result.transferred) {
    return result.state === 'unverified'
      ? `${result.name}: already present and matching the server's sha256, kept (${formatBytes(result.size)})`
      : `${result.name}: already complete, skipped (${formatBytes(result.size)})`;
  }
  const where = view.short ? shownPath(result.path, view.cwd) : result.path;
  const sha256 = view.short ? shortSha256(result.sha256) : result.sha256;
  const resumed = result.resumedFrom > 0 ? `, resumed from ${formatBytes(result.resumedFrom)}` : '';
  const retried = result.attempts > 1 ? `, ${result.attempts} attempts` : '';
  return `${result.name}: downloaded ${formatBytes(result.size)} to ${where}, sha256 ${sha256} verified${resumed}${retried}`;
}

/**
 * Said when a download picks up a partial from an earlier run, like wget's
 * "Continuing download"; later attempts of this run are retries, told apart.
 */
export function describeResume(start: DownloadStart): string | undefined {
  if (start.offset <= 0 || start.attempt !== 1) return undefined;
  return `${start.name}: resuming at ${formatBytes(start.offset)} of ${formatBytes(start.size)}`;
}

export interface BatchSummary {
  total: number;
  downloaded: number;
  skipped: number;
  failed: { name: string; message: string }[];
  bytesReceived: number;
  elapsedMs: number;
  interrupted: boolean;
  /** Files an interruption stopped mid-way, with what their partials hold. */
  partials: { name: string; bytesOnDisk: number }[];
  /** Files an interruption kept from starting. */
  neverStarted: string[];
}

const NAMES_SHOWN = 5;

/** Up to five names, then how many more: a summary stays a few lines for a batch of thousands. */
export function nameList(names: string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}

/** Lines that end a `get`: counts for a batch, and what an interruption left behind. */
export function describeSummary(summary: BatchSummary): string[] {
  const lines: string[] = [];
  const { partials, neverStarted } = summary;
  const onDisk = partials.reduce((sum, partial) => sum + partial.bytesOnDisk, 0);
  if (summary.total > 1) {
    const parts = [`${summary.downloaded} downloaded`, `${summary.skipped} already complete`, `${summary.failed.length} failed`];
    if (summary.interrupted) parts.push(`${partials.length} interrupted`, `${neverStarted.length} never started`);
    const failed = summary.failed.length > 0 ? `; failed: ${nameList(summary.failed.map((f) => f.name))}` : '';
    lines.push(
      `${summary.total} files: ${parts.join(', ')} (${formatBytes(summary.bytesReceived)} received in ${(summary.elapsedMs / 1000).toFixed(1)}s)${failed}`,
    );
  }
  if (partials.length > 0) {
    const each = partials.map((partial) => `${partial.name} (${formatBytes(partial.bytesOnDisk)})`);
    lines.push(`interrupted, ${formatBytes(onDisk)} saved on disk to resume from: ${nameList(each)}`);
  }
  if (summary.interrupted && neverStarted.length > 0) lines.push(`never started: ${nameList(neverStarted)}`);
  return lines;
}

/**
 * Breaks `text` into lines of at most `columns`, at spaces where it can: a
 * line the terminal wrapped (or cut, with auto-wrap off under the bars)
 * would lose its end or be drawn over by the next frame.
 */
export function fitToWidth(text: string, columns: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while ([...rest].length > columns) {
    const chars = [...rest];
    const head = chars.slice(0, columns + 1).join('');
    const space = head.lastIndexOf(' ');
    const cut = space > 0 ? space : chars.slice(0, columns).join('').length;
    lines.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, '');
  }
  lines.push(rest);
  return lines;
}
