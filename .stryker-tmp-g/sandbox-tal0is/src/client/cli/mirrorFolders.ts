// @ts-nocheck
import { status } from '@grpc/grpc-js';
import { ClientError } from '../errors.js';
import { TaskMapError } from '../taskMap/taskJournal.js';
import type { FileClient } from '../fileClient.js';
import { describeFailure } from './describeFailure.js';
import { batchExitCode, EXIT, exitCodeOf } from './exitCodes.js';
import { treeReporterFor } from './treeReporter.js';

export interface MirrorFlags {
  server: string;
  concurrency: number;
  delete?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/**
 * `get -r`: mirrors each server folder in turn into --out. The exit code is
 * that of the failures' class, as for a batch; an empty, missing or
 * file-not-folder argument fails that folder and goes on with the next.
 */
export async function mirrorFolders(
  client: FileClient,
  folders: string[],
  flags: MirrorFlags,
  signal: AbortSignal,
  secure: boolean,
  /** Says why the task map cannot be used; returns the exit code. */
  mapFailure: (err: TaskMapError) => number,
): Promise<number> {
  const reporter = await treeReporterFor(flags);
  const codes: number[] = [];
  for (const folder of folders) {
    const started = Date.now();
    try {
      const result = await client.mirror(folder, {
        delete: flags.delete,
        concurrency: flags.concurrency,
        signal,
        onProgress: (progress) => reporter.progress(progress),
        onFile: (event) => reporter.file(event, event.result === 'failed' ? describeFailure(event.name, event.error, flags.server, secure) : undefined),
        onRetry: (notice) => reporter.retry(notice),
        onWait: (pid) => reporter.wait(folder, pid),
      });
      reporter.finish(result, Date.now() - started);
      codes.push(...result.failed.map(({ error }) => exitCodeOf(error)));
    } catch (err) {
      if (signal.aborted) return EXIT.interrupted;
      // The same map for every folder: one line, and nothing more to try.
      if (err instanceof TaskMapError) return mapFailure(err);
      if (!(err instanceof ClientError)) throw err;
      // "nothing under data/ on the server" says it all; a file's "not
      // found" line would not.
      const empty = err.kind === 'remote-status' && err.code === status.NOT_FOUND;
      process.stderr.write(`grpc-client: ${empty ? err.message : describeFailure(folder, err, flags.server, secure)}\n`);
      codes.push(exitCodeOf(err));
    }
  }
  return batchExitCode(codes);
}
