// @ts-nocheck
import path from 'node:path';
import { ClientError } from '../errors.js';
import type { FileClient } from '../fileClient.js';
import { localTree } from '../upload/localTree.js';
import type { UploadResult } from '../upload/uploadFile.js';
import { describeFailure } from './describeFailure.js';
import { batchExitCode, EXIT, exitCodeOf } from './exitCodes.js';
import { describePutSummary, describeUpload, describeUploadFailure, joinPrefix, type PutItem, type PutSummary } from './put.js';
import { reporterFor } from './reporters.js';

export interface PutFlags {
  server: string;
  concurrency: number;
  replace?: string;
  json?: boolean;
  quiet?: boolean;
}

/** `put -r DIR [PREFIX]`: every file under DIR, named by its path under it, in the server folder PREFIX (DIR's own name by default). */
export async function treeItems(folder: string, prefix: string | undefined): Promise<PutItem[]> {
  const files = await localTree(folder);
  const under = prefix ?? path.basename(path.resolve(folder));
  return files.map(({ file, relative }) => ({ file, name: joinPrefix(under, relative) }));
}

/**
 * Uploads `items` as `get` downloads: at most `concurrency` at once, a line
 * (or a bar, or a JSON event) per file, one line per failure class for a
 * server never reached, Ctrl-C leaving what the server staged to resume.
 */
export async function putFiles(client: FileClient, items: PutItem[], flags: PutFlags, secure: boolean): Promise<number> {
  const reporter = await reporterFor<UploadResult, PutSummary>(flags, items.length, { result: describeUpload, summary: describePutSummary });
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  const summary: PutSummary = { total: items.length, uploaded: 0, skipped: 0, failed: [], bytesSent: 0, elapsedMs: 0, interrupted: false };
  const codes: number[] = [];
  const said = new Set<string>();
  try {
    const outcomes = client.uploadMany(items, {
      concurrency: flags.concurrency,
      signal: interrupt.signal,
      replace: flags.replace,
      onStart: (start) => reporter.start(start),
      onProgress: (progress) => reporter.progress(progress),
      onRetry: (notice) => reporter.retry(notice),
    });
    for await (const outcome of outcomes) {
      if (outcome.ok) {
        summary.bytesSent += outcome.result.bytesSent;
        if (outcome.result.transferred) summary.uploaded += 1;
        else summary.skipped += 1;
        reporter.done(outcome.result);
      } else if (!interrupt.signal.aborted) {
        const message = describeUploadFailure(outcome.name, outcome.error, flags.server, secure);
        summary.failed.push({ name: outcome.name, message });
        codes.push(exitCodeOf(outcome.error));
        if (flags.json || !said.has(message)) reporter.failed(outcome.name, outcome.error, message);
        said.add(message);
      }
    }
  } finally {
    await client.close().catch((err: Error) => {
      codes.push(EXIT.localIo);
      process.stderr.write(`grpc-client: could not save the upload map: ${err.message}; files are hashed again on the next run\n`);
    });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  summary.elapsedMs = Date.now() - started;
  summary.interrupted = interrupt.signal.aborted;
  reporter.finish(summary);
  if (summary.interrupted) {
    process.stderr.write('grpc-client: interrupted; the server keeps what it received: run the same command again to resume\n');
    return EXIT.interrupted;
  }
  return batchExitCode(codes);
}

/** The one line for a failure before any file (a map that cannot be opened, a folder that cannot be read). */
export function describeSetupFailure(err: unknown, server: string): { message: string; code: number } {
  if (err instanceof ClientError) return { message: describeFailure('', err, server), code: exitCodeOf(err) };
  return { message: (err as Error).message, code: EXIT.failed };
}
