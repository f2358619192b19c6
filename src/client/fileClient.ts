import * as grpc from '@grpc/grpc-js';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { FileInfo__Output } from '../generated/filetransfer/v1/FileInfo.js';
import type { FileInfoBatch__Output } from '../generated/filetransfer/v1/FileInfoBatch.js';
import type { FileServiceClient } from '../generated/filetransfer/v1/FileService.js';
import { parsePrefix } from '../shared/names.js';
import { checkConcurrency, runBatch, type BatchOptions, type BatchResult } from './batch.js';
import { connect, plaintextTokenWarning } from './connection/connect.js';
import { methodIsMissing } from './connection/missingMethod.js';
import { startNamedBatch, type NamedBatch } from './mirror/namedFiles.js';
import { ReplicaSet } from './connection/replicas.js';
import { createFolder } from './createFolder.js';
import { locally, ServerUnreachableError } from './errors.js';
import { DEFAULT_CONCURRENCY, queuePriority, type BatchItem } from './schedule.js';
import { RateLimiter } from '../shared/rateLimiter.js';
import { DEFAULT_RETRY_FOR_MS, DEFAULT_STALL_TIMEOUT_MS } from './retryPolicy.js';
import { listedFileOf, remoteFileOf, type ListedFile, type RemoteFile } from './remoteFile.js';
import { journalOf, tempOf } from './taskMap/taskJournal.js';
import { TaskStore, taskMapFileOf } from './taskMap/taskStore.js';
import type { TaskRecord } from './taskMap/taskRecord.js';
import { downloadFile } from './download/downloadFile.js';
import type { DownloadContext, DownloadOptions, DownloadResult } from './download/downloadOptions.js';
import { FolderSyncer } from './download/folderSync.js';
import { FOLDER_LOCK_NAME, FolderLease } from './folderLease.js';
import { isInMemory } from './fileSystemKind.js';
import { statRemote } from './download/statRemote.js';
import { mirrorTree, type MirrorOptions, type MirrorResult } from './mirror/mirror.js';
import { beginListing } from './mirror/earlyListing.js';
import { folderPrefixOf } from './mirror/mirrorPlan.js';
import { abortedError } from './download/retryLoop.js';
import { watchCall } from './download/callWatch.js';
import type { VerifyResult } from './download/verifyLocal.js';
import { verifyStore } from './taskMap/localTasks.js';
import { recordedFiles, verifyWithServer, type ServerVerifyResult } from './blocks/serverVerify.js';
import { toClientError } from './errors.js';
import { uploadFile, type UploadContext, type UploadOptions, type UploadResult } from './upload/uploadFile.js';
import { uploadMapFileOf } from './upload/uploadMap.js';

export interface FileClientOptions {
  /** host:port of a grpc-server. */
  server: string;
  /** Folder that downloads go into; created if missing. */
  out: string;
  /** The task map file; `<out>/.grpc-client-tasks.json` by default. */
  db?: string;
  /** TLS or mTLS, from grpc.credentials.createSsl; plaintext when absent. */
  credentials?: grpc.ChannelCredentials;
  /** Bearer token for servers started with --token-file. */
  token?: string;
  /** Default pace for downloads, in bytes per second. */
  limitRate?: number;
  /** Keep retrying an interrupted download this long without progress. */
  retryForMs?: number;
  /** Treat a stream that delivers nothing for this long as dropped. */
  stallTimeoutMs?: number;
  /**
   * Ask the server (one Stat) whether a file recorded complete changed
   * since, and fetch it again if so; true by default. False skips complete
   * files without a call, for use offline.
   */
  checkRemote?: boolean;
  /**
   * Retry a server not reached yet in this run (refused, name not
   * resolved) within retryForMs too, e.g. one that is still starting. By
   * default such a failure ends the download at once.
   */
  retryConnRefused?: boolean;
  /**
   * Fetch each file larger than a block as this many ranges at once, each
   * on a connection of its own and, when `server` lists several replicas,
   * from several of them, every block checked as it arrives; 1 (the
   * default) fetches a file as one stream. Clamped to the file's blocks.
   */
  segments?: number;
  /**
   * More grpc-js channel options, e.g. keepalive settings, or
   * `'grpc.use_local_subchannel_pool': 1` for a connection of its own
   * (grpc-js otherwise shares one between clients of the same server).
   */
  channelOptions?: grpc.ChannelOptions;
  /**
   * Told about each record of the task map that is invalid and left out
   * (its file is then checked by digest instead of trusted).
   */
  onTaskMapProblem?: (message: string) => void;
  /** The upload map file; one per server in the user's state folder by default (see uploadMapFileOf). */
  uploadDb?: string;
}

