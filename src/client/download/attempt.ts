import { status } from '@grpc/grpc-js';
import type { Chunk__Output } from '../../generated/filetransfer/v1/Chunk.js';
import type { FileServiceClient } from '../../generated/filetransfer/v1/FileService.js';
import { ProtocolError, RemoteStatusError, type ClientError } from '../errors.js';
import type { RateLimiter } from '../../shared/rateLimiter.js';
import { firstMessageFile, type RemoteFile } from '../remoteFile.js';
import { watchCall } from './callWatch.js';
import { readOneAhead } from '../../shared/readOneAhead.js';
import type { PartialFile } from './partialFile.js';
import { receiveBuffers } from '../../shared/receiveBuffers.js';

const giveBack = (data: Buffer) => receiveBuffers.give(data);

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
  /** Whether a resume proves the partial's bytes by their digest (prefix_sha256), reading them back if need be. */
  provePrefix: boolean;
  /** The server has described the file; bytes follow. `peer` is its address (grpc-js getPeer). */
  onDescribed: (remote: RemoteFile, peer: string) => void;
  onData: (remote: RemoteFile) => void;
  /** The error a bad block (see StreamHash.bad) ends the attempt with. */
  badBlock: (index: number) => ClientError;
  /** An error found beside the stream (a block list that does not add up) that ends the attempt, taken once. */
  takeFailure: () => ClientError | undefined;
}

/**
 * One Download call: from the partial's end to the file's, with every
 * message checked against the protocol, each block against the block list
 * once the partial's hashes have one (see StreamHash), and the whole
 * file's digest against the server's. Resolves with the verified file, durable on disk
 * but not yet published; anything else is an error for the retry policy.
 */
export async function downloadAttempt(options: AttemptOptions): Promise<{ remote: RemoteFile; sha256: string }> {
  const { name, partial } = options;
  const offset = partial.length;
  let remote: RemoteFile | undefined;
  let trailerDigest = '';
  const { hash } = partial;
  // A replica with its own copy of the same bytes (another version) proves
  // it by the digests; from 0 there is nothing to prove.
  const prefixSha256 = offset > 0 && options.provePrefix ? await partial.digestSoFar(options.signal) : '';
  // Blocks the resume's read found bad (against a list already known).
  if (hash.bad !== undefined) throw options.badBlock(hash.bad);
  const call = options.client.download({
    name,
    offset: String(offset),
    expectedVersion: options.expectedVersion ?? '',
    prefixSha256,
    expectedSha256: offset > 0 ? (options.expectedSha256 ?? '') : '',
  });
  if (options.limiter) readOneAhead(call);
  // No more bytes once a block is found bad: they could only be thrown away.
  hash.onBad = () => call.cancel();
  // Told only once the server has accepted our bytes (its first data, or a
  // clean end): a resume it refuses after its info, for other content,
  // must not make that content's version ours.
  let described = false;
  const describe = (file: RemoteFile) => {
    if (described) return;
    described = true;
    options.onDescribed(file, call.getPeer());
  };
  const watch = watchCall(call, options.stallTimeoutMs, options.signal);
  try {
    for await (const message of call as AsyncIterable<Chunk__Output>) {
      watch.busy();
      if (remote === undefined) {
        remote = firstMessageFile(name, message);
        // Our bytes cannot belong to a file shorter than them: the same
        // remedy as the server's own OUT_OF_RANGE, a fresh start.
        if (remote.size < offset)
          throw new RemoteStatusError(status.OUT_OF_RANGE, `the server offered ${remote.size} bytes of ${name}, fewer than the ${offset} on disk`);
      }
      if (message.data.length > 0) {
        describe(remote);
        if (message.offset !== String(partial.length)) throw new ProtocolError(name, `data for offset ${message.offset} arrived at ${partial.length}`);
        if (partial.length + message.data.length > remote.size) throw new ProtocolError(name, 'the server sent more bytes than the file has');
        // A hash switched (a block list came, or none will) reads back what it missed first.
        if (hash.behind() !== undefined) await partial.catchUp(options.signal);
        // Once written (and hashed, which append does at once), held by nothing else: its memory can take the next message.
        const room = partial.append(message.data, giveBack);
        if (room) await room;
        if (hash.bad !== undefined) throw options.badBlock(hash.bad);
        options.onData(remote);
        if (options.limiter) await options.limiter.take(message.data.length, options.signal);
      }
      if (message.sha256 !== '') trailerDigest = message.sha256;
      watch.waiting();
    }
  } catch (err) {
    const explained = watch.explain(err, options.secure);
    throw options.takeFailure() ?? (hash.bad === undefined ? explained : options.badBlock(hash.bad));
  } finally {
    watch.stop();
    hash.onBad = undefined;
  }
  if (remote === undefined) throw new ProtocolError(name, 'the stream ended without file info');
  describe(remote);
  if (partial.length !== remote.size) {
    throw new RemoteStatusError(status.UNAVAILABLE, `the stream of ${name} ended at byte ${partial.length} of ${remote.size}`);
  }
  const expected = remote.sha256 || trailerDigest || hash.digestOfList || '';
  if (expected === '') throw new ProtocolError(name, 'the server sent no sha256');
  const sha256 = await partial.verify(name, expected);
  if (sha256 === undefined) throw options.badBlock(hash.bad!);
  return { remote, sha256 };
}
