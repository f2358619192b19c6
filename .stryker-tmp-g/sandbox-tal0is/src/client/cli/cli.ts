#!/bin/sh
// @ts-nocheck
//bin/true; export GLIBC_TUNABLES="glibc.malloc.trim_threshold=67108864:glibc.malloc.mmap_threshold=4194304:glibc.malloc.arena_max=2${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"; case "$NODE_OPTIONS" in *--max-semi-space-size*) exec node --initial-old-space-size=64 "$0" "$@";; esac; exec node --max-semi-space-size=8 --initial-old-space-size=64 "$0" "$@"
// The two lines above are read by sh (the second is a comment to
// JavaScript): they add glibc malloc thresholds to the environment and exec
// node on this file, keeping the pid, so kill -9 still reaches the CLI.
// A user's own GLIBC_TUNABLES come after ours, and glibc keeps the last of
// a name; a user's --max-semi-space-size in NODE_OPTIONS is left alone (a
// flag on the command line would override it).
// glibc hands freed 256 KiB message buffers back to the kernel and faults
// fresh pages in for the next ones: tens of thousands of page faults per
// GiB in each process. With these thresholds it keeps and reuses them
// (measured: server page faults per GiB 35,000-64,000 -> under 1,000,
// 1 GiB over loopback 5.3 s -> 3.8 s). Other C libraries ignore the
// variable; `env -S` in a shebang would have done it in one line, but
// BusyBox's env (Alpine) has no -S. Two malloc arenas, not one per thread
// that allocates (V8's helpers, libuv's pool): each kept a few MiB of its
// own (measured: a mirror of 100,000 files peaked 157-163 -> 145-158 MiB,
// the same time).
// V8's young generation is capped at 2 x 8 MiB instead of 2 x 16: a
// mirror keeps every record it writes, so V8 grows the young generation to
// its cap, and the half it does not use is resident all the same (measured:
// a rerun of 100,000 files 160 -> 143 MiB peak, the same CPU; 1 GiB, the
// same time and CPU).
// The old generation may reach 64 MiB before its first full collection.
// With the young generation above and the 30 % growth below, the limit V8
// set after a collection (22 MiB with 10 MiB live) left less room than one
// young generation holds, so V8 started marking again at once: a download
// of 4 GiB ran 134 full collections (measured: 1 with this flag, the same
// download 20.2 -> 13.7 s, client CPU 21 -> 15 s, peak RSS 119-120 MiB
// before, 112-120 in 10 runs after, 129 and 134 in two others; a first
// mirror of 100,000 files 2 s less CPU, peak RSS +6 MiB).
// V8 reads both flags only as it starts, so they cannot be set from here
// like the one below, nor in NODE_OPTIONS for the second.
import { Command, Option } from 'commander';
import { setFlagsFromString } from 'node:v8';
import { readFile } from 'node:fs/promises';
import { text as readText } from 'node:stream/consumers';
import { ClientError } from '../errors.js';
import { addConnectionFlags, resolveConnection, usageParser, type ConnectionFlags } from './connectionFlags.js';
import { DEFAULT_PORT, parseServer } from '../connection/serverTarget.js';
import { batchExitCode, EXIT, EXIT_CODE_TABLE, exitCodeOf } from './exitCodes.js';
import { describeFailure } from './describeFailure.js';
import type { FileClient } from '../fileClient.js';
import type { TaskRecord } from '../taskMap/taskRecord.js';
import { DEFAULT_RETRY_FOR_MS, DEFAULT_STALL_TIMEOUT_MS } from '../retryPolicy.js';
import { formatBytes, parseDuration } from './parseUnits.js';
import { parseByteSize } from '../../shared/byteSize.js';
import type { BatchSummary } from './reportText.js';
import { DEFAULT_CONCURRENCY, listLineOf, ORDERS, parseList, type BatchItem, type Order } from '../schedule.js';
import { PACKAGE_VERSION } from '../../shared/packageVersion.js';
import { kindOf } from '../localFile.js';

// Start-up is part of every command's cost (a script may run thousands):
// the modules above are what parsing the command line needs. The rest load
// in the commands that use them, so --help, status and verify never load
// grpc-js, the contract, lowdb or the progress bars.

// V8 let the old space grow to four times what was live before collecting
// it again: a mirror of 100,000 files peaked at 280 MiB of RSS with 50 MiB
// live. Grown by 30 % at a time: 190 MiB, for the same CPU (measured, see
// docs/performance.md). Read at every collection, so setting it here, as
// the process starts, acts like the command-line flag.
setFlagsFromString('--heap-growing-percent=30');