/** A local file and the name it gets on the server, for uploadMany. */
export interface UploadItem {
  file: string;
  name: string;
  /** With `order: 'priority'`: higher starts first. */
  priority?: number;
}

/** Names one ListNames call may ask for (see the proto). */
const MAX_LIST_NAMES = 10_000;

/** The client as a library: what the CLI does, for programs that embed it. */
export class FileClient {
  private readonly client: FileServiceClient;
  private readonly replicas: ReplicaSet;
  /** Whether the channel uses TLS. */
  readonly secure: boolean;
  private context: Promise<ClientContext> | undefined;
  private uploads: Promise<UploadContext & { store: TaskStore }> | undefined;
  /** Set once the channel has connected: the server exists and speaks gRPC. */
  private reached = false;
  /**
   * Methods the server answered UNIMPLEMENTED for (an older server), whose
   * fallbacks this client asks from then on: List for ListBatches,
   * DownloadMany for DownloadManyBatches.
   */
  private readonly missingMethods = new Set<string>();

  constructor(private readonly options: FileClientOptions) {
    this.secure = options.credentials?._isSecure() ?? false;
    const warning = plaintextTokenWarning(options.server, this.secure, options.token);
    if (warning !== undefined) process.emitWarning(warning, { code: 'GRPC_FILE_PLAINTEXT_TOKEN' });
    checkSegments(options.segments);
    const connectOptions = { credentials: options.credentials, token: options.token, limitRate: options.limitRate, channelOptions: options.channelOptions };
    this.client = connect(options.server, connectOptions);
    this.replicas = new ReplicaSet(options.server, connectOptions, this.client);
    onceReady(this.client.getChannel(), () => (this.reached = true));
  }

  /** Downloads `name` into the output folder, resuming whatever is there. */
  async download(name: string, options: DownloadOptions = {}): Promise<DownloadResult> {
    checkSegments(options.segments);
    const context = await this.open();
    return context.lease.hold(name, (signal) => downloadFile(context, name, { ...options, signal }), {
      signal: options.signal,
      onWait: (holderPid) => options.onWait?.({ name, holderPid }),
    });
  }

  /**
   * Downloads many files, at most `concurrency` at once in the order asked
   * for, yielding each outcome as it settles; a failure does not stop the
   * others.
   */
  async *downloadMany(items: (string | BatchItem)[], options: BatchOptions = {}): AsyncGenerator<BatchResult> {
    // Before the listing, which would otherwise start fetching for a batch that then refuses to run.
    checkConcurrency(options.concurrency ?? DEFAULT_CONCURRENCY);
    // Stops the streams when the caller stops iterating early, as runBatch
    // stops the downloads of single names.
    const stop = new AbortController();
    const batch = await this.namedBatch(items, options, stop.signal);
    let ran = false;
    try {
      yield* runBatch(items, (name, downloadOptions) => batch?.take(name, downloadOptions) ?? this.download(name, downloadOptions), options);
      ran = true;
      // After an abort the queue is dropped, but what the streams had
      // verified was committed all the same: said, not left as never begun.
      for (const result of (await batch?.untaken()) ?? []) yield { name: result.name, ok: true, result };
    } finally {
      if (!ran) stop.abort();
      // A record that cannot be written is told by close(), which writes again.
      await batch?.done.catch(() => undefined);
    }
  }

