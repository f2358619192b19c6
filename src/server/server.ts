import * as grpc from '@grpc/grpc-js';
import { stat, realpath } from 'node:fs/promises';
import type { ServerHttp2Session } from 'node:http2';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { pino, type Logger } from 'pino';
import type { DownloadManyRequest__Output } from '../generated/filetransfer/v1/DownloadManyRequest.js';
import type { FileInfo } from '../generated/filetransfer/v1/FileInfo.js';
import type { FileInfoBatch } from '../generated/filetransfer/v1/FileInfoBatch.js';
import type { FileServiceHandlers } from '../generated/filetransfer/v1/FileService.js';
import type { ListNamesRequest__Output } from '../generated/filetransfer/v1/ListNamesRequest.js';
import type { ListRequest__Output } from '../generated/filetransfer/v1/ListRequest.js';
import { CHUNK_HEADER_ROOM, encodeFileInfoBatch, type WireChunk } from '../shared/chunkCodec.js';
import { parsePrefix } from '../shared/names.js';
import { fileTransferDefinition, loadFileTransfer } from '../shared/proto.js';
import { grpcCodeOf, StatusError } from '../shared/statusError.js';
import { BoundedWriter } from './boundedWriter.js';
import { BufferPool } from './bufferPool.js';
import { installZeroCopySend } from './zeroCopySend.js';
import { StreamBudget } from './streamBudget.js';
import { DigestCache, logBoundsOf, type DigestCacheOptions } from './digestCache.js';
import { streamBlocks, type BlocksOutcome } from './blocks.js';
import { RateLimiter } from '../shared/rateLimiter.js';
import { DigestLog } from './digestLog.js';
import type { ServerMetrics } from './metrics.js';
import { hashTurn, uploadTurn, type ClusterLink } from './workers.js';
import { installPooledDecoder } from '../shared/receiveBuffers.js';
import { authInterceptor, type Scope, type TokenSet } from './tokenAuth.js';
import { Staging, type NameTurns } from './staging.js';
import { queryUpload, receiveUpload, type UploadContext, type UploadOutcome } from './upload.js';
import { CallLog } from './callLog.js';
import { guardConnections, listeningServersOf, type ConnectionLimits } from './connectionGuard.js';
import {
  BLOCK_SIZE_UNIT,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_QUEUED_HASHES,
  DescriptorBudget,
  defaultLimits,
  MAX_BLOCK_SIZE,
  MAX_CHUNK_SIZE,
  openFileLimit,
} from './limits.js';
import { streamDownload, type DownloadOutcome } from './download.js';
import { streamMany, type ManyOutcome } from './downloadMany.js';
import { CHUNK_A_MESSAGE, chunkBatches, type ManyFraming } from './manyFraming.js';
import { fileInfoOf } from './fileInfo.js';
import { listFiles, namedFiles, type ListedFile, type ListProgress } from './listFiles.js';
import { FsThread } from './fsThread.js';
import { assertProcWorks, openServedFile, type ServedFile } from './servedFile.js';