// grpc-js names the TLS server by its address, and Node warns about IP
// addresses there on every connection: noise for a person at a terminal.
process.noDeprecation = true;
// Warnings (a token sent without TLS) as one line of ours, not Node's
// "(node:1234) Warning:" block.
process.removeAllListeners('warning');
process.on('warning', (warning) => process.stderr.write(`grpc-client: warning: ${warning.message}\n`));

const EXIT_FAILED = EXIT.failed;
const EXIT_USAGE = EXIT.usage;
const EXIT_INTERRUPTED = EXIT.interrupted;
const asParser = usageParser;

// `grpc-client ls | head` closes our stdout early. That only ends what the
// reader wanted to see: the command goes on (a download still completes and
// saves its task map), without a stack trace for the lost output.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

const outOption = () => new Option('-o, --out <folder>', 'folder that downloads go into (created if missing)').default('downloads');
const dbOption = () => new Option('--db <file>', 'task map file (default: <out>/.grpc-client-tasks.json)');

const exitCodeHelp = ['Exit codes:', ...EXIT_CODE_TABLE.map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`)].join('\n');
const environmentHelp = [
  'Environment:',
  '  GRPC_FILE_SERVER       default for --server',
  '  GRPC_FILE_TOKEN        bearer token, when --token-file is not given',
  '  NODE_DEBUG=grpc-file:* trace plans, retries and locks on stderr (or grpc-file:retry, ...)',
].join('\n');

/**
 * A usage error is one line: what is wrong and where the help is, never the
 * whole help (35 lines that bury the one that matters).
 */
function usageLine(command: Command, message: string): string {
  const name = command.parent ? `${command.parent.name()} ${command.name()}` : command.name();
  return `grpc-client: ${message
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\.$/, '')}; try '${name} --help'\n`;
}

function usageError(command: Command, message: string): number {
  process.stderr.write(usageLine(command, message));
  return EXIT_USAGE;
}

/** Usage errors in one line, exit 2; the same after-help text for each command. */
function commandLine(command: Command, examples: string[]): Command {
  return command
    .showSuggestionAfterError()
    .configureOutput({ outputError: (text, write) => write(usageLine(command, text)) })
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE))
    .addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n\n${exitCodeHelp}\n\n${environmentHelp}\n`);
}

const program = commandLine(
  new Command('grpc-client')
    .version(PACKAGE_VERSION)
    .description('Download files from a grpc-server, or upload them to it, resuming after any interruption and verifying each by SHA-256.'),
  ['grpc-client get data/big.bin -s 127.0.0.1:50051', 'grpc-client put app.tar.gz --to artifacts/', 'grpc-client ls', 'grpc-client get --help'],
);

const getCommand = program.command('get');
addConnectionFlags(
  commandLine(getCommand, [
    'grpc-client get data/big.bin                     # into ./downloads',
    'grpc-client get a.bin b.bin -s files.example:50051 -o ~/incoming',
    'grpc-client get --from list.txt -j 8 --limit-rate 10M',
    'grpc-client get -r models/ -o /srv/models           # a whole folder; run again to update',
    'grpc-client get big.iso --retry-for 10m          # wait out longer outages',
    'grpc-client get big.iso --segments 3 -s a:50051,b:50051,c:50051   # a third from each',
  ]),
)
  .description('download files into --out; run again after an interruption to resume')
  .argument('[name...]', "file names relative to the server's root, e.g. data/big.bin; folders with -r")
  .option('-r, --recursive', 'mirror every file under the named server folders, keeping their paths; a second run fetches only what is new or changed')
  .option('--delete', 'with -r: also remove local files this client fetched that the server no longer has')
  .addOption(outOption())
  .addOption(dbOption())
  .option('--from <file>', "read names from a file, one a line, each optionally followed by a priority ('-' for stdin)")
  .option('-j, --concurrency <n>', 'transfers at once', asParser(positiveInteger), DEFAULT_CONCURRENCY)
  .addOption(new Option('--order <order>', 'which queued file starts next').choices(ORDERS).default('fifo'))
  .option('--limit-rate <rate>', 'cap the total download rate, e.g. 512k, 16M, 1G (bytes per second)', asParser(parseByteSize))
  .option(
    '--segments <n>',
    'fetch each file larger than a block as n ranges at once, each on its own connection, from several replicas when --server lists them',
    asParser(positiveInteger),
    1,
  )
  .addOption(
    new Option('--retry-for <duration>', 'keep retrying an interrupted download this long without progress, e.g. 90s, 10m (a bare number is seconds)')
      .argParser(asParser(parseDuration))
      .default(DEFAULT_RETRY_FOR_MS, `${DEFAULT_RETRY_FOR_MS / 1000}s`),
  )
  .addOption(
    new Option('--stall-timeout <duration>', 'treat a stream that sends nothing this long as dropped, e.g. 30s (a bare number is seconds)')
      .argParser(asParser(parseDuration))
      .default(DEFAULT_STALL_TIMEOUT_MS, `${DEFAULT_STALL_TIMEOUT_MS / 1000}s`),
  )
  .option('--retry-connrefused', 'also retry, within --retry-for, a server not reached yet (refused, unresolved), e.g. one still starting')
  .option('--no-check', 'skip complete files without asking the server whether they changed (for use offline)')
  .option('--json', 'print one JSON event per line (start, progress, retry, wait, done, error, summary)')
  .option('-q, --quiet', 'print only errors')
  .action(async (names: string[], options: GetOptions) => {
    process.exitCode = await get(names, options);
  });