  /**
   * For many names: one ListNames call decides which are unchanged (no
   * call at all) and which are small and new (fetched many per call, see
   * startNamedBatch), instead of a Stat, a lock and a call per name. Not
   * for a rate or segments of the batch's own, which the streams do not
   * take. Undefined: every name is downloaded alone.
   */
  private async namedBatch(items: (string | BatchItem)[], options: BatchOptions, stop: AbortSignal): Promise<NamedBatch | undefined> {
    // Aborted already: the batch fails every item without touching the disk.
    if (items.length < 2 || options.limitRate !== undefined || options.segments !== undefined || options.signal?.aborted) return undefined;
    const normalized = items.map((item) => (typeof item === 'string' ? { name: item } : item));
    // In the order the batch will take them, so the streams bring them so.
    const order = options.order ?? 'fifo';
    const names = normalized
      .map((item, index) => ({ name: item.name, rank: queuePriority(order, item, index) }))
      .sort((a, b) => b.rank - a.rank)
      .map((item) => item.name);
    const context = await this.open().catch(() => undefined);
    if (!context) return undefined;
    const hooks = { listNames: this.listNames.bind(this), single: this.download.bind(this) };
    return new Promise((resolve) => {
      const held: Promise<void> = context.lease.hold(
        names[0]!,
        async (signal) => {
          const batch = await startNamedBatch(context, names, hooks, AbortSignal.any([signal, stop]), options.onRetry);
          // Its `done` is the hold's: the folder is let go once the streams ended.
          resolve(batch && { ...batch, done: held });
          await batch?.done;
        },
        { signal: options.signal, onWait: (holderPid) => options.onWait?.({ name: names[0]!, holderPid }) },
      );
      void held.catch(() => undefined).finally(() => resolve(undefined));
    });
  }

  /**
   * Hands each of `names` that the server lists to `take`, ListNames calls
   * of up to 10,000 names; resolves false for a server without ListNames
   * (then this client does not ask it again).
   */
  private async listNames(names: readonly string[], signal: AbortSignal, take: (file: ListedFile) => void): Promise<boolean> {
    for (let at = 0; at < names.length && !this.missingMethods.has('ListNames'); at += MAX_LIST_NAMES) {
      let listed = false;
      try {
        await this.listCall(this.client.listNames({ names: names.slice(at, at + MAX_LIST_NAMES) }), signal, (batch: FileInfoBatch__Output) => {
          listed = true;
          for (const info of batch.files) take(listedFileOf(info));
        });
      } catch (err) {
        if (!methodIsMissing(err, listed, signal.aborted)) throw err;
        this.missingMethods.add('ListNames');
      }
    }
    return !this.missingMethods.has('ListNames');
  }

  /**
   * Uploads the local `file` as `name`: resumes what the server staged of
   * it, skips it when the upload map says it was published unchanged, and
   * resolves once the server has verified and published it.
   */
  async upload(file: string, name: string, options: UploadOptions = {}): Promise<UploadResult> {
    return uploadFile(await this.openUploads(), file, name, options);
  }

  /** Uploads many files, at most `concurrency` at once, yielding each outcome as it settles; names must differ. */
  uploadMany(items: UploadItem[], options: BatchOptions<UploadOptions> = {}): AsyncGenerator<BatchResult<UploadResult>> {
    const files = new Map(items.map((item) => [item.name, item.file]));
    if (files.size !== items.length) throw new RangeError('uploadMany: two items have the same name');
    return runBatch(
      items.map(({ name, priority }) => ({ name, priority })),
      (name, uploadOptions: UploadOptions) => this.upload(files.get(name)!, name, uploadOptions),
      options,
    );
  }

  /** The upload map's records, by name. */
  async uploadTasks(): Promise<TaskRecord[]> {
    const { store } = await this.openUploads();
    await store.reload();
    return store.all();
  }

  stat(name: string, signal?: AbortSignal): Promise<RemoteFile> {
    return statRemote(this.client, name, signal, { secure: this.secure });
  }

  /**
   * Mirrors the server folder `folder` (`data` or `data/`; `.` for the
   * whole root) into the output folder, keeping the server's names: fetches
   * what is new or changed since the last mirror, and with `delete` removes
   * what this client fetched before and the server no longer has. Throws
   * when the folder is empty, missing or a file; a file that fails is in
   * the result and does not stop the others.
   */
  async mirror(folder: string, options: MirrorOptions & { onWait?: (holderPid: number | undefined) => void } = {}): Promise<MirrorResult> {
    // Asked for before the task map is read, which takes as long as the
    // server's walk of a large tree: measured at 100,000 files, 0.5 s each,
    // one after the other until then. A listing made before a wait for
    // another process's lock would be stale: listed again after one.
    const early = beginListing<FileInfo__Output>((take, signal) => this.listing(folderPrefixOf(folder), signal, take));
    let waited = false;
    try {
      const context = await this.open();
      const { store } = context;
      return await context.lease.hold(
        folder,
        (signal) =>
          mirrorTree(
            {
              ...context,
              list: (prefix, take, listSignal) => {
                const checked = (info: FileInfo__Output) => take(listedFileOf(info));
                return waited ? this.listing(prefix, listSignal, checked) : early.drain(checked, listSignal);
              },
              stat: (name, statSignal) => this.stat(name, statSignal),
              forget: (name) => store.forget(name),
              names: () => store.names(),
            },
            folder,
            { ...options, signal },
          ),
        {
          signal: options.signal,
          onWait: (holderPid) => {
            waited = true;
            early.cancel();
            options.onWait?.(holderPid);
          },
        },
      );
    } finally {
      early.cancel();
    }
  }

