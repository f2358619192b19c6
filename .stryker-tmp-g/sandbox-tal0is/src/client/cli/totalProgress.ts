// @ts-nocheck
import { formatBytes } from './parseUnits.js';

/** What the total line knows of a batch at one moment. */
export interface BatchTally {
  totalFiles: number;
  /** Files done, skipped or failed. */
  finishedFiles: number;
  /** Files whose size the server has told; the rest have not started. */
  sizedFiles: number;
  /** Sizes of those files. */
  knownBytes: number;
  /** Their bytes on disk, partials from earlier runs included. */
  bytesOnDisk: number;
  /** Bytes that arrived in this run: the rate is measured on these alone. */
  bytesThisRun: number;
  elapsedMs: number;
}

export interface TotalView {
  label: string;
  done: string;
  size: string;
  rate: string;
  /** Empty while files of unknown size are queued: the remaining bytes are not known yet. */
  eta: string;
}

export function formatSeconds(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function totalView(tally: BatchTally): TotalView {
  const rate = tally.elapsedMs > 0 ? (tally.bytesThisRun * 1000) / tally.elapsedMs : 0;
  const unsized = tally.totalFiles - tally.sizedFiles;
  const remaining = Math.max(0, tally.knownBytes - tally.bytesOnDisk);
  return {
    label: `total ${tally.finishedFiles}/${tally.totalFiles} files`,
    done: formatBytes(tally.bytesOnDisk),
    size: unsized > 0 ? `${formatBytes(tally.knownBytes)} + ${unsized} queued` : formatBytes(tally.knownBytes),
    rate: `${formatBytes(Math.round(rate))}/s`,
    eta: unsized === 0 && rate > 0 ? `ETA ${formatSeconds(remaining / rate)}` : '',
  };
}