const putCommand = program.command('put');
addConnectionFlags(
  commandLine(putCommand, [
    'grpc-client put build/app.tar.gz --to artifacts/     # as artifacts/app.tar.gz',
    'grpc-client put report.csv --as reports/2026-11.csv',
    'grpc-client put -r logs/ collected/host1            # every file under logs/',
    'grpc-client put app.tar.gz --to artifacts --replace 9f86d0…  # replace the file with this sha256',
  ]),
)
  .description('upload files to a server started with --allow-upload; run again after an interruption to resume')
  .argument('<path...>', 'local files; with -r, one folder and optionally the server folder it goes into')
  .option('--to <prefix>', 'server folder the files go into, keeping their own names (default: the root)')
  .option('--as <name>', 'the whole server name of a single file')
  .option('-r, --recursive', 'upload every file under a local folder, keeping their paths under it')
  .option('--replace <sha256|version>', 'replace the file the name holds only if it has this sha256 or version (otherwise put only creates)')
  .option('--db <file>', 'upload map file (default: one per server under $XDG_STATE_HOME/grpc-client/uploads)')
  .option('-j, --concurrency <n>', 'transfers at once', asParser(positiveInteger), DEFAULT_CONCURRENCY)
  .option('--limit-rate <rate>', 'cap the total upload rate, e.g. 512k, 16M, 1G (bytes per second)', asParser(parseByteSize))
  .addOption(
    new Option('--retry-for <duration>', 'keep retrying an interrupted upload this long without progress, e.g. 90s, 10m (a bare number is seconds)')
      .argParser(asParser(parseDuration))
      .default(DEFAULT_RETRY_FOR_MS, `${DEFAULT_RETRY_FOR_MS / 1000}s`),
  )
  .addOption(
    new Option('--stall-timeout <duration>', 'treat a call that takes no data this long as dropped, e.g. 30s (a bare number is seconds)')
      .argParser(asParser(parseDuration))
      .default(DEFAULT_STALL_TIMEOUT_MS, `${DEFAULT_STALL_TIMEOUT_MS / 1000}s`),
  )
  .option('--retry-connrefused', 'also retry, within --retry-for, a server not reached yet (refused, unresolved), e.g. one still starting')
  .option('--json', 'print one JSON event per line (start, progress, retry, done, error, summary)')
  .option('-q, --quiet', 'print only errors')
  .action(async (paths: string[], options: PutOptions) => {
    process.exitCode = await put(paths, options);
  });

const statusCommand = program.command('status');
commandLine(statusCommand, ['grpc-client status', 'grpc-client status -o ~/incoming --json', 'grpc-client status --uploads -s files.example:50051'])
  .description('show the task map: which files are complete and which will resume; with --uploads, the upload map of --server')
  .addOption(outOption())
  .addOption(dbOption())
  .option('--uploads', "show the uploads recorded for --server instead (--db: that upload map's file)")
  .addOption(
    new Option('-s, --server <host:port>', 'with --uploads: the server whose upload map to show')
      .env('GRPC_FILE_SERVER')
      .default(`127.0.0.1:${DEFAULT_PORT}`)
      .argParser(asParser(parseServer)),
  )
  .option('--json', 'print the task map as JSON')
  .action(async (options: { out: string; db?: string; json?: boolean; uploads?: boolean; server: string }) => {
    process.exitCode = options.uploads ? await showUploads(options) : ((await refuseFileAsOut(statusCommand, options.out)) ?? (await showStatus(options)));
  });