export interface ServerOptions {
  /** Folder whose files are served; nothing outside it ever is. */
  root: string;
  host?: string;
  /** 0 picks a free port; the chosen one is in the result. */
  port?: number;
  /** Bytes of file data per message. */
  chunkSize?: number;
  logger?: Logger;
  /** PEM files' contents; with `clientCa`, clients must present a certificate it signed (mTLS). */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** When set, FileService calls need `authorization: Bearer <token>`; health stays open. */
  tokens?: TokenSet;
  /** Serve Prometheus metrics on this port (0 picks one); off when undefined. */
  metricsPort?: number;
  /** HTTP/2 streams one connection may run at once. */
  maxConcurrentStreams?: number;
  /** Close connections idle this long. */
  maxConnectionIdleMs?: number;
  /** Close connections this old once their calls end, so clients rebalance. */
  maxConnectionAgeMs?: number;
  /** Ping connections this often to find dead peers. */
  keepaliveTimeMs?: number;
  /** Connections open at once; by default derived from the descriptor limit (see defaultLimits). */
  maxConnections?: number;
  /** Served files and listed folders open at once for calls; derived like maxConnections. */
  maxOpenFiles?: number;
  /** Whole-file hashes waiting for a turn; more fail with RESOURCE_EXHAUSTED. */
  maxQueuedHashes?: number;
  /** Time for a new connection's TLS and HTTP/2 handshake; also for a silent one to answer a ping. */
  handshakeTimeoutMs?: number;
  /** Folder where whole-file and block digests persist across restarts (created if missing); one per server. */
  stateDir?: string;
  /** Bytes per block of the Blocks call: a multiple of 64 KiB up to 1 GiB. */
  blockSize?: number;
  /** File data bytes per second the server sends, over all calls together; unlimited when undefined. */
  limitRate?: number;
  /** Accept uploads, staged as said here; without it Upload and QueryUpload answer PERMISSION_DENIED. */
  uploads?: UploadOptions;
  /**
   * Set in a worker of several (see workers.ts): the primary keeps the
   * digest log, grants hash and upload turns, and serves the metrics.
   */
  cluster?: ClusterLink;
}

export interface UploadOptions {
  /** Folder for bytes of unfinished uploads: outside the root, on its file system (created if missing). */
  stagingDir: string;
  /** Staged bytes no call touched for this long are deleted. */
  ttlMs: number;
  /** Largest file one upload may declare. */
  maxUploadSize: number;
  /** Bytes all staged uploads together may hold, each running one counted at its declared size. */
  quotaBytes: number;
}

export interface ServerLimits extends ConnectionLimits {
  maxOpenFiles: number;
  maxQueuedHashes: number;
}

export interface RunningServer {
  host: string;
  port: number;
  root: string;
  metricsPort: number | undefined;
  /** The bounds in force, defaults resolved. */
  limits: ServerLimits;
  /**
   * Reports NOT_SERVING to health checks, stops accepting calls, lets
   * running ones finish for `graceMs`, then cuts them.
   */
  close(graceMs?: number): Promise<void>;
}

const HEALTH_SERVICES = ['', 'filetransfer.v1.FileService'];
/**
 * Services that need no token and are not logged per call: load balancers
 * and generic tools use them. Everything else, including any RPC added
 * later, needs a token when tokens are configured.
 */
const OPEN_SERVICES = ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];
const isOpenService = (path: string) => OPEN_SERVICES.some((service) => path.startsWith(`/${service}/`));

const FILE_SERVICE = '/filetransfer.v1.FileService/';
/** What a token needs for each FileService method. */
const METHOD_SCOPES: Record<string, readonly Scope[]> = {
  Download: ['read'],
  Stat: ['read'],
  List: ['read'],
  ListBatches: ['read'],
  ListNames: ['read'],
  DownloadMany: ['read'],
  DownloadManyBatches: ['read'],
  Blocks: ['read'],
  Upload: ['write'],
  QueryUpload: ['write'],
};
const ALL_SCOPES: readonly Scope[] = ['read', 'write'];

/**
 * The scopes a call needs: none for the open services, and every scope for
 * a method not in the table, so an RPC added later is closed to all but
 * the tokens that may do everything until it is given its scope.
 */
export function scopesOf(path: string): readonly Scope[] {
  if (isOpenService(path)) return [];
  const method = path.startsWith(FILE_SERVICE) ? path.slice(FILE_SERVICE.length) : '';
  return Object.hasOwn(METHOD_SCOPES, method) ? METHOD_SCOPES[method]! : ALL_SCOPES;
}

/**
 * The HTTP/2 window for data the server receives: grpc-js leaves it at
 * 64 KiB, which bounds an upload to 64 KiB per round trip (the client's
 * own window does the same for downloads, see connect.ts). Per stream, and
 * the connection's as large as a few streams' worth.
 */
