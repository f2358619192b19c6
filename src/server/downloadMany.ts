import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import type { Chunk } from '../generated/filetransfer/v1/Chunk.js';
import type { DownloadManyRequest__Output } from '../generated/filetransfer/v1/DownloadManyRequest.js';
import type { FileError } from '../generated/filetransfer/v1/FileError.js';
import { CHUNK_HEADER_ROOM, sealChunk, type WireChunk } from '../shared/chunkCodec.js';
import { parsePrefix } from '../shared/names.js';
import { grpcCodeOf, StatusError } from '../shared/statusError.js';
import { BoundedWriter } from './boundedWriter.js';
import { assertUnchanged } from './digestCache.js';
import type { DownloadContext } from './download.js';
import { fileInfoOf } from './fileInfo.js';
import { listFiles } from './listFiles.js';
import { changedWhileReading, readRange } from './readRange.js';
import { openServedFile, type ServedFile } from './servedFile.js';

/** Names one call may ask for (see the proto). */
export const MAX_NAMES = 10_000;
/** Files being opened and read ahead of the one being sent. */
const FILES_AHEAD = 16;
/**
 * File bytes held by those read ahead; a file whose size is not known yet
 * counts as a whole chunk, the most a file read ahead can hold.
 */
const BYTES_AHEAD = 4 * 1024 * 1024;
// As in download.ts, for the files larger than a chunk.
const READ_AHEAD = 3;

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
 * A file made ready ahead of its turn: a small one read whole, hashed and
 * closed; a larger one open, to be streamed in chunks when its turn comes;
 * or why it cannot be sent.
 */
type Prepared =
  | { kind: 'whole'; file: Omit<ServedFile, 'handle'>; data: Buffer; sha256: string }
  | { kind: 'open'; file: ServedFile; release: () => void }
  | { kind: 'failed'; name: string; error: unknown };

/**
 * Streams whole files, one after the other in the order asked, framed as
 * the proto's DownloadMany says. Up to FILES_AHEAD files are opened, read
 * and hashed while earlier ones are written, so a tree of small files
 * costs the disk's and the socket's time, not a round of system calls per
 * file in turn. A file that cannot be sent whole and unchanged gets an
 * error frame and the call goes on; only a bad request, a cancel or a
 * server out of descriptors ends it.
 */
export async function streamMany(
  call: ServerWritableStream<DownloadManyRequest__Output, Chunk | WireChunk>,
  context: DownloadContext,
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
    for (let next = await ahead.next(); next !== undefined; next = await ahead.next()) {
      await send(next, writer, context, signal, outcome);
    }
  } finally {
    leave();
    await ahead.close();
  }
}

/** What List would return for `prefix`, holding one folder's descriptor while it walks. */
async function* listedNames(context: DownloadContext, prefix: string, signal: AbortSignal): AsyncGenerator<string> {
  const release = context.files.take();
  try {
    for await (const file of listFiles(context.root, prefix, signal)) yield file.name;
  } finally {
    release();
  }
}

/**
 * The window of files prepared ahead, handed out strictly in order. Each
 * open descriptor counts against the server's DescriptorBudget; when that
 * is spent, the window waits for files already in it, and only a window
 * that cannot hold even one file fails the call.
 */
class ReadAhead {
  private readonly queue: { prepared: Promise<Prepared>; held: number }[] = [];
  private readonly names: Iterator<string> | AsyncIterator<string>;
  private exhausted = false;
  private heldBytes = 0;

  constructor(
    source: string[] | AsyncIterable<string>,
    private readonly context: DownloadContext,
    private readonly signal: AbortSignal,
  ) {
    this.names = Array.isArray(source) ? source[Symbol.iterator]() : source[Symbol.asyncIterator]();
  }

  async next(): Promise<Prepared | undefined> {
    await this.fill();
    const head = this.queue.shift();
    if (!head) return undefined;
    const prepared = await head.prepared;
    this.heldBytes -= head.held;
    return prepared;
  }

  private async fill(): Promise<void> {
    const chunkSize = this.context.pool.size - CHUNK_HEADER_ROOM;
    while (!this.exhausted && this.queue.length < FILES_AHEAD && (this.queue.length === 0 || this.heldBytes + chunkSize <= BYTES_AHEAD)) {
      this.signal.throwIfAborted();
      let release: () => void;
      try {
        release = this.context.files.take();
      } catch (err) {
        if (this.queue.length === 0) throw err;
        return;
      }
      const step = await this.names.next();
      if (step.done) {
        release();
        this.exhausted = true;
        return;
      }
      const slot = { prepared: undefined as unknown as Promise<Prepared>, held: chunkSize };
      this.heldBytes += chunkSize;
      slot.prepared = prepare(step.value, this.context, chunkSize, release).then((prepared) => {
        // Only a small file's bytes stay in memory until its turn.
        const held = prepared.kind === 'whole' ? prepared.data.length : 0;
        this.heldBytes += held - slot.held;
        slot.held = held;
        return prepared;
      });
      this.queue.push(slot);
    }
  }