const verifyCommand = program.command('verify');
addConnectionFlags(
  commandLine(verifyCommand, [
    'grpc-client verify                               # against the task map, offline',
    'grpc-client verify data/big.bin -o /srv/in --json',
    'grpc-client verify data/big.bin -s files.example:50051   # block by block against the server',
    'grpc-client verify --repair data/big.bin         # and fetch only the blocks that differ',
  ]),
)
  .description(
    're-hash downloaded files: against the task map, without a server; with --server (or any connection flag) or --repair, block by block against the server, naming the byte ranges that differ. Exit 0 only when all match',
  )
  .argument('[name...]', 'file names to check (default: every file recorded complete)')
  .addOption(outOption())
  .addOption(dbOption())
  .option('--repair', 'fetch only the blocks that differ from the server, and replace the file once it is verified whole')
  .option('--json', 'print one JSON object per file')
  .action(async (names: string[], options: VerifyOptions, command: Command) => {
    // The server's default and $GRPC_FILE_SERVER name none: verify stays offline unless asked.
    const online =
      options.repair || command.getOptionValueSource('server') === 'cli' || [options.tlsCa, options.tlsCert, options.tlsKey, options.tokenFile].some(Boolean);
    process.exitCode = (await refuseFileAsOut(verifyCommand, options.out)) ?? (online ? await verifyOnline(names, options) : await verifyLocal(names, options));
  });

const lsCommand = program.command('ls');
addConnectionFlags(
  commandLine(lsCommand, [
    'grpc-client ls',
    'grpc-client ls logs/ --json -s files.example:50051',
    'grpc-client ls -1 logs/ | grep 2026- | grpc-client get --from -',
  ]),
)
  .description("list the server's files")
  .argument('[prefix]', 'only names starting with this, e.g. logs/', '')
  .option('--json', 'print one JSON object per file')
  .option('-1, --names-only', "print names only, one a line, as 'get --from -' reads them (a name that needs it in JSON quotes)")
  .action(async (prefix: string, options: ConnectionFlags & { json?: boolean; namesOnly?: boolean }) => {
    process.exitCode = await listRemote(prefix, options);
  });

addConnectionFlags(commandLine(program.command('health'), ['grpc-client health -s 127.0.0.1:50051']))
  .description("ask the server's health service (grpc.health.v1); exit 0 only when SERVING")
  .argument('[service]', 'service name; empty for the whole server', '')
  .action(async (service: string, options: ConnectionFlags) => {
    try {
      const { credentials } = await resolveConnection(options);
      // Loaded here: grpc-health-check parses its .proto on import, which
      // every other command would pay for at startup.
      const { checkHealth } = await import('./health.js');
      const state = await checkHealth(options.server, service, credentials);
      process.stdout.write(`${state}\n`);
      process.exitCode = state === 'SERVING' ? 0 : EXIT_FAILED;
    } catch (err) {
      process.stderr.write(`grpc-client: health of ${options.server}: ${(err as Error).message}\n`);
      process.exitCode = EXIT_FAILED;
    }
  });

interface VerifyOptions extends ConnectionFlags {
  out: string;
  db?: string;
  json?: boolean;
  repair?: boolean;
}

interface GetOptions extends ConnectionFlags {
  out: string;
  db?: string;
  from?: string;
  concurrency: number;
  order: Order;
  limitRate?: number;
  segments: number;
  retryFor: number;
  stallTimeout: number;
  check: boolean;
  retryConnrefused?: boolean;
  json?: boolean;
  quiet?: boolean;
  recursive?: boolean;
  delete?: boolean;
}

interface PutOptions extends ConnectionFlags {
  to?: string;
  as?: string;
  recursive?: boolean;
  replace?: string;
  db?: string;
  concurrency: number;
  limitRate?: number;
  retryFor: number;
  stallTimeout: number;
  retryConnrefused?: boolean;
  json?: boolean;
  quiet?: boolean;
}

