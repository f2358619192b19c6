// @ts-nocheck
import { status } from '@grpc/grpc-js';
import type { BlockList__Output } from '../../generated/filetransfer/v1/BlockList.js';
import type { FileServiceClient } from '../../generated/filetransfer/v1/FileService.js';
import { DIGEST_BYTES } from '../../shared/blockHasher.js';
import { ClientError, ProtocolError, toClientError } from '../errors.js';
import { blocksIn, digestOf } from './blockSet.js';

// Where they began; they live in blockSet.ts, which loads no gRPC (status and verify import them).
export { blocksIn, digestOf };
import { remoteFileOf, type RemoteFile } from '../remoteFile.js';

/** A file's block digests as the server gave them, checked (see the proto's Blocks). */
export interface BlockList {
  /** The file they belong to, at `remote.version`, with its whole sha256. */
  remote: RemoteFile;
  blockSize: number;
  /** Raw SHA-256 of block i at [i * 32, i * 32 + 32). */
  digests: Buffer;
}

/**
 * The list that a Blocks call's messages make, or a ProtocolError naming
 * what does not add up: keep-alives (only block_size) skipped; `info`
 * first; digests numbered without gap or overlap, 32 bytes each, exactly
 * ceil(size / block_size) of them; one block size throughout.
 */
export function assembleBlockList(name: string, messages: readonly BlockList__Output[]): BlockList {
  const fault = (what: string) => new ProtocolError(name, `its block list ${what}`);
  const content = messages.filter((message) => message.info !== null || message.sha256.length > 0);
  const first = content[0];
  if (!first?.info) throw fault('came without the file it describes');
  const remote = remoteFileOf(first.info);
  // remoteFileOf refused a malformed digest already: only none is left to refuse.
  if (remote.sha256 === '') throw fault('came without the whole file digest');
  const blockSize = Number(first.blockSize);
  if (!Number.isSafeInteger(blockSize) || blockSize < 1) throw fault(`has an impossible block size ${first.blockSize}`);
  const expected = blocksIn(remote.size, blockSize);
  const digests = Buffer.allocUnsafe(expected * DIGEST_BYTES);
  let count = 0;
  for (const message of content) {
    if (message !== first && message.info !== null) throw fault('describes its file twice');
    if (Number(message.blockSize) !== blockSize) throw fault('changes its block size');
    if (Number(message.firstBlock) !== count) throw fault(`jumps from block ${count} to ${message.firstBlock}`);
    for (const digest of message.sha256) {
      if (digest.length !== DIGEST_BYTES) throw fault(`has a digest of ${digest.length} bytes`);
      if (count >= expected) throw fault(`has more than the ${expected} blocks of ${remote.size} bytes`);
      digest.copy(digests, count * DIGEST_BYTES);
      count += 1;
    }
  }
  if (count !== expected) throw fault(`has ${count} blocks where ${remote.size} bytes make ${expected}`);
  return { remote, blockSize, digests };
}

/**
 * A file's block list from the server; undefined when the server has no
 * Blocks call (an older version: verify the whole file only). With
 * `expectedVersion`, a file changed since fails with FAILED_PRECONDITION.
 */
export async function fetchBlockList(
  client: FileServiceClient,
  name: string,
  options: { expectedVersion?: string; signal?: AbortSignal; secure?: boolean } = {},
): Promise<BlockList | undefined> {
  const messages: BlockList__Output[] = [];
  const call = client.blocks({ name, expectedVersion: options.expectedVersion ?? '' });
  const onAbort = () => call.cancel();
  if (options.signal?.aborted) call.cancel();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const message of call as AsyncIterable<BlockList__Output>) messages.push(message);
  } catch (err) {
    const failure = toClientError(err, { secure: options.secure ?? false });
    if (failure instanceof ClientError && failure.code === status.UNIMPLEMENTED) return undefined;
    throw failure;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return assembleBlockList(name, messages);
}