  /** Closes what was prepared but will not be sent (a cancel, a failed write). */
  async close(): Promise<void> {
    const left = this.queue.splice(0);
    for (const slot of left) {
      const prepared = await slot.prepared;
      if (prepared.kind === 'open') await closeOpen(prepared);
    }
    if (!this.exhausted) await this.names.return?.();
  }
}

/** Never rejects: a failure is the file's, and is sent in its turn. */
async function prepare(name: string, context: DownloadContext, chunkSize: number, release: () => void): Promise<Prepared> {
  let file: ServedFile;
  try {
    file = await openServedFile(context.root, name);
  } catch (error) {
    release();
    return { kind: 'failed', name, error };
  }
  const size = Number(file.stat.size);
  if (size > chunkSize) return { kind: 'open', file, release };
  try {
    const data = Buffer.allocUnsafe(size);
    for (let filled = 0; filled < size;) {
      const { bytesRead } = await file.handle.read(data, filled, size - filled, filled);
      if (bytesRead === 0) throw changedWhileReading();
      filled += bytesRead;
    }
    await assertUnchanged(file);
    const sha256 = createHash('sha256').update(data).digest('hex');
    context.digests.remember(file.version, sha256);
    return { kind: 'whole', file, data, sha256 };
  } catch (error) {
    return { kind: 'failed', name, error };
  } finally {
    await closeQuietly(file.handle);
    release();
  }
}

async function send(
  prepared: Prepared,
  writer: BoundedWriter<Chunk | WireChunk>,
  context: DownloadContext,
  signal: AbortSignal,
  outcome: ManyOutcome,
): Promise<void> {
  if (prepared.kind === 'failed') {
    await writer.write(errorFrame(prepared.name, prepared.error, outcome));
    outcome.failed += 1;
  } else if (prepared.kind === 'whole') {
    // A small file's first message is also its last.
    await writer.write({ offset: '0', info: fileInfoOf(prepared.file, ''), data: prepared.data, sha256: prepared.sha256 });
    outcome.bytesSent += prepared.data.length;
    outcome.files += 1;
  } else {
    try {
      await streamOpen(prepared.file, writer, context, outcome);
      outcome.files += 1;
    } catch (err) {
      if (signal.aborted) throw err;
      await writer.write(errorFrame(prepared.file.name, err, outcome));
      outcome.failed += 1;
    } finally {
      await closeOpen(prepared);
    }
  }
}

/** A file larger than a chunk: its info, its data in chunks straight from the pool, then its digest. */
async function streamOpen(file: ServedFile, writer: BoundedWriter<Chunk | WireChunk>, context: DownloadContext, outcome: ManyOutcome): Promise<void> {
  await writer.write({ offset: '0', info: fileInfoOf(file, '') });
  const { pool } = context;
  const size = file.stat.size;
  const hash = createHash('sha256');
  for await (const { position, data, frame } of readRange(file.handle, { start: 0n, end: size, pool, readAhead: READ_AHEAD, headroom: CHUNK_HEADER_ROOM })) {
    hash.update(data);
    await writer.write(sealChunk(frame, Number(position), data.length), () => pool.give(frame));
    outcome.bytesSent += data.length;
  }
  await assertUnchanged(file);
  const sha256 = hash.digest('hex');
  context.digests.remember(file.version, sha256);
  await writer.write({ offset: size.toString(), sha256 });
}

/**
 * The frame that drops one file. A failure without a status of its own is
 * a bug or an I/O error: like a call's, it shows as INTERNAL without
 * detail, which goes to the call's log line instead.
 */
function errorFrame(name: string, err: unknown, outcome: ManyOutcome): Chunk {
  return { info: { name }, error: fileErrorOf(err, outcome) };
}

function fileErrorOf(err: unknown, outcome: ManyOutcome): FileError {
  const code = grpcCodeOf(err);
  if (code !== undefined && err instanceof Error) return { code, message: err.message };
  outcome.error = err instanceof Error ? err.message : String(err);
  return { code: status.INTERNAL, message: 'internal server error' };
}

async function closeOpen(prepared: { file: ServedFile; release: () => void }): Promise<void> {
  await closeQuietly(prepared.file.handle);
  prepared.release();
}

async function closeQuietly(handle: ServedFile['handle']): Promise<void> {
  await handle.close().catch(() => undefined);
}