async function put(paths: string[], options: PutOptions): Promise<number> {
  const [{ putItemsOf }, { putFiles, treeItems, describeSetupFailure }] = await Promise.all([import('./put.js'), import('./putFiles.js')]);
  let items: Awaited<ReturnType<typeof treeItems>>;
  try {
    if (options.recursive) {
      if (options.as !== undefined) return usageError(putCommand, '-r keeps the names under the folder; --as names a single file');
      if (paths.length > 2 || (paths.length === 2 && options.to !== undefined))
        return usageError(putCommand, "-r takes one folder and its server folder: 'put -r DIR [PREFIX]'");
      if ((await kindOf(paths[0]!)) !== 'folder') return usageError(putCommand, `${paths[0]} is not a folder`);
      items = await treeItems(paths[0]!, paths[1] ?? options.to);
      if (items.length === 0) return usageError(putCommand, `no files under ${paths[0]}`);
    } else {
      for (const file of paths) {
        const kind = await kindOf(file);
        if (kind === 'folder') return usageError(putCommand, `${file} is a folder: give -r to upload what it holds`);
        if (kind !== 'file') return usageError(putCommand, kind === 'missing' ? `no such file: ${file}` : `${file} is not a regular file`);
      }
      items = putItemsOf(paths, options);
    }
  } catch (err) {
    if (err instanceof RangeError) return usageError(putCommand, err.message);
    const { message, code } = describeSetupFailure(err, options.server);
    process.stderr.write(`grpc-client: ${message}\n`);
    return code;
  }
  if (options.replace !== undefined && items.length !== 1) return usageError(putCommand, '--replace names the content of one file; put one file with it');
  const seen = new Set<string>();
  const twice = items.find((item) => seen.has(item.name) || !seen.add(item.name));
  if (twice) return usageError(putCommand, `two files would both be ${twice.name} on the server`);
  const { FileClient } = await import('../fileClient.js');
  let connection;
  try {
    connection = await resolveConnection(options);
  } catch (err) {
    return usageError(putCommand, (err as Error).message);
  }
  const client = new FileClient({
    ...connection,
    server: options.server,
    out: '.',
    uploadDb: options.db,
    limitRate: options.limitRate,
    retryForMs: options.retryFor,
    stallTimeoutMs: options.stallTimeout,
    retryConnRefused: options.retryConnrefused,
    onTaskMapProblem: (message) => process.stderr.write(`grpc-client: warning: ${message}\n`),
  });
  try {
    await client.uploadTasks();
  } catch (err) {
    await client.close();
    const { message, code } = describeSetupFailure(err, options.server);
    process.stderr.write(`grpc-client: ${message}\n`);
    return code;
  }
  return putFiles(client, items, options, client.secure);
}

function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`expected a whole number ≥ 1, not ${JSON.stringify(text)}`);
  return n;
}

async function readItems(names: string[], from: string | undefined): Promise<BatchItem[]> {
  const items: BatchItem[] = names.map((name) => ({ name }));
  if (from !== undefined) {
    const text = from === '-' ? await readText(process.stdin) : await readFile(from, 'utf8');
    items.push(...parseList(text));
  }
  // A name twice would only wait for its own lock and then skip itself.
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(item.name) && seen.add(item.name));
}