const UPLOAD_STREAM_WINDOW = 4 * 1024 * 1024;
const UPLOAD_CONNECTION_WINDOW = 16 * 1024 * 1024;

/** Read buffers kept for reuse once streams end. */
const IDLE_BUFFER_BYTES = 16 * 1024 * 1024;
/** Chunks waiting in grpc-js, over all streams (see StreamBudget). */
const IN_FLIGHT_BUDGET_BYTES = 16 * 1024 * 1024;
const MIN_IN_FLIGHT = 2;
// A lone stream: 8 chunks waiting in grpc-js (fewer starved the socket
// between write callbacks) and 3 being read, about 3 MiB however slow the
// reader; streams running together get less of each (see StreamBudget).
const MAX_IN_FLIGHT = 8;
const MAX_READ_AHEAD = 3;

/**
 * Starts the file service and resolves once it accepts calls: the readiness
 * event that embedding programs and tests wait on instead of sleeping.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const root = await realpath(options.root).catch(() => {
    throw new Error(`root folder ${options.root} does not exist`);
  });
  if (!(await stat(root)).isDirectory()) throw new Error(`root ${options.root} is not a folder`);
  await assertProcWorks(root);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new Error(`chunk size must be between 1 and ${MAX_CHUNK_SIZE} bytes`);
  }
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!Number.isInteger(blockSize) || blockSize < BLOCK_SIZE_UNIT || blockSize > MAX_BLOCK_SIZE || blockSize % BLOCK_SIZE_UNIT !== 0) {
    throw new Error(`block size must be a multiple of ${BLOCK_SIZE_UNIT} bytes up to ${MAX_BLOCK_SIZE}`);
  }
  if (options.limitRate !== undefined && !(Number.isSafeInteger(options.limitRate) && options.limitRate > 0)) {
    throw new Error('the rate limit must be a positive number of bytes per second');
  }
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? pino({ level: 'silent' });
  // prom-client (and the OpenTelemetry API it loads) add ~60 ms to every
  // start; only a server asked for metrics pays for them.
  const metrics = options.metricsPort === undefined ? undefined : new (await import('./metrics.js')).ServerMetrics();
  const maxQueuedHashes = options.maxQueuedHashes ?? DEFAULT_MAX_QUEUED_HASHES;
  const derived = defaultLimits(await openFileLimit(), maxQueuedHashes);
  const limits: ServerLimits = {
    maxConnections: options.maxConnections ?? derived.maxConnections,
    maxOpenFiles: options.maxOpenFiles ?? derived.maxOpenFiles,
    maxQueuedHashes,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  };

  const callLog = new CallLog(logger, metrics, (path) => !isOpenService(path));
  installZeroCopySend();
  // grpc-js would assemble every upload message in a fresh buffer; the
  // upload gives each back once staged (see StagedFile.take).
  if (options.uploads) installPooledDecoder();
  const server = new grpc.Server({
    // The call log comes first, nearest the wire, so it also sees the
    // calls that authentication refuses.
    interceptors: [callLog.interceptor, ...(options.tokens ? [authInterceptor(options.tokens, scopesOf)] : [])],
    'grpc.max_concurrent_streams': options.maxConcurrentStreams ?? 100,
    'grpc.max_connection_idle_ms': options.maxConnectionIdleMs ?? 5 * 60_000,
    'grpc.max_connection_age_ms': options.maxConnectionAgeMs ?? 60 * 60_000,
    // A stream in progress is never cut for age: transfers can be long.
    'grpc.max_connection_age_grace_ms': 24 * 60 * 60_000,
    'grpc.keepalive_time_ms': options.keepaliveTimeMs ?? 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
  });
  const pool = new BufferPool(CHUNK_HEADER_ROOM + chunkSize, Math.max(4, Math.floor(IDLE_BUFFER_BYTES / chunkSize)));
  const budget = new StreamBudget(Math.max(MIN_IN_FLIGHT, Math.floor(IN_FLIGHT_BUDGET_BYTES / chunkSize)), MIN_IN_FLIGHT, MAX_IN_FLIGHT, MAX_READ_AHEAD);
  const files = new DescriptorBudget(limits.maxOpenFiles);
  const digestOptions = { maxQueued: limits.maxQueuedHashes, blockSize, onHashed: metrics && (() => metrics.fileHashed()) };
  const { digests, close: closeDigests } = options.cluster
    ? await sharedDigests(options.cluster, options.stateDir, digestOptions)
    : await openDigests(options.stateDir, digestOptions, logger);
  const fsThread = new FsThread();
  const limiter = options.limitRate === undefined ? undefined : new RateLimiter(options.limitRate);
  const names = options.cluster && clusterNames(options.cluster);
  const staging = options.uploads ? await Staging.open(root, { dir: options.uploads.stagingDir, ...options.uploads, names }, logger) : undefined;
  const uploads: UploadContext | undefined =
    staging && options.uploads
      ? {
          root,
          staging,
          digests,
          files,
          // A file larger than the staging quota could never be staged whole.
          maxUploadSize: Math.min(options.uploads.maxUploadSize, options.uploads.quotaBytes),
          onBytes: metrics ? (bytes) => metrics.bytesReceived(bytes) : undefined,
        }
      : undefined;
  const context: ServiceContext = { root, pool, budget, files, digests, fsThread, callLog, metrics, limiter, uploads };
  server.addService(loadFileTransfer().FileService.service, handlers(context));
  const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((name) => [name, 'NOT_SERVING' as const])));
  health.addToServer(server);
  new ReflectionService(fileTransferDefinition()).addToServer(server);

  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(
        options.tls.clientCa ?? null,
        [{ cert_chain: options.tls.cert, private_key: options.tls.key }],
        options.tls.clientCa !== undefined,
      )
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`, credentials, (err, bound) =>
      err ? reject(new Error(`cannot listen on ${host}:${options.port ?? 0}: ${err.message}`)) : resolve(bound),
    );
  });
  for (const listener of listeningServersOf(server)) {
    guardConnections(listener, limits, logger);
    if (uploads) listener.on('session', widenReceiveWindow);
  }
  logger.info(limits, 'limits');
  // A worker's metrics are served by its primary, summed with the others'.
  if (metrics && options.cluster) options.cluster.shareMetrics(() => metrics.json());
  const metricsServer = metrics && !options.cluster ? await metrics.listen(host, options.metricsPort!) : undefined;
  for (const name of HEALTH_SERVICES) health.setStatus(name, 'SERVING');

  return {
    host,
    port,
    root,
    metricsPort: metricsServer?.port,
    limits,
    close: async (graceMs = 5000) => {
      for (const name of HEALTH_SERVICES) health.setStatus(name, 'NOT_SERVING');
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await metricsServer?.close();
      staging?.close();
      await closeDigests();
    },
  };
}

type DigestOptions = Pick<DigestCacheOptions, 'maxQueued' | 'onHashed'> & { blockSize: number };

/** The digest cache, filled from and written to `stateDir` when there is one. */
async function openDigests(
  stateDir: string | undefined,
  options: DigestOptions,
  logger: Logger,
): Promise<{ digests: DigestCache; close: () => Promise<void> }> {
  if (stateDir === undefined) return { digests: new DigestCache(options), close: () => Promise.resolve() };
  const { log, digests } = await DigestLog.open(stateDir, logBoundsOf(options.blockSize), (err) =>
    logger.warn({ err: err.message }, 'cannot persist digests; a restart will rehash'),
  );
  const cache = new DigestCache({ ...options, onDigest: (version, known) => log.append(version, known) });
  cache.preload(digests);
  const blockLists = [...digests.values()].filter((known) => known.blocks).length;
  logger.info({ stateDir, digests: digests.size, blockLists }, 'digests loaded');
  return { digests: cache, close: () => log.close() };
}

