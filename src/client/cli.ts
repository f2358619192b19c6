#!/usr/bin/env node
import { status } from '@grpc/grpc-js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { stat } from 'node:fs/promises';
import { StatusError } from '../shared/statusError.js';
import { describeFailure } from './describeFailure.js';
import { DEFAULT_RETRY_FOR_MS, DEFAULT_STALL_TIMEOUT_MS, FileClient, readTasks } from './fileClient.js';
import { outputPathsOf } from './outputPaths.js';
import { formatBytes, parseByteSize, parseDuration } from './parseUnits.js';
import { ProgressBar } from './progressBar.js';
import type { DownloadResult } from './transfer.js';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

const asParser =
  <T>(parse: (text: string) => T) =>
  (text: string): T => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };

const serverOption = () =>
  new Option('-s, --server <host:port>', 'address of the grpc-server').env('GRPC_FILE_SERVER').default('127.0.0.1:50051');
const outOption = () => new Option('-o, --out <dir>', 'folder that downloads go into').default('downloads');
const dbOption = () => new Option('--db <file>', 'task map file (default: <out>/.grpc-client-tasks.json)');

const program = new Command('grpc-client')
  .description('Download files from a grpc-server, resuming after any interruption and verifying each by SHA-256.')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE));

program
  .command('get')
  .description('download files into --out; run again after an interruption to resume')
  .argument('<name...>', "file names relative to the server's root, e.g. data/big.bin")
  .addOption(serverOption())
  .addOption(outOption())
  .addOption(dbOption())
  .option('--limit-rate <rate>', 'cap the download rate, e.g. 512k, 16M, 1G (bytes per second)', asParser(parseByteSize))
  .option('--retry-for <duration>', 'keep retrying an interrupted download this long without progress', asParser(parseDuration), DEFAULT_RETRY_FOR_MS)
  .option('--stall-timeout <duration>', 'treat a stream that sends nothing this long as dropped', asParser(parseDuration), DEFAULT_STALL_TIMEOUT_MS)
  .option('-q, --quiet', 'print only errors')
  .action(async (names: string[], options: GetOptions) => {
    process.exitCode = await get(names, options);
  });

program
  .command('status')
  .description('show the task map: which files are complete and which will resume')
  .addOption(outOption())
  .addOption(dbOption())
  .option('--json', 'print the task map as JSON')
  .action(async (options: { out: string; db?: string; json?: boolean }) => {
    process.exitCode = await showStatus(options);
  });

program
  .command('ls')
  .description("list the server's files")
  .argument('[prefix]', 'only names starting with this, e.g. logs/', '')
  .addOption(serverOption())
  .option('--json', 'print one JSON object per file')
  .action(async (prefix: string, options: { server: string; json?: boolean }) => {
    process.exitCode = await listRemote(prefix, options);
  });

interface GetOptions {
  server: string;
  out: string;
  db?: string;
  limitRate?: number;
  retryFor: number;
  stallTimeout: number;
  quiet?: boolean;
}

async function get(names: string[], options: GetOptions): Promise<number> {
  const client = new FileClient({
    server: options.server,
    out: options.out,
    db: options.db,
    limitRate: options.limitRate,
    retryForMs: options.retryFor,
    stallTimeoutMs: options.stallTimeout,
  });
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = !options.quiet && process.stderr.isTTY ? new ProgressBar() : undefined;
  const say = (line: string) => {
    bar?.stop();
    if (!options.quiet) process.stdout.write(`${line}\n`);
  };
  const complain = (line: string) => {
    bar?.stop();
    process.stderr.write(`grpc-client: ${line}\n`);
  };

  let failed = 0;
  try {
    for (const name of names) {
      if (interrupt.signal.aborted) break;
      try {
        const result = await client.download(name, {
          signal: interrupt.signal,
          onProgress: bar ? (progress) => bar.update(progress) : undefined,
          onRetry: (notice) => {
            if (!options.quiet) {
              complain(
                `${notice.name}: ${notice.error.message}; ${notice.fromZero ? 'starting over' : 'retrying'} in ${(notice.delayMs / 1000).toFixed(1)}s (attempt ${notice.attempt})`,
              );
            }
          },
        });
        say(summarize(result));
      } catch (err) {
        if (interrupt.signal.aborted) break;
        failed += 1;
        complain(describeFailure(name, err, options.server));
      }
    }
  } finally {
    bar?.stop();
    client.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interrupt.signal.aborted) {
    complain('interrupted; partials and the task map are saved: run the same command again to resume');
    return EXIT_INTERRUPTED;
  }
  return failed > 0 ? EXIT_FAILED : 0;
}

function summarize(result: DownloadResult): string {
  if (!result.transferred) {
    return result.state === 'unverified'
      ? `${result.name}: already present and matching the server's sha256, kept (${formatBytes(result.size)})`
      : `${result.name}: already complete, skipped (${formatBytes(result.size)})`;
  }
  const resumed = result.resumedFrom > 0 ? `, resumed from ${formatBytes(result.resumedFrom)}` : '';
  const retried = result.attempts > 1 ? `, ${result.attempts} attempts` : '';
  return `${result.name}: downloaded ${formatBytes(result.size)} to ${result.path}, sha256 ${result.sha256} verified${resumed}${retried}`;
}

async function showStatus(options: { out: string; db?: string; json?: boolean }): Promise<number> {
  const { file, tasks } = await readTasks(options.out, options.db);
  const rows = await Promise.all(
    tasks.map(async (task) => {
      const partial = task.status === 'incomplete' ? await stat(outputPathsOf(options.out, task.name).partPath).then((s) => s.size, () => 0) : task.size;
      return { ...task, bytesOnDisk: partial };
    }),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ file, tasks: rows }, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write(`no tasks in ${file}\n`);
    return 0;
  }
  for (const row of rows) {
    const progress = row.status === 'complete' ? '' : ` (${formatBytes(row.bytesOnDisk)} on disk, ${row.size ? Math.floor((row.bytesOnDisk * 100) / row.size) : 0}%)`;
    process.stdout.write(`${row.status.padEnd(10)} ${formatBytes(row.size).padStart(10)}  ${row.name}${progress}\n`);
  }
  process.stdout.write(`task map: ${file}\n`);
  return 0;
}

async function listRemote(prefix: string, options: { server: string; json?: boolean }): Promise<number> {
  const client = new FileClient({ server: options.server, out: '.' });
  try {
    const files = await client.list(prefix);
    for (const file of files) {
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ name: file.name, size: file.size, version: file.version, mtime: file.mtime.toISOString() })}\n`
          : `${formatBytes(file.size).padStart(10)}  ${file.mtime.toISOString()}  ${file.name}\n`,
      );
    }
    return 0;
  } catch (err) {
    const message = err instanceof StatusError && err.code === status.UNAVAILABLE ? `server ${options.server} unavailable: ${err.message}` : (err as Error).message;
    process.stderr.write(`grpc-client: ${message}\n`);
    return EXIT_FAILED;
  } finally {
    client.close();
  }
}

await program.parseAsync();
