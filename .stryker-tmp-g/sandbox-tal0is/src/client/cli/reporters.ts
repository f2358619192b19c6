// @ts-nocheck
import { status } from '@grpc/grpc-js';
import type cliProgress from 'cli-progress';
import { isAlive } from '../fileLock.js';
import { formatBytes } from './parseUnits.js';
import { describeResult, describeResume, describeSummary, fitToWidth, type BatchSummary, type ResultView } from './reportText.js';
import { totalView } from './totalProgress.js';
import { isPipe } from './terminal.js';
import type { DownloadProgress, DownloadResult, DownloadStart } from '../download/downloadOptions.js';
import type { RetryNotice } from '../download/retryLoop.js';
import type { ClientError } from '../errors.js';

/**
 * What the CLI tells the person or program that runs it, as a batch goes:
 * downloads by default, or any transfer of files with a name and a size
 * (uploads) given its own words (see ReportTexts).
 */
export interface Reporter<R extends Transferred = DownloadResult, S extends object = BatchSummary> {
  start(start: DownloadStart): void;
  progress(progress: DownloadProgress): void;
  retry(notice: RetryNotice): void;
  wait(name: string, holderPid: number | undefined): void;
  done(result: R): void;
  failed(name: string, error: ClientError, message: string): void;
  /** Ends the display and prints the summary. */
  finish(summary: S): void;
}

/** What every result has: a bar needs no more. */
interface Transferred {
  name: string;
  size: number;
}

/** The lines that differ between kinds of transfer: a finished file's, and the batch's summary. */
export interface ReportTexts<R, S> {
  result(result: R, view: ResultView): string;
  summary(summary: S): string[];
}

const DOWNLOAD_TEXTS: ReportTexts<DownloadResult, BatchSummary> = { result: describeResult, summary: describeSummary };

const retryLine = (notice: RetryNotice) =>
  `${notice.name}: ${notice.error.message}; ${notice.fromZero ? 'starting over' : 'retrying'} in ${(notice.delayMs / 1000).toFixed(1)}s (attempt ${notice.attempt})`;
const waitLine = (name: string, pid: number | undefined) =>
  pid !== undefined && !isAlive(pid)
    ? `${name}: locked by a process that is gone (pid ${pid}); taking the lock over once it is stale`
    : `${name}: another process${pid ? ` (pid ${pid})` : ''} is downloading into the same folder; waiting for it to finish`;

/** Lines on stdout for results and resumes, on stderr for trouble; with `quiet`, only failures. */
type Sink = (text: string) => void;
const stdout: Sink = (text) => process.stdout.write(text);
const stderr: Sink = (text) => process.stderr.write(text);

/** A person reads a terminal: short digests and relative paths; anything else gets full values. */
const viewOf = (stream: NodeJS.WriteStream): ResultView => ({ short: stream.isTTY === true, cwd: process.cwd() });

function lineReporter<R extends Transferred, S extends object>(
  quiet: boolean,
  texts: ReportTexts<R, S>,
  out: Sink = stdout,
  err: Sink = stderr,
  view: ResultView = viewOf(process.stdout),
): Reporter<R, S> {
  return {
    start: (start) => {
      const line = describeResume(start);
      if (line && !quiet) out(`${line}\n`);
    },
    progress: () => undefined,
    retry: (notice) => quiet || err(`grpc-client: ${retryLine(notice)}\n`),
    wait: (name, pid) => quiet || err(`grpc-client: ${waitLine(name, pid)}\n`),
    done: (result) => quiet || out(`${texts.result(result, view)}\n`),
    failed: (_name, _error, message) => err(`grpc-client: ${message}\n`),
    finish: (summary) => {
      if (!quiet) for (const line of texts.summary(summary)) out(`${line}\n`);
    },
  };
}

export type Display = 'json' | 'lines' | 'bars';

/**
 * Bars are drawn on stderr, and only when it is a terminal. Result lines on
 * stdout then go above the bars through the same writer when stdout is that
 * terminal too, or straight into a file; a pipe (`| tee`) may print them on
 * the same screen at any moment, between and under frames, so it gets plain
 * lines and no bars.
 */
export function displayFor(options: { json: boolean; quiet: boolean; stderrIsTerminal: boolean; stdoutIsPipe: boolean }): Display {
  if (options.json) return 'json';
  return !options.quiet && options.stderrIsTerminal && !options.stdoutIsPipe ? 'bars' : 'lines';
}

export async function reporterFor<R extends Transferred = DownloadResult, S extends object = BatchSummary>(
  options: { json?: boolean; quiet?: boolean },
  totalFiles: number,
  texts: ReportTexts<R, S> = DOWNLOAD_TEXTS as unknown as ReportTexts<R, S>,
): Promise<Reporter<R, S>> {
  const display = displayFor({
    json: Boolean(options.json),
    quiet: Boolean(options.quiet),
    stderrIsTerminal: process.stderr.isTTY === true,
    stdoutIsPipe: !process.stdout.isTTY && isPipe(1),
  });
  if (display === 'json') return jsonReporter();
  // cli-progress only for a terminal: scripts and pipes skip loading it.
  return display === 'bars' ? barReporter(totalFiles, (await import('cli-progress')).default, texts) : lineReporter(Boolean(options.quiet), texts);
}

const PROGRESS_EVERY_MS = 500;

