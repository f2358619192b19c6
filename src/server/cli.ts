#!/bin/sh
//bin/true; export GLIBC_TUNABLES="glibc.malloc.trim_threshold=67108864:glibc.malloc.mmap_threshold=4194304${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"; case "$NODE_OPTIONS" in *--max-semi-space-size*) exec node "$0" "$@";; esac; exec node --max-semi-space-size=1 "$0" "$@"
// The two lines above are read by sh: they set glibc's malloc thresholds
// and exec node on this file; src/client/cli/cli.ts says why, and why a
// user's --max-semi-space-size in NODE_OPTIONS is left alone.
// V8's young generation is capped at 2 x 1 MiB instead of 2 x 16. Node's
// HTTP/2 hands each socket read (64 KiB) to JavaScript as a buffer of its
// own, a GiB of them per GiB uploaded, which only a collection frees; V8
// counts them against a 64 MiB allowance of memory outside its heap and
// starts a full collection when they exceed it. A young generation that
// fills after a few MiB received collects them first, and it stays small
// where a long upload grew it to its cap (measured, 4 GiB upload: full
// collections 84 -> 1, server peak RSS 119 -> 102-109 MiB, the same CPU;
// a 1 GiB download and a mirror of 2,000 files: the same CPU, peak RSS
// 97 -> 84 and 150-170 -> 125-132 MiB; a mirror of 50,000 files: CPU
// 7.1-7.8 -> 7.6-8.2 s, peak RSS 190-205 -> 156-161 MiB).
import cluster from 'node:cluster';
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { writeSync } from 'node:fs';
import path from 'node:path';
import { parseByteSize } from '../shared/byteSize.js';
import { parseDuration } from '../shared/duration.js';
import type { ServerOptions } from './server.js';
import type { TokenSet } from './tokenAuth.js';
import type { DigestLog } from './digestLog.js';
import {
  BLOCK_SIZE_UNIT,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_OPEN_FILES,
  DEFAULT_MAX_QUEUED_HASHES,
  DEFAULT_MAX_STAGED_BYTES,
  DEFAULT_MAX_UPLOAD_SIZE,
  DEFAULT_UPLOAD_TTL_MS,
  MAX_BLOCK_SIZE,
  MAX_CHUNK_SIZE,
} from './limits.js';
import { PACKAGE_VERSION } from '../shared/packageVersion.js';

