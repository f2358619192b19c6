// @ts-nocheck
import { status, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import type { FileServiceClient } from '../../generated/filetransfer/v1/FileService.js';
import type { UploadRequest } from '../../generated/filetransfer/v1/UploadRequest.js';
import type { UploadResponse__Output } from '../../generated/filetransfer/v1/UploadResponse.js';
import type { UploadStatus__Output } from '../../generated/filetransfer/v1/UploadStatus.js';
import { CHUNK_HEADER_ROOM, sealChunk, type WireChunk } from '../../shared/chunkCodec.js';
import type { RateLimiter } from '../../shared/rateLimiter.js';
import { ClientError, ConflictError, ProtocolError, RemoteStatusError, toClientError } from '../errors.js';
import type { LocalSource } from './localSource.js';

/**
 * File bytes per message, under gRPC's 4 MiB message limit. Each message
 * costs both sides a fixed share of work (an allocation, a framing copy,
 * a write and its round trip to the thread pool): measured at 256 MiB,
 * 1 MiB messages took about a sixth less CPU than 256 KiB on each side.
 */
const UPLOAD_CHUNK_SIZE = 1024 * 1024;
/** Under --limit-rate: a rate's clock places smaller steps, as a download's chunks do. */
const PACED_CHUNK_SIZE = 256 * 1024;
/** Bytes sent between checks that the local file did not change (one fstat each). */
const CHECK_EVERY = 1024 * 1024;

/** What the upload is: the same in every attempt. */
export interface UploadTarget {
  name: string;
  size: number;
  sha256: string;
  ifSha256Match: string;
  ifVersionMatch: string;
}

export interface AttemptOptions {
  client: FileServiceClient;
  secure: boolean;
  target: UploadTarget;
  source: LocalSource;
  /** Where the server's staged bytes end: this call sends from here. */
  offset: number;
  stallTimeoutMs: number;
  limiter: RateLimiter | undefined;
  signal: AbortSignal | undefined;
  /** Bytes up to `position` have left this process. */
  onSent: (position: number) => void;
}

/**
 * The server's refusals to publish over what a name holds are decisions,
 * not outages: never retried (see ConflictError).
 */
function uploadError(err: unknown, secure: boolean): ClientError {
  const error = toClientError(err, { secure });
  if (error.kind === 'remote-status' && (error.code === status.ALREADY_EXISTS || error.code === status.FAILED_PRECONDITION)) return new ConflictError(error);
  return error;
}

/**
 * QueryUpload: how many bytes of the upload the server holds, or whether
 * the name already holds this content. Bounded by the stall timeout.
 */
export function queryUpload(client: FileServiceClient, target: UploadTarget, stallTimeoutMs: number, signal: AbortSignal | undefined, secure: boolean) {
  return new Promise<{ committed: number; complete: boolean }>((resolve, reject) => {
    const call = client.queryUpload(
      { name: target.name, size: target.size, sha256: target.sha256 },
      { deadline: Date.now() + stallTimeoutMs },
      (err: ServiceError | null, answer?: UploadStatus__Output) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) return reject(uploadError(err, secure));
        const committed = Number(answer!.committedSize);
        if (!Number.isSafeInteger(committed) || committed < 0 || committed > target.size) {
          return reject(new ProtocolError(target.name, `it reported ${answer!.committedSize} bytes staged of ${target.size}`));
        }
        resolve({ committed, complete: answer!.complete });
      },
    );
    const onAbort = () => call.cancel();
    if (signal?.aborted) call.cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One Upload call from `offset` to the end of the file: the begin message,
 * then the file's bytes in sealed chunks as fast as the server's flow
 * control (and `limiter`) let them go, then a half-close, which asks the
 * server to verify and publish. Any failure on our side cancels the call
 * instead: a half-close would tell the server that the bytes so far are
 * all there is. Resolves once the server has published the file.
 */
export async function uploadAttempt(options: AttemptOptions): Promise<UploadResponse__Output> {
  const { client, target, source, offset } = options;
  let answered = false;
  let call!: ClientWritableStream<UploadRequest | WireChunk>;
  const answer = new Promise<UploadResponse__Output>((resolve, reject) => {
    // Sealed chunks pass the serializer as they are (see proto.ts).
    call = client.upload((err: ServiceError | null, response?: UploadResponse__Output) => {
      answered = true;
      if (err) reject(err);
      else resolve(response!);
    }) as unknown as ClientWritableStream<UploadRequest | WireChunk>;
  });
  // Observed at once: a refusal may come while we still send.
  answer.catch(() => undefined);
  const onAbort = () => call.cancel();
  if (options.signal?.aborted) call.cancel();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    call.write({
      begin: {
        name: target.name,
        size: target.size,
        sha256: target.sha256,
        offset,
        ifSha256Match: target.ifSha256Match,
        ifVersionMatch: target.ifVersionMatch,
      },
    });
    let checked = offset;
    const chunkSize = Math.min(options.limiter ? PACED_CHUNK_SIZE : UPLOAD_CHUNK_SIZE, target.size - offset);
    // Frames grpc-js is done with, read into again: a fresh one per message
    // made a major GC every few dozen MiB. grpc-js may hold a message it
    // has not framed yet (a call still connecting, a token interceptor's
    // metadata pending); it calls a write back only once it has copied the
    // message into a framed buffer of its own, which is all that its retry
    // buffer and HTTP/2 keep. A frame whose callback never comes (a call
    // cancelled) is left to the garbage collector.
    const spare: Buffer[] = [];
    for (let position = offset; position < target.size && !answered;) {
      const length = Math.min(chunkSize, target.size - position);
      const frame = spare.pop() ?? Buffer.allocUnsafe(CHUNK_HEADER_ROOM + chunkSize);
      await source.read(frame, CHUNK_HEADER_ROOM, length, position);
      await options.limiter?.take(length, options.signal);
      const written = (err: Error | null | undefined) => {
        if (!err) spare.push(frame);
      };
      if (!call.write(sealChunk(frame, position, length), written)) {
        if (!(await drainedOrAnswered(call, answer, options.stallTimeoutMs)))
          throw new RemoteStatusError(status.UNAVAILABLE, `the server took no data for ${options.stallTimeoutMs / 1000}s`);
      }
      position += length;
      options.onSent(position);
      if (position - checked >= CHECK_EVERY) {
        checked = position;
        await source.assertUnchanged();
      }
    }
    if (!answered) {
      await source.assertUnchanged();
      call.end();
    }
    const response = await answer;
    if (!response.complete) {
      throw new ProtocolError(target.name, `it holds ${response.committedSize} of ${target.size} bytes after the whole file was sent, and did not publish it`);
    }
    return response;
  } catch (err) {
    call.cancel();
    if (options.signal?.aborted || err instanceof ClientError) throw err;
    throw uploadError(err, options.secure);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Waits until the call takes more data (true), the server answers, or `ms` pass without either (false). */
function drainedOrAnswered(call: ClientWritableStream<UploadRequest | WireChunk>, answer: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      call.off('drain', onDrain);
      resolve(value);
    };
    const onDrain = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    call.once('drain', onDrain);
    answer.then(
      () => done(true),
      () => done(true),
    );
  });
}