/**
 * A worker's digest cache: filled from the log its primary keeps, telling
 * the primary what it learns, told what the other workers learn, and
 * hashing a file only when no other worker is hashing it.
 */
async function sharedDigests(
  link: ClusterLink,
  stateDir: string | undefined,
  options: DigestOptions,
): Promise<{ digests: DigestCache; close: () => Promise<void> }> {
  const cache = new DigestCache({
    ...options,
    onDigest: (version, known) => link.shareDigest(version, known),
    turns: {
      take: async (version) => {
        const { digests } = await link.take(hashTurn(version), true);
        return digests?.blocks ? { sha256: digests.sha256, blocks: digests.blocks } : undefined;
      },
      give: (version, digests) => link.give(hashTurn(version), digests),
    },
  });
  if (stateDir !== undefined) cache.preload(await DigestLog.read(stateDir, logBoundsOf(options.blockSize)));
  link.onDigest((version, known) => cache.preload([[version, known]]));
  return { digests: cache, close: () => Promise.resolve() };
}

/** Upload names taken across workers: one upload of a name at a time, whichever worker runs it. */
function clusterNames(link: ClusterLink): NameTurns {
  return {
    take: async (name) => (await link.take(uploadTurn(name), false)).granted,
    give: (name) => link.give(uploadTurn(name)),
  };
}

