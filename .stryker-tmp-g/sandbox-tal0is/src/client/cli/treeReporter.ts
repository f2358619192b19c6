// @ts-nocheck
import { status } from '@grpc/grpc-js';
import type cliProgress from 'cli-progress';
import type { MirrorFileEvent, MirrorResult, TreeProgress } from '../mirror/mirror.js';
import type { RetryNotice } from '../download/retryLoop.js';
import { formatBytes } from './parseUnits.js';
import { displayFor } from './reporters.js';
import { isPipe } from './terminal.js';

/** What `get -r` tells the person or program that runs it, as a tree goes. */
export interface TreeReporter {
  progress(progress: TreeProgress): void;
  file(event: MirrorFileEvent, message?: string): void;
  retry(notice: RetryNotice): void;
  wait(folder: string, holderPid: number | undefined): void;
  finish(result: MirrorResult, elapsedMs: number): void;
}

const PROGRESS_EVERY_MS = 500;

/** The summary of one mirrored folder, in one line. */
export function describeTree(result: MirrorResult, elapsedMs: number): string {
  const where = result.prefix || 'the server root';
  const parts = [
    `${count(result.fetched)} fetched (${formatBytes(result.bytesReceived)} in ${(elapsedMs / 1000).toFixed(1)} s)`,
    `${count(result.unchanged)} unchanged`,
  ];
  if (result.failed.length > 0) parts.push(`${count(result.failed.length)} failed`);
  if (result.vanished.length > 0) parts.push(`${count(result.vanished.length)} gone from the server meanwhile`);
  if (result.deleted.length > 0) parts.push(`${count(result.deleted.length)} deleted here`);
  const left =
    result.leftInPlace.length > 0
      ? `; ${count(result.leftInPlace.length)} ${result.leftInPlace.length === 1 ? 'file' : 'files'} the server no longer has left in place (--delete removes what was fetched unchanged)`
      : '';
  return `${where}: ${count(result.listed)} ${result.listed === 1 ? 'file' : 'files'}: ${parts.join(', ')}${left}`;
}

const count = (n: number) => n.toLocaleString('en-US');

export async function treeReporterFor(options: { json?: boolean; quiet?: boolean }): Promise<TreeReporter> {
  const display = displayFor({
    json: Boolean(options.json),
    quiet: Boolean(options.quiet),
    stderrIsTerminal: process.stderr.isTTY === true,
    stdoutIsPipe: !process.stdout.isTTY && isPipe(1),
  });
  if (display === 'json') return jsonTreeReporter();
  // cli-progress only for a terminal, as for single files.
  return display === 'bars' ? barTreeReporter((await import('cli-progress')).default) : lineTreeReporter(Boolean(options.quiet));
}

const retryLine = (notice: RetryNotice) =>
  `grpc-client: ${notice.name}: ${notice.error.message}; retrying in ${(notice.delayMs / 1000).toFixed(1)}s (attempt ${notice.attempt})\n`;
const waitLine = (folder: string, pid: number | undefined) =>
  `grpc-client: ${folder}: another process${pid ? ` (pid ${pid})` : ''} is downloading into the same folder; waiting for it to finish\n`;

function lineTreeReporter(quiet: boolean, write: (text: string) => void = (text) => process.stderr.write(text)): TreeReporter {
  return {
    progress: () => undefined,
    file: (event, message) => {
      if (event.result === 'failed') write(`grpc-client: ${message ?? event.error.message}\n`);
      else if (event.result === 'kept' && !quiet) write(`grpc-client: ${event.name}: kept: ${event.reason}\n`);
    },
    retry: (notice) => quiet || write(retryLine(notice)),
    wait: (folder, pid) => quiet || write(waitLine(folder, pid)),
    finish: (result, elapsedMs) => quiet || process.stdout.write(`${describeTree(result, elapsedMs)}\n`),
  };
}

function jsonTreeReporter(): TreeReporter {
  const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
  let last = 0;
  return {
    progress: (progress) => {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS) return;
      last = now;
      emit({ event: 'progress', ...progress });
    },
    file: (event, message) => {
      if (event.result === 'failed')
        emit({ event: 'error', name: event.name, code: status[event.error.code] ?? event.error.code, message: message ?? event.error.message });
      else if (event.result === 'fetched') emit({ event: 'done', name: event.name, size: event.size, sha256: event.sha256 });
      else emit({ event: event.result, ...event, result: undefined });
    },
    retry: ({ name, attempt, delayMs, error }) => emit({ event: 'retry', name, attempt, delayMs, code: status[error.code], message: error.message }),
    wait: (folder, holderPid) => emit({ event: 'wait', name: folder, holderPid: holderPid ?? null }),
    finish: ({ failed, ...result }, elapsedMs) =>
      emit({ event: 'summary', ...result, failed: failed.map(({ name, error }) => ({ name, message: error.message })), elapsedMs }),
  };
}

/** One bar for the whole tree on stderr (a terminal): files and bytes of what this run fetches, rate and ETA. */
function barTreeReporter(progressBars: typeof cliProgress): TreeReporter {
  const bar = new progressBars.SingleBar(
    {
      format: '|{bar}| {filesDone}/{files} files  {done}/{size}  {rate}  ETA {eta_formatted}',
      barsize: 20,
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
      etaBuffer: 50,
      fps: 10,
    },
    progressBars.Presets.shades_classic,
  );
  const started = Date.now();
  let running = false;
  const above = (text: string) => {
    if (running) process.stderr.write('\r\x1b[K');
    process.stderr.write(text);
  };
  const lines = lineTreeReporter(false, above);
  return {
    progress: (progress) => {
      const seconds = (Date.now() - started) / 1000;
      const fields = {
        filesDone: count(progress.filesDone),
        files: count(progress.files),
        done: formatBytes(progress.bytesReceived),
        size: formatBytes(progress.bytes),
        rate: seconds > 0 ? `${formatBytes(Math.round(progress.bytesReceived / seconds))}/s` : '',
      };
      if (!running && progress.files > 0) {
        bar.start(Math.max(1, progress.bytes), progress.bytesReceived, fields);
        running = true;
      } else if (running) {
        bar.setTotal(Math.max(1, progress.bytes));
        bar.update(progress.bytesReceived, fields);
      }
    },
    file: lines.file,
    retry: lines.retry,
    wait: lines.wait,
    finish: (result, elapsedMs) => {
      if (running) bar.stop();
      running = false;
      lines.finish(result, elapsedMs);
    },
  };
}
