import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import type { DownloadManyRequest__Output } from '../generated/filetransfer/v1/DownloadManyRequest.js';
import type { FileError } from '../generated/filetransfer/v1/FileError.js';
import { CHUNK_HEADER_ROOM, type WireChunk } from '../shared/chunkCodec.js';
import { parsePrefix } from '../shared/names.js';
import { grpcCodeOf, StatusError } from '../shared/statusError.js';
import { BoundedWriter } from './boundedWriter.js';
import { assertUnchanged } from './digestCache.js';
import type { DownloadContext } from './download.js';
import { fileInfoOf } from './fileInfo.js';
import { listFiles } from './listFiles.js';
import type { ManyFraming } from './manyFraming.js';
import { readRange } from './readRange.js';
import type { ReadSmallFile, FsThread } from './fsThread.js';
import { openServedFile, type ServedFile } from './servedFile.js';

/** Names one call may ask for (see the proto). */
const MAX_NAMES = 10_000;
/** Names handed to the file-system thread at once, and batches it may hold. */
const BATCH_FILES = 32;
const BATCHES_AHEAD = 2;
/** Bytes of messages one batch may hold: with BATCHES_AHEAD, what a call keeps read ahead. */
const BATCH_BYTES = 1024 * 1024;

export interface ManyContext extends DownloadContext {
  fsThread: FsThread;
}

export interface ManyOutcome {
  /** Files sent whole, with their digest. */
  files: number;
  /** Files answered with an error frame instead. */
  failed: number;
  bytesSent: number;
  /** Detail of an unexpected failure of one file, which its client sees as INTERNAL. */
  error?: string;
}

/**
 * Streams whole files, one after the other in the order asked, framed as
 * the proto's DownloadMany says, its Chunks made messages by `framing`.
 * Files up to a chunk are read, hashed and encoded in batches on the
 * file-system thread while earlier ones are written; larger ones are
 * streamed in chunks from the main thread when their turn comes. A file
 * that cannot be sent whole and unchanged gets an error frame and the call
 * goes on; only a bad request, a cancel or a server out of descriptors
 * ends it.
 */
export async function streamMany<T>(
  call: ServerWritableStream<DownloadManyRequest__Output, T | WireChunk>,
  context: ManyContext,
  framing: ManyFraming<T>,
  signal: AbortSignal,
  outcome: ManyOutcome,
): Promise<void> {
  const { names, prefix } = call.request;
  if (names.length > MAX_NAMES) {
    throw new StatusError(status.INVALID_ARGUMENT, `${names.length} names asked for; at most ${MAX_NAMES} per call`);
  }
  const source = names.length > 0 ? names : listedNames(context, parsePrefix(prefix), signal);
  const leave = context.budget.join();
  const writer = new BoundedWriter(call, signal, () => context.budget.share());
  const ahead = new ReadAhead(source, context, signal);
  try {
    for (let batch = await ahead.next(); batch !== undefined; batch = await ahead.next()) {
      let whole: ReadSmallFile[] = [];
      for (const file of batch) {
        if (file.kind !== 'large') {
          whole.push(file);
          continue;
        }
        await sendWhole(whole, framing, writer, context, signal, outcome);
        whole = [];
        await streamLarge(file.name, framing, writer, context, signal, outcome);
      }
      await sendWhole(whole, framing, writer, context, signal, outcome);
    }
  } finally {
    leave();
    await ahead.close();
  }
}

/** What List would return for `prefix`, holding one folder's descriptor while it walks. */
async function* listedNames(context: ManyContext, prefix: string, signal: AbortSignal): AsyncGenerator<string> {
  const release = context.files.take();
  try {
    for await (const run of listFiles(context.root, context.fsThread, prefix, signal)) for (const file of run) yield file.name;
  } finally {
    release();
  }
}

/**
 * Batches of files read ahead, handed out strictly in order. A batch in
 * the reader counts as one descriptor against the server's budget (the
 * reader holds one file open at a time); when the budget is spent, only a
 * call with nothing read ahead fails.
 */
class ReadAhead {
  private readonly queue: Promise<ReadSmallFile[]>[] = [];
  private readonly names: Iterator<string> | AsyncIterator<string>;
  private exhausted = false;

  constructor(
    source: string[] | AsyncIterable<string>,
    private readonly context: ManyContext,
    private readonly signal: AbortSignal,
  ) {
    this.names = Array.isArray(source) ? source[Symbol.iterator]() : source[Symbol.asyncIterator]();
  }