  /** Files on the server whose names start with `prefix`; sha256 is left empty. */
  async list(prefix = '', signal?: AbortSignal): Promise<RemoteFile[]> {
    const files: RemoteFile[] = [];
    await this.listing(prefix, signal, (info) => files.push(remoteFileOf(info)));
    return files;
  }

  /**
   * Hands each listed file to `take`, in the server's order: ListBatches,
   * or List for a server without it. Throws a ClientError.
   */
  private async listing(prefix: string, signal: AbortSignal | undefined, take: (info: FileInfo__Output) => void): Promise<void> {
    parsePrefix(prefix);
    try {
      if (!this.missingMethods.has('ListBatches')) {
        let listed = false;
        try {
          await this.listCall(this.client.listBatches({ prefix }), signal, (batch: FileInfoBatch__Output) => {
            listed = true;
            for (const info of batch.files) take(info);
          });
          return;
        } catch (err) {
          // A server older than ListBatches; nothing was listed, so List
          // starts afresh, and this client asks it directly from now on.
          if (!methodIsMissing(err, listed, signal?.aborted ?? false)) throw err;
          this.missingMethods.add('ListBatches');
        }
      }
      await this.listCall(this.client.list({ prefix }), signal, take);
    } catch (err) {
      if (signal?.aborted) throw abortedError(prefix, signal, err);
      const error = toClientError(err, { secure: this.secure });
      throw error.kind === 'remote-status' && error.code === grpc.status.UNAVAILABLE && !this.serverReached() ? new ServerUnreachableError(error) : error;
    }
  }

  /**
   * Reads a listing call to its end, cancelling it when `signal` aborts or
   * when no message came for the stall timeout: a server that accepts but
   * never answers must not hold a mirror, or the folder, for ever.
   */
  private async listCall<T>(call: grpc.ClientReadableStream<T>, signal: AbortSignal | undefined, take: (message: T) => void): Promise<void> {
    const watch = watchCall(call, this.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS, signal);
    try {
      for await (const message of call as AsyncIterable<T>) {
        watch.busy();
        take(message);
        watch.waiting();
      }
    } catch (err) {
      // Also when a check of a message threw: the rest of the listing is not wanted.
      throw watch.explain(err, this.secure);
    } finally {
      watch.stop();
    }
  }

  /**
   * Re-hashes downloaded files against the task map without asking the
   * server: `names`, or every file recorded complete. A damaged file's record
   * is marked incomplete, so the next download checks it against the server
   * and fetches it again.
   */
  async verify(names?: string[]): Promise<VerifyResult[]> {
    const { out, store } = await this.open();
    await store.reload();
    return verifyStore(out, store, names);
  }

  /**
   * Compares downloaded files with the server's: `names`, or every file
   * recorded complete or found damaged by a verify before, one at a time, block by block against the server's
   * Blocks list (whole, by SHA-256, with a server that has no Blocks).
   * Each result says which byte ranges differ. With `repair`, a file that
   * differs fetches only the blocks that do, into a copy that replaces the
   * published file only once its SHA-256 is the server's (a missing file,
   * or one on a server without Blocks, is downloaded again as `download`
   * would); the output folder is held meanwhile, as downloads hold it.
   */
  async verifyWithServer(
    names?: string[],
    options: { repair?: boolean; signal?: AbortSignal; onResult?: (result: ServerVerifyResult) => void; onWait?: (holderPid: number | undefined) => void } = {},
  ): Promise<ServerVerifyResult[]> {
    const context = await this.open();
    const { store } = context;
    await store.reload();
    const wanted = names ?? (await recordedFiles(context.out, store.all()));
    const repair = options.repair ?? false;
    const results: ServerVerifyResult[] = [];
    for (const name of wanted) {
      const one = (signal: AbortSignal | undefined) => verifyWithServer(context, name, { repair, signal });
      const result = repair ? await context.lease.hold(name, one, { signal: options.signal, onWait: options.onWait }) : await one(options.signal);
      options.onResult?.(result);
      results.push(result);
    }
    await store.flushed();
    return results;
  }

