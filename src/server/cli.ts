#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, startServer } from './server.js';

const GRACE_MS = 5000;

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

const program = new Command('grpc-server')
  .description('Serve the files of a folder over gRPC (filetransfer.v1.FileService) with resumable downloads.')
  .option('--root <dir>', 'folder to serve; nothing outside it is ever read', 'serverFiles')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on; 0 picks a free one', integer(0, 65535), 50051)
  .option('--chunk-size <bytes>', 'bytes of file data per message', integer(1, MAX_CHUNK_SIZE), DEFAULT_CHUNK_SIZE)
  .option('--log-level <level>', 'fatal, error, warn, info, debug or silent', 'info')
  .showHelpAfterError()
  .parse();

const options = program.opts<{ root: string; host: string; port: number; chunkSize: number; logLevel: string }>();
// Logs go to stderr as JSON lines, one per call; stdout carries only the
// readiness line that scripts and tests wait for.
const logger = pino({ level: options.logLevel, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));

try {
  const server = await startServer({ ...options, logger });
  process.stdout.write(`grpc-server listening on ${server.host}:${server.port}, serving ${server.root}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: stopping now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs: GRACE_MS }, 'shutting down: no new calls, running ones get the grace period');
    void server.close(GRACE_MS).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (err) {
  process.stderr.write(`grpc-server: ${(err as Error).message}\n`);
  process.exit(1);
}