async function get(names: string[], options: GetOptions): Promise<number> {
  if (options.delete && !options.recursive) return usageError(getCommand, '--delete works with -r only');
  if (options.recursive && options.from !== undefined) return usageError(getCommand, '-r takes server folders as arguments, not --from');
  if (options.recursive && names.length === 0) return usageError(getCommand, "-r needs a server folder, e.g. 'get -r data/' ('.' for everything)");
  let items: BatchItem[];
  try {
    items = await readItems(names, options.from);
  } catch (err) {
    return usageError(getCommand, `cannot read the list ${options.from}: ${(err as Error).message}`);
  }
  if (items.length === 0) return usageError(getCommand, 'no files to get: name some, or give --from a list');
  // Before any work: a file there would only fail each download in turn.
  const refused = await refuseFileAsOut(getCommand, options.out);
  if (refused !== undefined) return refused;
  const [{ FileClient }, { reporterFor }, { batchLedger }] = await Promise.all([
    import('../fileClient.js'),
    import('./reporters.js'),
    import('./batchLedger.js'),
  ]);
  let connection;
  try {
    connection = await resolveConnection(options);
  } catch (err) {
    return usageError(getCommand, (err as Error).message);
  }
  const client = new FileClient({
    ...connection,
    server: options.server,
    out: options.out,
    db: options.db,
    limitRate: options.limitRate,
    segments: options.segments,
    retryForMs: options.retryFor,
    stallTimeoutMs: options.stallTimeout,
    checkRemote: options.check,
    retryConnRefused: options.retryConnrefused,
    onTaskMapProblem: (message) => process.stderr.write(`grpc-client: warning: ${message}\n`),
  });
  const mapFailure = (err: unknown) => {
    const message = err instanceof ClientError ? describeFailure('', err, options.server) : (err as Error).message;
    process.stderr.write(`grpc-client: ${message}\n`);
    return err instanceof ClientError ? exitCodeOf(err) : EXIT_FAILED;
  };
  if (options.recursive) {
    // The mirror opens the task map itself, while the server lists the
    // folder; a map that cannot be used stops it before any file.
    const { mirrorFolders } = await import('./mirrorFolders.js');
    return withInterrupts(client, (signal) => mirrorFolders(client, names, options, signal, connection.credentials?._isSecure() ?? false, mapFailure));
  }
  // Opened before any download starts: a map that cannot be used is one
  // line for the whole command, not one per file.
  try {
    await client.tasks();
  } catch (err) {
    await client.close();
    return mapFailure(err);
  }
  const reporter = await reporterFor(options, items.length);
  const ledger = batchLedger(items.map((item) => item.name));

  // process.on, not once: proper-lockfile's exit hook kills the process on a
  // signal that has no other listener left, before our cleanup could run.
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(EXIT_INTERRUPTED);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = Date.now();
  const exitCodes: number[] = [];
  // Each file of a batch fails alike on a server never reached: say it once.
  const said = new Set<string>();
  const summary: BatchSummary = {
    total: items.length,
    downloaded: 0,
    skipped: 0,
    failed: [],
    bytesReceived: 0,
    elapsedMs: 0,
    interrupted: false,
    partials: [],
    neverStarted: [],
  };
  try {
    const results = client.downloadMany(items, {
      concurrency: options.concurrency,
      order: options.order,
      signal: interrupt.signal,
      onStart: (start) => {
        ledger.start(start);
        reporter.start(start);
      },
      onProgress: (progress) => {
        ledger.progress(progress);
        reporter.progress(progress);
      },
      onRetry: (notice) => reporter.retry(notice),
      onWait: ({ name, holderPid }) => reporter.wait(name, holderPid),
    });
    for await (const outcome of results) {
      if (outcome.ok || !interrupt.signal.aborted) ledger.settle(outcome.name);
      if (outcome.ok) {
        summary.bytesReceived += outcome.result.bytesReceived;
        if (outcome.result.transferred) summary.downloaded += 1;
        else summary.skipped += 1;
        reporter.done(outcome.result);
        if (outcome.result.unchecked !== undefined) {
          process.stderr.write(
            `grpc-client: warning: ${outcome.name}: kept the local copy: could not ask the server whether it changed (${outcome.result.unchecked})\n`,
          );
        }
      } else if (!interrupt.signal.aborted) {
        const message = describeFailure(outcome.name, outcome.error, options.server, connection.credentials?._isSecure());
        summary.failed.push({ name: outcome.name, message });
        exitCodes.push(exitCodeOf(outcome.error));
        if (options.json || !said.has(message)) reporter.failed(outcome.name, outcome.error, message);
        said.add(message);
      }
    }
  } finally {
    // Handlers stay until the task map is saved: with none left,
    // proper-lockfile's exit hook would end the process mid-save.
    await client.close().catch((err: Error) => {
      exitCodes.push(EXIT.localIo);
      process.stderr.write(`grpc-client: could not save the task map: ${err.message}; files are verified on the next run\n`);
    });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  summary.elapsedMs = Date.now() - started;
  summary.interrupted = interrupt.signal.aborted;
  if (summary.interrupted) {
    summary.partials = await ledger.partials(options.out);
    summary.neverStarted = ledger.neverStarted();
    summary.bytesReceived += ledger.unsettledBytesThisRun();
  }
  reporter.finish(summary);
  if (summary.interrupted) {
    process.stderr.write('grpc-client: interrupted; partials and the task map are saved: run the same command again to resume\n');
    return EXIT_INTERRUPTED;
  }
  return batchExitCode(exitCodes);
}

/**
 * Runs `work` with Ctrl-C and SIGTERM turned into an abort (a second one
 * exits at once), then saves the task map and closes the client.
 */
async function withInterrupts(client: FileClient, work: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(EXIT_INTERRUPTED);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code: number;
  try {
    code = await work(interrupt.signal);
  } finally {
    const saved = await client.close().then(
      () => true,
      (err: Error) => {
        process.stderr.write(`grpc-client: could not save the task map: ${err.message}; files are verified on the next run\n`);
        return false;
      },
    );
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!saved) code = EXIT.localIo;
  }
  if (interrupt.signal.aborted) {
    process.stderr.write('grpc-client: interrupted; what was verified is kept and the task map is saved: run the same command again to resume\n');
    return EXIT_INTERRUPTED;
  }
  return code;
}

