import * as grpc from '@grpc/grpc-js';
import { stat, realpath } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import type { FileServiceHandlers } from '../generated/filetransfer/v1/FileService.js';
import { parsePrefix } from '../shared/names.js';
import { loadFileTransfer } from '../shared/proto.js';
import { grpcCodeOf } from '../shared/statusError.js';
import { DigestCache } from './digestCache.js';
import { streamDownload, type DownloadOutcome } from './download.js';
import { fileInfoOf } from './fileInfo.js';
import { listFiles } from './listFiles.js';
import { openServedFile, versionOf } from './servedFile.js';

export interface ServerOptions {
  /** Folder whose files are served; nothing outside it ever is. */
  root: string;
  host?: string;
  /** 0 picks a free port; the chosen one is in the result. */
  port?: number;
  /** Bytes of file data per message. */
  chunkSize?: number;
  logger?: Logger;
}

export interface RunningServer {
  host: string;
  port: number;
  root: string;
  /** Stops accepting calls, lets running ones finish for `graceMs`, then cuts them. */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_CHUNK_SIZE = 256 * 1024;
// A message must stay under grpc-js's default 4 MiB receive limit with its
// framing, or every client fails with RESOURCE_EXHAUSTED.
export const MAX_CHUNK_SIZE = 1024 * 1024;

/**
 * Starts the file service and resolves once it accepts calls: the readiness
 * event that embedding programs and tests wait on instead of sleeping.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const root = await realpath(options.root).catch(() => {
    throw new Error(`root folder ${options.root} does not exist`);
  });
  if (!(await stat(root)).isDirectory()) throw new Error(`root ${options.root} is not a folder`);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new Error(`chunk size must be between 1 and ${MAX_CHUNK_SIZE} bytes`);
  }
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? pino({ level: 'silent' });
  const digests = new DigestCache();

  const server = new grpc.Server();
  server.addService(loadFileTransfer().FileService.service, handlers(root, chunkSize, digests, logger));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(new Error(`cannot listen on ${host}:${options.port ?? 0}: ${err.message}`)) : resolve(bound),
    );
  });

  return {
    host,
    port,
    root,
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

function handlers(root: string, chunkSize: number, digests: DigestCache, logger: Logger): FileServiceHandlers {
  const logCall = (method: string, fields: Record<string, unknown>, started: number, err: unknown, peer: string) => {
    const code = err === undefined ? grpc.status.OK : (grpcCodeOf(err) ?? grpc.status.UNKNOWN);
    const level = code === grpc.status.OK || code === grpc.status.CANCELLED ? 'info' : code === grpc.status.UNKNOWN ? 'error' : 'warn';
    logger[level]({ method, ...fields, durationMs: Date.now() - started, code: grpc.status[code], peer }, 'call');
  };

  return {
    Download(call) {
      const started = Date.now();
      const cancel = new AbortController();
      call.on('cancelled', () => cancel.abort());
      const outcome: DownloadOutcome = { offset: call.request.offset, bytesSent: 0 };
      streamDownload(call, { root, digests, chunkSize }, cancel.signal, outcome).then(
        () => {
          call.end();
          logCall('Download', { name: call.request.name, ...outcome }, started, undefined, call.getPeer());
        },
        (err: unknown) => {
          const cancelled = cancel.signal.aborted;
          if (!cancelled) call.emit('error', toStatus(err));
          logCall('Download', { name: call.request.name, ...outcome }, started, cancelled ? { code: grpc.status.CANCELLED } : err, call.getPeer());
        },
      );
    },

    Stat(call, callback) {
      const started = Date.now();
      void (async () => {
        const file = await openServedFile(root, call.request.name);
        try {
          return fileInfoOf(file, await digests.digestOf(file));
        } finally {
          await file.handle.close();
        }
      })().then(
        (info) => {
          callback(null, info);
          logCall('Stat', { name: call.request.name }, started, undefined, call.getPeer());
        },
        (err: unknown) => {
          callback(toStatus(err));
          logCall('Stat', { name: call.request.name }, started, err, call.getPeer());
        },
      );
    },

    List(call) {
      const started = Date.now();
      let count = 0;
      void (async () => {
        const prefix = parsePrefix(call.request.prefix);
        for (const file of await listFiles(root, prefix)) {
          if (call.cancelled) return;
          call.write(fileInfoOf({ name: file.name, stat: file.stat, version: versionOf(file.stat) }, ''));
          count += 1;
        }
      })().then(
        () => {
          call.end();
          logCall('List', { prefix: call.request.prefix, count }, started, undefined, call.getPeer());
        },
        (err: unknown) => {
          call.emit('error', toStatus(err));
          logCall('List', { prefix: call.request.prefix, count }, started, err, call.getPeer());
        },
      );
    },
  };
}

/**
 * The one place where failures become gRPC statuses. Anything that is not a
 * StatusError is a bug or an I/O failure: the client sees INTERNAL without
 * server paths or stack traces; the log keeps the detail.
 */
function toStatus(err: unknown): { code: grpc.status; details: string; message: string } {
  const code = grpcCodeOf(err);
  if (code !== undefined && err instanceof Error) return { code, details: err.message, message: err.message };
  return { code: grpc.status.INTERNAL, details: 'internal server error', message: 'internal server error' };
}
