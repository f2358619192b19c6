import { status } from '@grpc/grpc-js';
import cliProgress from 'cli-progress';
import { formatBytes } from './parseUnits.js';
import type { DownloadProgress, DownloadResult, DownloadStart } from '../download/downloadFile.js';
import type { RetryNotice } from '../download/retryLoop.js';
import type { ClientError } from '../errors.js';

/** What the CLI tells the person or program that runs it, as a batch goes. */
export interface Reporter {
  start(start: DownloadStart): void;
  progress(progress: DownloadProgress): void;
  retry(notice: RetryNotice): void;
  wait(name: string, holderPid: number | undefined): void;
  done(result: DownloadResult): void;
  failed(name: string, error: ClientError, message: string): void;
  /** Ends the display and prints the summary. */
  finish(summary: BatchSummary): void;
}

export interface BatchSummary {
  total: number;
  downloaded: number;
  skipped: number;
  failed: { name: string; message: string }[];
  bytesReceived: number;
  elapsedMs: number;
  interrupted: boolean;
}

function describeResult(result: DownloadResult): string {
  if (!result.transferred) {
    return result.state === 'unverified'
      ? `${result.name}: already present and matching the server's sha256, kept (${formatBytes(result.size)})`
      : `${result.name}: already complete, skipped (${formatBytes(result.size)})`;
  }
  const resumed = result.resumedFrom > 0 ? `, resumed from ${formatBytes(result.resumedFrom)}` : '';
  const retried = result.attempts > 1 ? `, ${result.attempts} attempts` : '';
  return `${result.name}: downloaded ${formatBytes(result.size)} to ${result.path}, sha256 ${result.sha256} verified${resumed}${retried}`;
}

function describeSummary(summary: BatchSummary): string | undefined {
  if (summary.total <= 1) return undefined;
  const parts = [`${summary.downloaded} downloaded`, `${summary.skipped} already complete`, `${summary.failed.length} failed`];
  const failed = summary.failed.length > 0 ? `; failed: ${summary.failed.map((f) => f.name).join(', ')}` : '';
  return `${summary.total} files: ${parts.join(', ')} (${formatBytes(summary.bytesReceived)} received in ${(summary.elapsedMs / 1000).toFixed(1)}s)${failed}`;
}

const retryLine = (notice: RetryNotice) =>
  `${notice.name}: ${notice.error.message}; ${notice.fromZero ? 'starting over' : 'retrying'} in ${(notice.delayMs / 1000).toFixed(1)}s (attempt ${notice.attempt})`;
const waitLine = (name: string, pid: number | undefined) =>
  pid !== undefined && !isAlive(pid)
    ? `${name}: locked by a process that is gone (pid ${pid}); taking the lock over once it is stale`
    : `${name}: being downloaded by another process${pid ? ` (pid ${pid})` : ''} into the same folder; waiting for it`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lines on stdout for results, on stderr for trouble; with `quiet`, only failures. */
type Sink = (text: string) => void;
const stdout: Sink = (text) => process.stdout.write(text);
const stderr: Sink = (text) => process.stderr.write(text);

export function lineReporter(quiet: boolean, out: Sink = stdout, err: Sink = stderr): Reporter {
  return {
    start: () => undefined,
    progress: () => undefined,
    retry: (notice) => quiet || err(`grpc-client: ${retryLine(notice)}\n`),
    wait: (name, pid) => quiet || err(`grpc-client: ${waitLine(name, pid)}\n`),
    done: (result) => quiet || out(`${describeResult(result)}\n`),
    failed: (_name, _error, message) => err(`grpc-client: ${message}\n`),
    finish: (summary) => {
      const line = describeSummary(summary);
      if (line && !quiet) out(`${line}\n`);
    },
  };
}

const PROGRESS_EVERY_MS = 500;