  /** The task map's records, by name. */
  async tasks(): Promise<TaskRecord[]> {
    return (await this.open()).store.all();
  }

  /** Writes what the task map still holds in memory, then closes the channel. */
  async close(): Promise<void> {
    try {
      // A map that could not be opened holds nothing of ours to save; the
      // call that tried to open it has already failed with the reason.
      const context = await this.context?.catch(() => undefined);
      if (context) await context.store.flushed();
      const uploads = await this.uploads?.catch(() => undefined);
      if (uploads) await uploads.store.flushed();
    } finally {
      this.replicas.close();
      this.client.close();
    }
  }

  private serverReached(): boolean {
    return this.reached || Boolean(this.options.retryConnRefused);
  }

  private openUploads(): Promise<UploadContext & { store: TaskStore }> {
    this.uploads ??= (async () => ({
      client: this.client,
      secure: this.secure,
      store: await TaskStore.open(uploadMapFileOf(this.options.server, this.options.uploadDb), { onProblem: this.options.onTaskMapProblem }),
      limiter: this.options.limitRate ? new RateLimiter(this.options.limitRate) : undefined,
      retryForMs: this.options.retryForMs ?? DEFAULT_RETRY_FOR_MS,
      stallTimeoutMs: this.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      serverReached: () => this.serverReached(),
    }))();
    return this.uploads;
  }

  private open(): Promise<ClientContext> {
    this.context ??= (async () => {
      await locally('create folder', this.options.out, () => createFolder(this.options.out, { recursive: true }));
      const out = await realpath(this.options.out);
      const dbFile = taskMapFileOf(out, this.options.db);
      return {
        client: this.client,
        secure: this.secure,
        store: await TaskStore.open(dbFile, { onProblem: this.options.onTaskMapProblem }),
        out,
        lease: new FolderLease(out),
        // The map, its lock, its journal and its temporary file beside it; the folder's lock.
        reserved: [dbFile, `${dbFile}.lock`, journalOf(dbFile), tempOf(dbFile), path.join(out, FOLDER_LOCK_NAME), path.join(out, `${FOLDER_LOCK_NAME}.pid`)],
        checkedFolders: new Set<string>(),
        folderSyncer: new FolderSyncer(),
        inMemory: await isInMemory(out),
        limiter: this.options.limitRate ? new RateLimiter(this.options.limitRate) : undefined,
        retryForMs: this.options.retryForMs ?? DEFAULT_RETRY_FOR_MS,
        stallTimeoutMs: this.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
        checkRemote: this.options.checkRemote ?? true,
        serverReached: () => this.serverReached(),
        replicas: this.replicas,
        segments: this.options.segments ?? 1,
        missingMethods: this.missingMethods,
      };
    })();
    return this.context;
  }
}

function checkSegments(segments: number | undefined): void {
  if (segments !== undefined && !(Number.isInteger(segments) && segments >= 1)) throw new RangeError(`segments must be a whole number ≥ 1, not ${segments}`);
}

type ClientContext = DownloadContext & { store: TaskStore; lease: FolderLease };

/**
 * Calls `ready` when the channel first becomes READY, which grpc-js reports
 * only once the server's HTTP/2 settings arrived: a TCP port that accepts
 * but speaks no gRPC (or TLS to a plaintext client) never gets there. Holds
 * no timer, and ends when the channel is closed.
 */
function onceReady(channel: ReturnType<grpc.Client['getChannel']>, ready: () => void): void {
  const watch = (state: grpc.connectivityState) => {
    if (state === grpc.connectivityState.READY) ready();
    else if (state !== grpc.connectivityState.SHUTDOWN) channel.watchConnectivityState(state, Infinity, () => watch(channel.getConnectivityState(false)));
  };
  watch(channel.getConnectivityState(false));
}
