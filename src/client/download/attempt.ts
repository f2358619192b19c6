import { status } from '@grpc/grpc-js';
import type { Chunk__Output } from '../../generated/filetransfer/v1/Chunk.js';
import type { FileServiceClient } from '../../generated/filetransfer/v1/FileService.js';
import { ProtocolError, RemoteStatusError } from '../errors.js';
import type { RateLimiter } from '../../shared/rateLimiter.js';
import { remoteFileOf, type RemoteFile } from '../remoteFile.js';
import { watchCall } from './callWatch.js';
import type { PartialFile } from './partialFile.js';

export interface AttemptOptions {
  client: FileServiceClient;
  /** Whether the channel uses TLS: it decides how a refused handshake reads. */
  secure: boolean;
  name: string;
  /** Where the partial stands; the call asks for the bytes after it. */
  partial: PartialFile;
  /** The version the partial's bytes belong to, if known. */
  expectedVersion: string | undefined;
  /** SHA-256 of the whole file the partial's bytes belong to, if known. */
  expectedSha256: string | undefined;
  stallTimeoutMs: number;
  limiter: RateLimiter | undefined;
  signal: AbortSignal | undefined;
  /** The server has described the file; bytes follow. */
  onDescribed: (remote: RemoteFile) => void;
  onData: (remote: RemoteFile) => void;
}

/**
 * One Download call: from the partial's end to the file's, with every
 * message checked against the protocol, and the whole file's digest
 * against the server's. Resolves with the verified file, durable on disk
 * but not yet published; anything else is an error for the retry policy.
 */
export async function downloadAttempt(options: AttemptOptions): Promise<{ remote: RemoteFile; sha256: string }> {
  const { name, partial } = options;
  const offset = partial.length;
  let remote: RemoteFile | undefined;
  let trailerDigest = '';
  // A replica with its own copy of the same bytes (another version) proves
  // it by the digests; from 0 there is nothing to prove.
  const call = options.client.download({
    name,
    offset: String(offset),
    expectedVersion: options.expectedVersion ?? '',
    prefixSha256: offset > 0 ? partial.digestSoFar() : '',
    expectedSha256: offset > 0 ? (options.expectedSha256 ?? '') : '',
  });
  // Told only once the server has accepted our bytes (its first data, or a
  // clean end): a resume it refuses after its info, for other content,
  // must not make that content's version ours.
  let described = false;
  const describe = (file: RemoteFile) => {
    if (described) return;
    described = true;
    options.onDescribed(file);
  };
  const watch = watchCall(call, options.stallTimeoutMs, options.signal);
  try {
    for await (const message of call as AsyncIterable<Chunk__Output>) {
      watch.busy();
      if (remote === undefined) {
        if (!message.info) throw new ProtocolError(name, 'the first message carries no file info');
        remote = remoteFileOf(message.info);
        // Our bytes cannot belong to a file shorter than them: the same
        // remedy as the server's own OUT_OF_RANGE, a fresh start.
        if (remote.size < offset)
          throw new RemoteStatusError(status.OUT_OF_RANGE, `the server offered ${remote.size} bytes of ${name}, fewer than the ${offset} on disk`);
      }
      if (message.data.length > 0) {
        describe(remote);
        if (message.offset !== String(partial.length)) throw new ProtocolError(name, `data for offset ${message.offset} arrived at ${partial.length}`);
        if (partial.length + message.data.length > remote.size) throw new ProtocolError(name, 'the server sent more bytes than the file has');
        partial.append(message.data);
        options.onData(remote);
        await options.limiter?.take(message.data.length, options.signal);
      }
      if (message.sha256 !== '') trailerDigest = message.sha256;
      watch.waiting();
    }
  } catch (err) {
    throw watch.explain(err, options.secure);
  } finally {
    watch.stop();
  }
  if (remote === undefined) throw new ProtocolError(name, 'the stream ended without file info');
  describe(remote);
  if (partial.length !== remote.size) {
    throw new RemoteStatusError(status.UNAVAILABLE, `the stream of ${name} ended at byte ${partial.length} of ${remote.size}`);
  }
  const expected = remote.sha256 || trailerDigest;
  if (expected === '') throw new ProtocolError(name, 'the server sent no sha256');
  return { remote, sha256: await partial.verify(name, expected) };
}