/** One JSON object per line on stdout, for programs that drive the CLI. */
function jsonReporter<R extends Transferred, S extends object>(out: Sink = stdout): Reporter<R, S> {
  const emit = (event: object) => out(`${JSON.stringify(event)}\n`);
  const lastProgress = new Map<string, number>();
  return {
    start: (start) => emit({ event: 'start', ...start }),
    progress: ({ name, received, size }) => {
      const now = Date.now();
      if (now - (lastProgress.get(name) ?? 0) < PROGRESS_EVERY_MS) return;
      lastProgress.set(name, now);
      emit({ event: 'progress', name, received, size });
    },
    retry: ({ name, attempt, delayMs, fromZero, error, replica }) =>
      emit({ event: 'retry', name, attempt, delayMs, fromZero, code: status[error.code], message: error.message, replica: replica ?? null }),
    wait: (name, holderPid) => emit({ event: 'wait', name, holderPid: holderPid ?? null }),
    done: (result) => {
      lastProgress.delete(result.name);
      emit({ event: 'done', ...result });
    },
    failed: (name, error, message) => emit({ event: 'error', name, code: status[error.code] ?? error.code, message }),
    finish: (summary) => {
      const { failed, ...rest } = summary as { failed?: unknown };
      emit({ event: 'summary', ...rest, failed });
    },
  };
}

/**
 * A bar per running transfer and, for a batch, a total line (bytes, this
 * run's rate, ETA once every size is known, files done/total), on stderr,
 * which must be a terminal. Lines print above the bars, cut to the screen's
 * width so no frame draws over them; results that go to a file instead
 * keep their full values.
 */
function barReporter<R extends Transferred, S extends object>(totalFiles: number, progress: typeof cliProgress, texts: ReportTexts<R, S>): Reporter<R, S> {
  const columns = () => process.stderr.columns || 80;
  // Each logged line may land on a line a bar used: erase the rest of it.
  const above: Sink = (text) => {
    for (const line of text.replace(/\n$/, '').split('\n'))
      multibar.log(
        fitToWidth(line, columns())
          .map((part) => `${part}\x1b[K\n`)
          .join(''),
      );
  };
  const lines = lineReporter(false, texts, process.stdout.isTTY ? above : stdout, above);
  const multibar = new progress.MultiBar(
    {
      format: '{label} |{bar}| {percentage}% {done}/{size} {rate} ETA {eta_formatted}',
      barsize: 20,
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
      etaBuffer: 50,
      fps: 10,
    },
    progress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const firstSeen = new Map<string, { at: number; received: number }>();
  const onDisk = new Map<string, number>();
  const sizes = new Map<string, number>();
  const started = Date.now();
  let bytesThisRun = 0;
  let finished = 0;
  // One file has its own bar: a total of it would say the same twice. The
  // total's bar is narrower, leaving its rate and ETA room in 80 columns.
  const total = totalFiles > 1 ? multibar.create(0, 0, {}, { format: '{label} |{bar}| {done}/{size} {rate} {etaText}', barsize: 12 }) : undefined;
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const refreshTotal = () => {
    if (!total) return;
    const tally = {
      totalFiles,
      finishedFiles: finished,
      sizedFiles: sizes.size,
      knownBytes: sum(sizes),
      bytesOnDisk: sum(onDisk),
      bytesThisRun,
      elapsedMs: Date.now() - started,
    };
    total.setTotal(Math.max(1, tally.knownBytes));
    // {eta} is cli-progress's own field (its estimate, NULL while unknown):
    // ours goes under another name.
    const view = totalView(tally);
    total.update(tally.bytesOnDisk, { ...view, etaText: view.eta });
  };
  // Before the first frame: the bar was created without its fields.
  refreshTotal();
  const settle = (name: string) => {
    firstSeen.delete(name);
    const bar = bars.get(name);
    if (bar) multibar.remove(bar);
    bars.delete(name);
    finished += 1;
    refreshTotal();
  };
  return {
    start: (start) => {
      const { name, size, offset } = start;
      sizes.set(name, size);
      onDisk.set(name, offset);
      firstSeen.set(name, { at: Date.now(), received: offset });
      if (!bars.has(name)) bars.set(name, multibar.create(size, offset, { label: name, done: formatBytes(offset), size: formatBytes(size), rate: '' }));
      lines.start(start);
      refreshTotal();
    },
    progress: ({ name, received: got, size }) => {
      bytesThisRun += Math.max(0, got - (onDisk.get(name) ?? got));
      onDisk.set(name, got);
      const first = firstSeen.get(name);
      const seconds = first ? (Date.now() - first.at) / 1000 : 0;
      const rate = first && seconds > 0 ? `${formatBytes(Math.round((got - first.received) / seconds))}/s` : '';
      bars.get(name)?.update(got, { label: name, done: formatBytes(got), size: formatBytes(size), rate });
      refreshTotal();
    },
    retry: lines.retry,
    wait: lines.wait,
    done: (result) => {
      sizes.set(result.name, result.size);
      onDisk.set(result.name, result.size);
      settle(result.name);
      lines.done(result);
    },
    failed: (name, error, message) => {
      // Nothing more of it will come: its size is what it has on disk.
      sizes.set(name, onDisk.get(name) ?? 0);
      onDisk.set(name, onDisk.get(name) ?? 0);
      settle(name);
      lines.failed(name, error, message);
    },
    finish: (summary) => {
      multibar.update();
      multibar.stop();
      lineReporter(false, texts).finish(summary);
    },
  };
}