interface ServiceContext {
  root: string;
  pool: BufferPool;
  budget: StreamBudget;
  files: DescriptorBudget;
  digests: DigestCache;
  fsThread: FsThread;
  callLog: CallLog;
  metrics: ServerMetrics | undefined;
  limiter: RateLimiter | undefined;
  /** Set when the server accepts uploads. */
  uploads: UploadContext | undefined;
}

/** Lets a client send up to the upload windows ahead, once the session is set up. */
function widenReceiveWindow(session: ServerHttp2Session): void {
  const widen = () => {
    if (session.destroyed) return;
    session.setLocalWindowSize(UPLOAD_CONNECTION_WINDOW);
    session.settings({ initialWindowSize: UPLOAD_STREAM_WINDOW });
  };
  if (session.socket?.connecting === false) widen();
  else session.once('connect', widen);
}

const uploadsOff = () => new StatusError(grpc.status.PERMISSION_DENIED, 'this server does not accept uploads: it was started without --allow-upload');

function handlers({ root, pool, budget, files, digests, fsThread, callLog, metrics, limiter, uploads }: ServiceContext): FileServiceHandlers {
  /**
   * Runs a server-streaming call: aborts `work` when the client cancels or
   * the call's deadline passes, then ends the call or sends its error.
   */
  const serveStream = (call: grpc.ServerWritableStream<unknown, unknown>, work: (signal: AbortSignal) => Promise<void>): Promise<void> => {
    const cancel = new AbortController();
    let settled = false;
    // grpc-js also emits 'cancelled' after a normal end; an abort then
    // would only cost a DOMException per call.
    call.on('cancelled', () => {
      if (!settled) cancel.abort();
    });
    // grpc-js reports a passed deadline only once it can send the status,
    // which a client that stopped reading may never let it do.
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number(deadline);
    const deadlineTimer = Number.isFinite(deadlineMs) ? setTimeout(() => cancel.abort(), Math.max(0, deadlineMs - Date.now())) : undefined;
    deadlineTimer?.unref();
    return work(cancel.signal)
      .finally(() => {
        settled = true;
        clearTimeout(deadlineTimer);
      })
      .then(
        () => {
          call.end();
        },
        (err: unknown) => {
          if (!cancel.signal.aborted) call.emit('error', toStatus(err, callLog.fieldsOf(call.metadata)));
        },
      );
  };

  /**
   * Runs a call with one answer (unary or client-streaming): aborts `work`
   * when the client cancels, then answers with its result or its error.
   */
  const serveUnary = <T>(
    call: { on(event: 'cancelled', listener: () => void): unknown; metadata: grpc.Metadata },
    callback: grpc.sendUnaryData<T>,
    work: (signal: AbortSignal) => Promise<T>,
  ): void => {
    const cancel = new AbortController();
    let settled = false;
    call.on('cancelled', () => {
      if (!settled) cancel.abort();
    });
    void work(cancel.signal)
      .finally(() => (settled = true))
      .then(
        (answer) => callback(null, answer),
        (err: unknown) => {
          if (!cancel.signal.aborted) callback(toStatus(err, callLog.fieldsOf(call.metadata)));
        },
      );
  };

  const underPrefix = (request: ListRequest__Output, signal: AbortSignal, progress: ListProgress) =>
    listFiles(root, fsThread, parsePrefix(request.prefix), signal, progress);

  /** List, ListBatches and ListNames: one walk, one descriptor taken, the files sent counted in the call's log line. */
  const serveListing = <Request, T>(
    call: grpc.ServerWritableStream<Request, T>,
    list: (request: Request, signal: AbortSignal, progress: ListProgress) => AsyncIterable<ListedFile[]>,
    send: (listed: AsyncIterable<ListedFile[]>, write: (message: T, files: number) => Promise<void>) => Promise<void>,
  ): void => {
    const fields = Object.assign(callLog.fieldsOf(call.metadata), { count: 0, folders: 0 });
    void serveStream(call, async (signal) => {
      const listed = list(call.request, signal, fields);
      // A listing holds one folder open at a time.
      const release = files.take();
      try {
        const writer = new BoundedWriter(call, signal, 64);
        await send(listed, async (message, sent) => {
          await writer.write(message);
          fields.count += sent;
        });
      } finally {
        release();
      }
    });
  };

  const batches = chunkBatches(pool.size - CHUNK_HEADER_ROOM);

  /** DownloadMany and DownloadManyBatches: the same stream, its Chunks made messages by `framing`. */
  const serveMany = <T>(call: grpc.ServerWritableStream<DownloadManyRequest__Output, T | WireChunk>, framing: ManyFraming<T>): void => {
    const outcome: ManyOutcome = Object.assign(callLog.fieldsOf(call.metadata), { files: 0, failed: 0, bytesSent: 0 });
    void serveStream(call, async (signal) => {
      metrics?.streamStarted();
      try {
        await streamMany(call, { root, digests, pool, budget, files, fsThread, limiter }, framing, signal, outcome);
      } finally {
        metrics?.streamEnded(outcome.bytesSent);
      }
    });
  };

  return {
    Download(call) {
      const outcome: DownloadOutcome = Object.assign(callLog.fieldsOf(call.metadata), { offset: call.request.offset, bytesSent: 0 });
      void serveStream(call, async (signal) => {
        metrics?.streamStarted();
        try {
          await streamDownload(call, { root, digests, pool, budget, files, limiter }, signal, outcome);
        } finally {
          metrics?.streamEnded(outcome.bytesSent);
        }
      });
    },

    Stat(call, callback) {
      const cancel = new AbortController();
      call.on('cancelled', () => cancel.abort());
      void (async () => {
        const release = files.take();
        let file: ServedFile;
        try {
          file = await openServedFile(root, call.request.name);
        } catch (err) {
          release();
          throw err;
        }
        let digest: Promise<string>;
        try {
          digest = digests.digestOf(file, cancel.signal);
          // Awaited below, once the descriptor is back.
          digest.catch(() => undefined);
        } finally {
          // The digest cache holds a descriptor of its own for a hash that
          // waits its turn: this one goes back at once.
          await file.handle.close().finally(release);
        }
        return fileInfoOf(file, await digest);
      })().then(
        (info) => callback(null, info),
        (err: unknown) => callback(toStatus(err, callLog.fieldsOf(call.metadata))),
      );
    },

    DownloadMany(call) {
      serveMany(call, CHUNK_A_MESSAGE);
    },

    DownloadManyBatches(call) {
      serveMany(call, batches);
    },

    Blocks(call) {
      const outcome: BlocksOutcome = Object.assign(callLog.fieldsOf(call.metadata), { blocks: 0, hashed: false });
      void serveStream(call, (signal) => streamBlocks(call, { root, digests, files }, signal, outcome));
    },

    List(call) {
      serveListing(call, underPrefix, async (listed, write) => {
        for await (const run of listed) for (const file of run) await write(listedInfoOf(file), 1);
      });
    },

    Upload(call, callback) {
      const outcome: UploadOutcome = Object.assign(callLog.fieldsOf(call.metadata), { bytesReceived: 0 });
      serveUnary(call, callback, async (signal) => {
        if (!uploads) throw uploadsOff();
        return receiveUpload(call, uploads, signal, outcome);
      });
    },

    QueryUpload(call, callback) {
      serveUnary(call, callback, async (signal) => {
        if (!uploads) throw uploadsOff();
        return queryUpload(call.request, uploads, signal);
      });
    },

    ListBatches(call) {
      serveListing(call as grpc.ServerWritableStream<ListRequest__Output, FileInfoBatch | WireChunk>, underPrefix, sendBatches);
    },

    ListNames(call) {
      serveListing(
        call as grpc.ServerWritableStream<ListNamesRequest__Output, FileInfoBatch | WireChunk>,
        (request, signal, progress) => namedFiles(root, fsThread, request.names, signal, progress),
        sendBatches,
      );
    },
  };
}