const GRACE_MS = 5000;
/** What commander reports a usage error with, as the client does. */
const EXIT_USAGE = 2;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A size as the client's --limit-rate takes it (16k, 1M, or bytes), within bounds. */
function byteSize(min: number, max: number) {
  return (value: string): number => {
    let n: number;
    try {
      n = parseByteSize(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
    if (n < min || n > max) throw new InvalidArgumentError(`expected a size from ${min} byte to ${max / 1024 / 1024}M, not ${value}`);
    return n;
  };
}

/** A block size: a multiple of BLOCK_SIZE_UNIT (64k, 4M, ...) up to MAX_BLOCK_SIZE. */
function blockSize(value: string): number {
  const n = byteSize(1, Number.MAX_SAFE_INTEGER)(value);
  if (n % BLOCK_SIZE_UNIT !== 0 || n > MAX_BLOCK_SIZE) throw new InvalidArgumentError(`expected a multiple of 64k up to 1G (e.g. 64k, 1M, 4M), not ${value}`);
  return n;
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

const program = new Command('grpc-server')
  .version(PACKAGE_VERSION)
  .description('Serve the files of a folder over gRPC (filetransfer.v1.FileService) with resumable downloads.')
  .option('--root <dir>', 'folder to serve; nothing outside it is ever read', 'serverFiles')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on; 0 picks a free one', integer(0, 65535), 50051)
  .addOption(
    new Option('--chunk-size <size>', 'file data per message, e.g. 256k or 1M (a bare number is bytes)')
      .argParser(byteSize(1, MAX_CHUNK_SIZE))
      .default(DEFAULT_CHUNK_SIZE, `${DEFAULT_CHUNK_SIZE / 1024}k`),
  )
  // Checked here: pino would throw its own stack trace for an unknown level.
  .addOption(new Option('--log-level <level>', 'how much to log').choices(LOG_LEVELS).default('info'))
  .option('--tls-cert <file>', 'PEM certificate chain: serve TLS (with --tls-key)')
  .option('--tls-key <file>', 'PEM private key of --tls-cert')
  .option('--tls-client-ca <file>', 'PEM CA: require client certificates it signed (mTLS)')
  .option(
    '--token-file <file>',
    "accept only calls with one of these bearer tokens (one a line, then optionally its scopes: 'TOKEN read,write'; reloaded on SIGHUP)",
  )
  .option('--metrics-port <port>', 'serve Prometheus metrics at http://<host>:<port>/metrics', integer(0, 65535))
  .option('--max-concurrent-streams <n>', 'HTTP/2 streams one connection may run at once', integer(1, 10_000), 100)
  .option('--keepalive-time-ms <ms>', 'ping idle connections this often', integer(1000, 2 ** 31 - 1), 60_000)
  .option('--max-connection-idle-ms <ms>', 'close connections without calls this long', integer(1000, 2 ** 31 - 1), 5 * 60_000)
  .option('--max-connection-age-ms <ms>', 'close connections this old once their calls end, so clients rebalance', integer(1000, 2 ** 31 - 1), 60 * 60_000)
  .option('--max-connections <n>', `connections open at once (default: ${DEFAULT_MAX_CONNECTIONS}, less under a low descriptor limit)`, integer(1, 1_000_000))
  .option(
    '--max-open-files <n>',
    `files and folders open at once for calls (default: ${DEFAULT_MAX_OPEN_FILES}, less under a low descriptor limit)`,
    integer(1, 1_000_000),
  )
  .option('--state-dir <dir>', 'keep file and block digests here across restarts, so a restarted server answers resumes and Blocks without rehashing')
  .addOption(
    new Option('--block-size <size>', 'bytes per block of the per-block digests (Blocks): a multiple of 64k up to 1G')
      .argParser(blockSize)
      .default(DEFAULT_BLOCK_SIZE, `${DEFAULT_BLOCK_SIZE / 1024 / 1024}M`),
  )
  .option('--limit-rate <rate>', 'cap the file data sent per second over all calls together, e.g. 512k, 16M, 1G (bytes per second)', byteSize(1, 2 ** 50))
  .option('--max-queued-hashes <n>', 'whole-file hashes that may wait for a turn', integer(0, 1_000_000), DEFAULT_MAX_QUEUED_HASHES)
  .option('--allow-upload', 'accept uploads (Upload, QueryUpload): files are staged, verified by SHA-256, then renamed into place')
  .option(
    '--upload-staging <dir>',
    'folder for the bytes of unfinished uploads, outside --root on its file system (default: <state-dir>/uploads, or .<root name>.uploads beside --root)',
  )
  .addOption(
    new Option('--upload-ttl <duration>', 'delete staged uploads no call touched this long, e.g. 1h, 168h (a bare number is seconds)')
      .argParser(duration)
      .default(DEFAULT_UPLOAD_TTL_MS, '24h'),
  )
  .addOption(
    new Option('--max-upload-size <size>', 'largest file one upload may declare, e.g. 10G')
      .argParser(byteSize(1, Number.MAX_SAFE_INTEGER))
      .default(DEFAULT_MAX_UPLOAD_SIZE, `${DEFAULT_MAX_UPLOAD_SIZE / 1024 ** 3}G`),
  )
  .addOption(
    new Option('--max-staged-bytes <size>', 'bytes all unfinished uploads may hold in the staging folder, each running one counted at its full size')
      .argParser(byteSize(1, Number.MAX_SAFE_INTEGER))
      .default(DEFAULT_MAX_STAGED_BYTES, `${DEFAULT_MAX_STAGED_BYTES / 1024 ** 3}G`),
  )
  .option(
    '--handshake-timeout-ms <ms>',
    'time a new connection has for its TLS and HTTP/2 handshake, and a silent one to answer a ping',
    integer(100, 2 ** 31 - 1),
    DEFAULT_HANDSHAKE_TIMEOUT_MS,
  )
  .option(
    '--workers <n>',
    'processes that serve the port together, each on a core of its own; 1 serves from this process alone (default: 1)',
    integer(1, 256),
    1,
  )
  // A usage error is one line, exit 2, never the whole help.
  .showSuggestionAfterError()
  .configureOutput({
    outputError: (text, write) =>
      write(
        `grpc-server: ${text
          .trim()
          .replace(/^error: /, '')
          .replace(/\s*\n\s*/g, ' ')
          .replace(/\.$/, '')}; try 'grpc-server --help'\n`,
      ),
  })
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE))
  .parse();

const options = program.opts<{
  root: string;
  host: string;
  port: number;
  chunkSize: number;
  logLevel: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  tokenFile?: string;
  metricsPort?: number;
  maxConcurrentStreams: number;
  keepaliveTimeMs: number;
  maxConnectionIdleMs: number;
  maxConnectionAgeMs: number;
  maxConnections?: number;
  maxOpenFiles?: number;
  maxQueuedHashes: number;
  handshakeTimeoutMs: number;
  stateDir?: string;
  blockSize: number;
  limitRate?: number;
  allowUpload?: boolean;
  uploadStaging?: string;
  uploadTtl: number;
  maxUploadSize: number;
  maxStagedBytes: number;
  workers: number;
}>();
// Loaded once the command line is known good: --help and a usage error
// need none of grpc-js, pino or the service (~300 ms on a small machine).
const [{ pino }, { humanLogLine }, workers] = await Promise.all([import('pino'), import('./logFormat.js'), import('./workers.js')]);
const primary = options.workers > 1 && cluster.isPrimary;
// In a worker of several, what the primary is told instead of stdout.
const link = options.workers > 1 && cluster.isWorker ? workers.joinPrimary() : undefined;
// Logs go to stderr, one line per call: JSON for programs, a plain line on
// a terminal. stdout carries only the readiness line that scripts and tests
// wait for.
const logger = pino(
  { level: options.logLevel, base: { pid: process.pid, ...(link ? { worker: link.slot } : {}) } },
  process.stderr.isTTY ? { write: (line: string) => writeSync(2, humanLogLine(line)) } : pino.destination({ dest: 2, sync: true }),
);

/** Names the flag whose file could not be read: "--token-file x: no such file". */
function readFlagFile(flag: string, file: string): Promise<Buffer> {
  return readFile(file).catch((err: NodeJS.ErrnoException) => Promise.reject(new Error(`${flag} ${file}: ${fileProblem(err)}`)));
}

function fileProblem(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return 'no such file';
  if (err.code === 'EACCES') return 'permission denied';
  if (err.code === 'EISDIR') return 'is a folder, not a file';
  return err.message;
}

/** Why listening failed, in the words of the flag that fixes it. */
function describeListenFailure(message: string): string {
  if (/EADDRINUSE/.test(message)) return `port ${options.port} is in use; choose another with --port`;
  if (/EACCES/.test(message)) return `no permission to listen on port ${options.port}; choose one above 1023 with --port`;
  if (/EADDRNOTAVAIL/.test(message)) return `${options.host} is not an address of this machine; choose another with --host`;
  return message;
}

async function readTls(): Promise<ServerOptions['tls']> {
  if (!options.tlsCert && !options.tlsKey && !options.tlsClientCa) return undefined;
  if (!options.tlsCert || !options.tlsKey) throw new Error('TLS needs both --tls-cert and --tls-key');
  return {
    cert: await readFlagFile('--tls-cert', options.tlsCert),
    key: await readFlagFile('--tls-key', options.tlsKey),
    clientCa: options.tlsClientCa ? await readFlagFile('--tls-client-ca', options.tlsClientCa) : undefined,
  };
}

/** The staging folder: under --state-dir when there is one, else hidden beside the root, never inside it. */
function uploadOptions(): ServerOptions['uploads'] {
  if (!options.allowUpload) return undefined;
  const root = path.resolve(options.root);
  const stagingDir =
    options.uploadStaging ?? (options.stateDir ? path.join(options.stateDir, 'uploads') : path.join(path.dirname(root), `.${path.basename(root)}.uploads`));
  return { stagingDir, ttlMs: options.uploadTtl, maxUploadSize: options.maxUploadSize, quotaBytes: options.maxStagedBytes };
}

/** The line that says the server accepts calls: the same from one process or a primary of several. */
function readinessLine(server: { host: string; port: number; root: string; metricsPort: number | undefined }): string {
  const scheme = options.tlsCert ? ' with TLS' : '';
  const metricsNote = server.metricsPort !== undefined ? `, metrics on ${server.host}:${server.metricsPort}` : '';
  return `grpc-server listening on ${server.host}:${server.port}, serving ${server.root}${scheme}${metricsNote}\n`;
}

/** The primary of several workers: it serves no calls itself (see workers.ts). */
async function runPrimary(): Promise<void> {
  let digestLog: DigestLog | undefined;
  try {
    if (options.stateDir !== undefined) {
      const [{ DigestLog }, { logBoundsOf }] = await Promise.all([import('./digestLog.js'), import('./digestCache.js')]);
      // Compacted here, once, before any worker reads it; then only the primary writes it.
      ({ log: digestLog } = await DigestLog.open(options.stateDir, logBoundsOf(options.blockSize), (err) =>
        logger.warn({ err: err.message }, 'cannot persist digests; a restart will rehash'),
      ));
    }
  } catch (err) {
    process.stderr.write(`grpc-server: --state-dir ${options.stateDir}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const metricsPort = options.metricsPort;
  // It fails only before any worker starts: its metrics port cannot be listened on.
  await workers
    .runPrimary({
      workers: options.workers,
      logger,
      graceMs: GRACE_MS,
      reloads: options.tokenFile !== undefined,
      digestLog,
      serveMetrics:
        metricsPort === undefined ? undefined : async (gather) => (await import('./metrics.js')).serveClusterMetrics(options.host, metricsPort, gather),
      onReady: (server) => process.stdout.write(readinessLine(server)),
      onFailed: (message) => process.stderr.write(`grpc-server: ${describeListenFailure(message)}\n`),
    })
    .catch((err: Error) => {
      process.stderr.write(`grpc-server: ${describeListenFailure(err.message)}\n`);
      process.exit(1);
    });
}

/** One process serving calls: the whole server, or one worker of several. */
async function runServer(): Promise<void> {
  const [grpc, { startServer }, tokenAuth] = await Promise.all([import('@grpc/grpc-js'), import('./server.js'), import('./tokenAuth.js')]);
  // grpc-js's own error lines ("E No address added out of total 1 resolved")
  // would come before ours, which say the same in words; kept for --log-level debug.
  grpc.setLogger({
    error: (...args: unknown[]) => logger.debug({ grpc: args.join(' ') }, 'grpc-js'),
    info: (...args: unknown[]) => logger.debug({ grpc: args.join(' ') }, 'grpc-js'),
    debug: (...args: unknown[]) => logger.debug({ grpc: args.join(' ') }, 'grpc-js'),
  });
  let stop: ((signal: NodeJS.Signals | 'primary') => void) | undefined;
  // The primary may say stop before this worker listens: nothing runs yet.
  link?.onStop(() => (stop ? stop('primary') : process.exit(0)));
  try {
    let tokens: TokenSet | undefined;
    if (options.tokenFile) {
      tokens = new tokenAuth.TokenSet(options.tokenFile);
      const file = options.tokenFile;
      await tokens
        .load()
        .catch((err: NodeJS.ErrnoException) => Promise.reject(new Error(err.code ? `--token-file ${file}: ${fileProblem(err)}` : err.message)));
      const loaded = tokens;
      const reload = () =>
        loaded.load().then(
          (count) => logger.info({ tokens: count }, 'token file reloaded'),
          (err: Error) => logger.error({ err: err.message }, 'token file not reloaded; the previous tokens stay in force'),
        );
      process.on('SIGHUP', reload);
      link?.onReload(reload);
    }
    const server = await startServer({
      ...options,
      tls: await readTls(),
      tokens,
      logger,
      uploads: uploadOptions(),
      cluster: link,
    });

    let stopping = false;
    stop = (signal) => {
      if (stopping) {
        // The primary's word comes on top of a terminal's SIGINT to the whole group: not a second signal.
        if (signal === 'primary') return;
        logger.warn({ signal }, 'second signal: stopping now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal, graceMs: GRACE_MS }, 'shutting down: no new calls, running ones get the grace period');
      void server.close(GRACE_MS).then(() => process.exit(0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    // Only now: stdout to a pipe is written at once, and a supervisor that
    // reads this line may signal at once; without a handler yet, SIGTERM
    // would kill the server without its graceful stop.
    if (link) link.ready({ host: server.host, port: server.port, root: server.root });
    else process.stdout.write(readinessLine(server));
  } catch (err) {
    // A worker's reason is printed once, by the primary, for all of them.
    if (link) await link.failed((err as Error).message);
    else process.stderr.write(`grpc-server: ${describeListenFailure((err as Error).message)}\n`);
    process.exit(1);
  }
}

await (primary ? runPrimary() : runServer());