  /** The next batch, never empty, or undefined after the last. */
  async next(): Promise<ReadSmallFile[] | undefined> {
    await this.fill();
    return this.queue.shift();
  }

  private async fill(): Promise<void> {
    while (!this.exhausted && this.queue.length < BATCHES_AHEAD) {
      this.signal.throwIfAborted();
      let release: () => void;
      try {
        release = this.context.files.take();
      } catch (err) {
        if (this.queue.length === 0) throw err;
        return;
      }
      const names: string[] = [];
      while (names.length < BATCH_FILES) {
        const step = await this.names.next();
        if (step.done) {
          this.exhausted = true;
          break;
        }
        names.push(step.value);
      }
      if (names.length === 0) {
        release();
        return;
      }
      this.queue.push(this.read(names).finally(release));
    }
  }

  /** A batch, and again what the reader left unread once its bytes ran out, until all are read. */
  private async read(names: string[]): Promise<ReadSmallFile[]> {
    const chunkSize = this.context.pool.size - CHUNK_HEADER_ROOM;
    const files: ReadSmallFile[] = [];
    while (files.length < names.length) {
      files.push(...(await this.context.fsThread.read(this.context.root, names.slice(files.length), chunkSize, BATCH_BYTES)));
    }
    return files;
  }

  async close(): Promise<void> {
    this.queue.splice(0).forEach((batch) => batch.catch(() => undefined));
    if (!this.exhausted) await this.names.return?.();
  }
}

/** Small files read whole, each with its message or error frame, grouped by `framing`. */
async function sendWhole<T>(
  files: ReadSmallFile[],
  framing: ManyFraming<T>,
  writer: BoundedWriter<T | WireChunk>,
  context: ManyContext,
  signal: AbortSignal,
  outcome: ManyOutcome,
): Promise<void> {
  for (const { files: carried, message } of framing.whole(files)) {
    await context.limiter?.take(
      carried.reduce((bytes, file) => bytes + (file.kind === 'sent' ? file.size : 0), 0),
      signal,
    );
    await writer.write(message);
    for (const file of carried) {
      if (file.kind === 'sent') {
        context.digests.remember(file.version, file.sha256);
        outcome.bytesSent += file.size;
        outcome.files += 1;
      } else if (file.kind === 'failed') {
        if (file.detail !== undefined) outcome.error = file.detail;
        outcome.failed += 1;
      }
    }
  }
}

/**
 * A file larger than a chunk: its info, its data in chunks straight from
 * the pool, then its digest; its block digests are computed on the way.
 */
async function streamLarge<T>(
  name: string,
  framing: ManyFraming<T>,
  writer: BoundedWriter<T | WireChunk>,
  context: ManyContext,
  signal: AbortSignal,
  outcome: ManyOutcome,
): Promise<void> {
  const release = context.files.take();
  let file: ServedFile | undefined;
  try {
    file = await openServedFile(context.root, name);
    await writer.write(framing.alone({ offset: '0', info: fileInfoOf(file, '') }));
    const { pool } = context;
    const size = file.stat.size;
    const hash = createHash('sha256');
    const blocks = context.digests.blockHasherFor(file);
    for await (const { position, data, frame } of readRange(file.handle, {
      start: 0n,
      end: size,
      pool,
      readAhead: () => context.budget.readAhead(),
      headroom: CHUNK_HEADER_ROOM,
    })) {
      hash.update(data);
      blocks?.update(data);
      await context.limiter?.take(data.length, signal);
      await writer.write(framing.sealed(frame, Number(position), data.length), () => pool.give(frame));
      outcome.bytesSent += data.length;
    }
    await assertUnchanged(file);
    const sha256 = hash.digest('hex');
    context.digests.remember(file.version, sha256, blocks?.digest());
    await writer.write(framing.alone({ offset: size.toString(), sha256 }));
    outcome.files += 1;
  } catch (err) {
    if (signal.aborted) throw err;
    await writer.write(framing.alone({ info: { name }, error: fileErrorOf(err, outcome) }));
    outcome.failed += 1;
  } finally {
    await file?.handle.close().catch(() => undefined);
    release();
  }
}

/**
 * A failure without a status of its own is a bug or an I/O error: like a
 * call's, it shows as INTERNAL without detail, which goes to the call's
 * log line instead.
 */
function fileErrorOf(err: unknown, outcome: ManyOutcome): FileError {
  const code = grpcCodeOf(err);
  if (code !== undefined && err instanceof Error) return { code, message: err.message };
  outcome.error = err instanceof Error ? err.message : String(err);
  return { code: status.INTERNAL, message: 'internal server error' };
}