/** A ListBatches message: few enough messages that grpc-js's cost per message stops mattering, small enough to stream. */
const LISTING_BATCH = { maxFiles: 1000, maxBytes: 256 * 1024 };
/** A FileInfo's bytes besides its name and version, at most: tags, lengths, size and mtime as varints. */
const FILE_INFO_OVERHEAD = 40;

/** ListBatches' and ListNames' messages. */
async function sendBatches(listed: AsyncIterable<ListedFile[]>, write: (message: FileInfoBatch | WireChunk, files: number) => Promise<void>): Promise<void> {
  for await (const batch of listingBatches(listed, LISTING_BATCH)) {
    const fields = batch.map(({ name, stat }) => ({ name, size: stat.size, version: stat.version, mtimeMs: stat.mtimeNs / 1_000_000n }));
    await write(encodeFileInfoBatch(fields) ?? { files: batch.map(listedInfoOf) }, batch.length);
  }
}

function listedInfoOf(file: ListedFile): FileInfo {
  return fileInfoOf({ name: file.name, stat: file.stat, version: file.stat.version }, '');
}

/**
 * Groups a listing's files into messages of at most `maxFiles` files and
 * about `maxBytes` (the names and versions, which are most of a FileInfo's
 * bytes; one file always fits), in the listing's order.
 */