/** A usage error when --out names something other than a folder: the command would only fail on it later, less clearly. */
async function refuseFileAsOut(command: Command, out: string): Promise<number | undefined> {
  const kind = await kindOf(out);
  return kind === 'file' || kind === 'other' ? usageError(command, `--out ${out} is a file, not a folder`) : undefined;
}

async function showStatus(options: { out: string; db?: string; json?: boolean }): Promise<number> {
  const [{ readTasks }, { taskMapFileOf }, { outputPathsOf }, { findFile }, { statusRowOf }] = await Promise.all([
    import('../taskMap/localTasks.js'),
    import('../taskMap/taskStore.js'),
    import('../outputPaths.js'),
    import('../localFile.js'),
    import('./statusRows.js'),
  ]);
  /** Checks a record against the files under `out`, without asking the server. */
  const lookAtDisk = async (out: string, task: TaskRecord) => {
    const { finalPath, partPath } = outputPathsOf(out, task.name);
    return task.status === 'complete' ? statusRowOf(task, await findFile(finalPath), 'missing') : statusRowOf(task, 'missing', await findFile(partPath));
  };
  let map: Awaited<ReturnType<typeof readTasks>>;
  try {
    map = await readTasks(options.out, options.db);
  } catch (err) {
    const message = (err as Error).message;
    if (options.json) process.stdout.write(`${JSON.stringify({ file: taskMapFileOf(options.out, options.db), error: message }, null, 2)}\n`);
    process.stderr.write(`grpc-client: ${message}\n`);
    return EXIT_FAILED;
  }
  const { file, tasks, problems } = map;
  for (const problem of problems) process.stderr.write(`grpc-client: warning: ${problem}\n`);
  const rows = await Promise.all(tasks.map(async (task) => ({ ...task, ...(await lookAtDisk(options.out, task)) })));
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ file, tasks: rows, problems }, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write(`no tasks in ${file}\n`);
    return 0;
  }
  for (const row of rows) {
    const note =
      row.state === 'incomplete'
        ? ` (${formatBytes(row.bytesOnDisk)} on disk, ${row.size ? Math.floor((row.bytesOnDisk * 100) / row.size) : 0}%)`
        : row.damage !== null
          ? ` (${row.damage})`
          : '';
    process.stdout.write(`${row.state.padEnd(10)} ${formatBytes(row.size).padStart(10)}  ${row.name}${note}\n`);
  }
  process.stdout.write(`task map: ${file}\n`);
  return 0;
}

/** The upload map of a server, as `status` shows a task map; the files it names may lie anywhere, so no disk is looked at. */
async function showUploads(options: { server: string; db?: string; json?: boolean }): Promise<number> {
  const [{ readTaskMapFile }, { uploadMapFileOf }] = await Promise.all([import('../taskMap/taskJournal.js'), import('../upload/uploadMap.js')]);
  const file = uploadMapFileOf(options.server, options.db);
  let read: Awaited<ReturnType<typeof readTaskMapFile>>;
  try {
    read = await readTaskMapFile(file);
  } catch (err) {
    process.stderr.write(`grpc-client: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
  const tasks = Object.values(read?.records ?? {}).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const problem of read?.problems ?? []) process.stderr.write(`grpc-client: warning: ${problem}\n`);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ file, tasks, problems: read?.problems ?? [] }, null, 2)}\n`);
    return 0;
  }
  if (tasks.length === 0) {
    process.stdout.write(`no uploads in ${file}\n`);
    return 0;
  }
  for (const task of tasks) process.stdout.write(`${task.status.padEnd(10)} ${formatBytes(task.size).padStart(10)}  ${task.name}\n`);
  process.stdout.write(`upload map: ${file}\n`);
  return 0;
}