/** One JSON object per line on stdout, for programs that drive the CLI. */
export function jsonReporter(out: Sink = stdout): Reporter {
  const emit = (event: Record<string, unknown>) => out(`${JSON.stringify(event)}\n`);
  const lastProgress = new Map<string, number>();
  return {
    start: (start) => emit({ event: 'start', ...start }),
    progress: ({ name, received, size }) => {
      const now = Date.now();
      if (now - (lastProgress.get(name) ?? 0) < PROGRESS_EVERY_MS) return;
      lastProgress.set(name, now);
      emit({ event: 'progress', name, received, size });
    },
    retry: ({ name, attempt, delayMs, fromZero, error }) =>
      emit({ event: 'retry', name, attempt, delayMs, fromZero, code: status[error.code], message: error.message }),
    wait: (name, holderPid) => emit({ event: 'wait', name, holderPid: holderPid ?? null }),
    done: (result) => {
      lastProgress.delete(result.name);
      emit({ event: 'done', ...result });
    },
    failed: (name, error, message) => emit({ event: 'error', name, code: status[error.code] ?? error.code, message }),
    finish: ({ failed, ...summary }) => emit({ event: 'summary', ...summary, failed }),
  };
}

/**
 * A bar per running transfer and a total line (bytes, rate, ETA, files
 * done/total), on stderr; results and trouble print above the bars.
 */
export function barReporter(totalFiles: number): Reporter {
  // Each logged line may land on a line a bar used: erase the rest of it.
  const above: Sink = (text) => multibar.log(text.replace(/\n/g, '\x1b[K\n'));
  const lines = lineReporter(false, process.stdout.isTTY ? above : stdout, above);
  const multibar = new cliProgress.MultiBar(
    {
      format: '{label} |{bar}| {percentage}% {done}/{size} {rate} ETA {eta_formatted}',
      barsize: 20,
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const firstSeen = new Map<string, { at: number; received: number }>();
  const received = new Map<string, number>();
  const sizes = new Map<string, number>();
  const started = Date.now();
  let finished = 0;
  const total = multibar.create(0, 0, {});
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const refreshTotal = () => {
    const got = sum(received);
    const elapsed = (Date.now() - started) / 1000;
    total.setTotal(Math.max(1, sum(sizes)));
    total.update(got, {
      label: `total ${finished}/${totalFiles} files`,
      done: formatBytes(got),
      size: formatBytes(sum(sizes)),
      rate: `${formatBytes(elapsed > 0 ? got / elapsed : 0)}/s`,
    });
  };
  const settle = (name: string) => {
    firstSeen.delete(name);
    const bar = bars.get(name);
    if (bar) multibar.remove(bar);
    bars.delete(name);
    finished += 1;
    refreshTotal();
  };
  return {
    start: ({ name, size, offset }) => {
      sizes.set(name, size);
      received.set(name, offset);
      firstSeen.set(name, { at: Date.now(), received: offset });
      if (!bars.has(name)) bars.set(name, multibar.create(size, offset, { label: name, done: formatBytes(offset), size: formatBytes(size), rate: '' }));
      refreshTotal();
    },
    progress: ({ name, received: got, size }) => {
      received.set(name, got);
      const first = firstSeen.get(name);
      const seconds = first ? (Date.now() - first.at) / 1000 : 0;
      const rate = first && seconds > 0 ? `${formatBytes((got - first.received) / seconds)}/s` : '';
      bars.get(name)?.update(got, { label: name, done: formatBytes(got), size: formatBytes(size), rate });
      refreshTotal();
    },
    retry: lines.retry,
    wait: lines.wait,
    done: (result) => {
      sizes.set(result.name, result.size);
      received.set(result.name, result.size);
      settle(result.name);
      lines.done(result);
    },
    failed: (name, error, message) => {
      settle(name);
      lines.failed(name, error, message);
    },
    finish: (summary) => {
      multibar.update();
      multibar.stop();
      lineReporter(false).finish(summary);
    },
  };
}