async function* listingBatches(listed: AsyncIterable<ListedFile[]>, limits: { maxFiles: number; maxBytes: number }): AsyncGenerator<ListedFile[]> {
  let batch: ListedFile[] = [];
  let bytes = 0;
  for await (const run of listed)
    for (const file of run) {
      const size = Buffer.byteLength(file.name) + Buffer.byteLength(file.stat.version) + FILE_INFO_OVERHEAD;
      if (batch.length > 0 && (batch.length >= limits.maxFiles || bytes + size > limits.maxBytes)) {
        yield batch;
        batch = [];
        bytes = 0;
      }
      batch.push(file);
      bytes += size;
    }
  if (batch.length > 0) yield batch;
}

/**
 * The one place where failures become gRPC statuses. Anything that is not a
 * StatusError is a bug or an I/O failure: the client sees INTERNAL without
 * server paths or stack traces; the call's log line keeps the detail.
 */
function toStatus(err: unknown, logFields: Record<string, unknown>): { code: grpc.status; details: string; message: string } {
  const code = grpcCodeOf(err);
  if (code !== undefined && err instanceof Error) return { code, details: err.message, message: err.message };
  logFields.error = err instanceof Error ? err.message : String(err);
  return { code: grpc.status.INTERNAL, details: 'internal server error', message: 'internal server error' };
}