async function verifyLocal(names: string[], options: { out: string; db?: string; json?: boolean }): Promise<number> {
  const { verifyFolder } = await import('../taskMap/localTasks.js');
  let verified: Awaited<ReturnType<typeof verifyFolder>>;
  try {
    verified = await verifyFolder(options.out, options.db, names.length > 0 ? names : undefined);
  } catch (err) {
    process.stderr.write(`grpc-client: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
  const { file, results, problems } = verified;
  for (const problem of problems) process.stderr.write(`grpc-client: warning: ${problem}\n`);
  for (const result of results) {
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      continue;
    }
    const note =
      result.verdict === 'damaged'
        ? ' (sha256 differs from the recorded one; the next get fetches it again)'
        : result.verdict === 'size-differs'
          ? ` (${formatBytes(result.size ?? 0)} on disk; the next get checks it against the server)`
          : result.verdict === 'unreadable'
            ? ` (${result.problem})`
            : result.verdict === 'not-found'
              ? ` (no record in ${file})`
              : '';
    const size = result.expectedSize === null ? '' : formatBytes(result.expectedSize);
    process.stdout.write(`${result.verdict.padEnd(12)} ${size.padStart(10)}  ${result.name}${note}\n`);
  }
  const bad = results.filter((result) => result.verdict !== 'ok').length;
  if (!options.json)
    process.stdout.write(
      results.length === 0
        ? `nothing to verify in ${file}\n`
        : `${results.length} ${results.length === 1 ? 'file' : 'files'}: ${results.length - bad} ok, ${bad} not ok\n`,
    );
  return bad === 0 ? 0 : EXIT_FAILED;
}

async function verifyOnline(names: string[], options: VerifyOptions): Promise<number> {
  const [{ FileClient }, text] = await Promise.all([import('../fileClient.js'), import('./serverVerifyText.js')]);
  let connection;
  try {
    connection = await resolveConnection(options);
  } catch (err) {
    return usageError(verifyCommand, (err as Error).message);
  }
  const client = new FileClient({
    ...connection,
    server: options.server,
    out: options.out,
    db: options.db,
    onTaskMapProblem: (message) => process.stderr.write(`grpc-client: warning: ${message}\n`),
  });
  const fail = (err: unknown) => {
    const message = err instanceof ClientError ? describeFailure('', err, options.server, client.secure) : (err as Error).message;
    process.stderr.write(`grpc-client: ${message}\n`);
    return err instanceof ClientError ? exitCodeOf(err) : EXIT_FAILED;
  };
  try {
    await client.tasks();
  } catch (err) {
    await client.close();
    return fail(err);
  }
  return withInterrupts(client, async (signal) => {
    let whole = false;
    let results;
    try {
      results = await client.verifyWithServer(names.length > 0 ? names : undefined, {
        repair: options.repair,
        signal,
        onWait: (pid) => process.stderr.write(`grpc-client: another process${pid ? ` (pid ${pid})` : ''} is downloading into ${options.out}; waiting for it\n`),
        onResult: (result) => {
          if (result.blockSize === null && result.version !== null && !whole) {
            whole = true;
            process.stderr.write(`grpc-client: the server at ${options.server} has no Blocks (an older version): files are compared whole, by sha256\n`);
          }
          process.stdout.write(
            options.json ? `${JSON.stringify({ ...result, error: undefined })}\n` : `${text.serverVerifyLine(result, options.server, client.secure)}\n`,
          );
        },
      });
    } catch (err) {
      if (signal.aborted) return EXIT_INTERRUPTED;
      return fail(err);
    }
    if (!options.json) {
      const repaired = results.filter((r) => r.verdict === 'repaired').length;
      const ok = results.filter((r) => r.verdict === 'ok').length;
      process.stdout.write(
        results.length === 0
          ? 'nothing to verify: no file is recorded complete\n'
          : `${results.length} ${results.length === 1 ? 'file' : 'files'}: ${ok} ok, ${options.repair ? `${repaired} repaired, ` : ''}${results.length - ok - repaired} not ok\n`,
      );
    }
    return text.serverVerifyExitCode(results);
  });
}

async function listRemote(prefix: string, options: ConnectionFlags & { json?: boolean; namesOnly?: boolean }): Promise<number> {
  const { FileClient } = await import('../fileClient.js');
  let client: FileClient;
  try {
    client = new FileClient({ ...(await resolveConnection(options)), server: options.server, out: '.' });
  } catch (err) {
    return usageError(lsCommand, (err as Error).message);
  }
  try {
    const files = await client.list(prefix);
    for (const file of files) {
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ name: file.name, size: file.size, version: file.version, mtime: file.mtime.toISOString() })}\n`
          : options.namesOnly
            ? `${listLineOf(file.name)}\n`
            : `${formatBytes(file.size).padStart(10)}  ${file.mtime.toISOString()}  ${file.name}\n`,
      );
    }
    return 0;
  } catch (err) {
    if (!(err instanceof ClientError)) {
      process.stderr.write(`grpc-client: ${(err as Error).message}\n`);
      return EXIT_FAILED;
    }
    const message =
      err.kind === 'unreachable'
        ? describeFailure('', err, options.server, client.secure)
        : err.kind === 'remote-status' && exitCodeOf(err) === EXIT.unreachable
          ? `server ${options.server} unavailable: ${err.message}`
          : err.message;
    process.stderr.write(`grpc-client: ${message}\n`);
    return exitCodeOf(err);
  } finally {
    await client.close();
  }
}

await program.parseAsync();
