// @ts-nocheck
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import type { BlockList } from '../generated/filetransfer/v1/BlockList.js';
import type { BlocksRequest__Output } from '../generated/filetransfer/v1/BlocksRequest.js';
import { StatusError } from '../shared/statusError.js';
import { DIGEST_BYTES } from '../shared/blockHasher.js';
import { BoundedWriter } from './boundedWriter.js';
import type { DigestCache, FileDigests } from './digestCache.js';
import { fileInfoOf } from './fileInfo.js';
import type { DescriptorBudget } from './limits.js';
import { openServedFile, type ServedFile } from './servedFile.js';
import { untilAborted } from '../shared/untilAborted.js';
import { withHeartbeat } from './waiting.js';

/** Digests per message (see the proto): 256 KiB of them. */
const DIGESTS_PER_MESSAGE = 8192;

export interface BlocksContext {
  root: string;
  digests: DigestCache;
  files: DescriptorBudget;
}

export interface BlocksOutcome {
  /** Digests sent. */
  blocks: number;
  /** Whether the call waited for a hash pass, rather than answering from what was known. */
  hashed: boolean;
}

/**
 * Streams a file's block digests, framed as the proto's Blocks says: known
 * ones at once, else after a hash pass that takes its turn with the other
 * whole-file hashes, keep-alives sent meanwhile. The descriptor goes back
 * as soon as the digests are known or the pass has one of its own, as for
 * Stat.
 */
export async function streamBlocks(
  call: ServerWritableStream<BlocksRequest__Output, BlockList>,
  context: BlocksContext,
  signal: AbortSignal,
  outcome: BlocksOutcome,
): Promise<void> {
  const release = context.files.take();
  let file: ServedFile;
  try {
    file = await openServedFile(context.root, call.request.name);
  } catch (err) {
    release();
    throw err;
  }
  let digests: FileDigests | Promise<FileDigests>;
  try {
    const { expectedVersion } = call.request;
    if (expectedVersion !== '' && expectedVersion !== file.version) {
      throw new StatusError(status.FAILED_PRECONDITION, `${file.name} changed since version ${expectedVersion}; ask for its blocks again`);
    }
    digests = context.digests.knownBlocks(file) ?? context.digests.blocksOf(file, signal);
    // Awaited below, once the descriptor is back.
    if (digests instanceof Promise) digests.catch(() => undefined);
  } finally {
    await file.handle
      .close()
      .catch(() => undefined)
      .finally(release);
  }
  const blockSize = String(context.digests.blockSize);
  const writer = new BoundedWriter<BlockList>(call, signal);
  if (digests instanceof Promise) {
    outcome.hashed = true;
    digests = await withHeartbeat(untilAborted(digests, signal), () => writer.write({ blockSize }));
  }
  const { sha256, blocks } = digests;
  for (const part of digestParts(blocks, DIGESTS_PER_MESSAGE)) {
    await writer.write({
      ...(part.firstBlock === 0 ? { info: fileInfoOf(file, sha256) } : {}),
      blockSize,
      firstBlock: String(part.firstBlock),
      sha256: part.sha256,
    });
    outcome.blocks = part.firstBlock + part.sha256.length;
  }
}

/**
 * Splits digests kept back to back (32 bytes each) into messages of at
 * most `perMessage`, each with the index of its first; an empty list is
 * one empty message, which carries the info.
 */
export function* digestParts(blocks: Buffer, perMessage: number): Generator<{ firstBlock: number; sha256: Buffer[] }> {
  const count = blocks.length / DIGEST_BYTES;
  let first = 0;
  do {
    const last = Math.min(first + perMessage, count);
    const sha256: Buffer[] = [];
    for (let i = first; i < last; i += 1) sha256.push(blocks.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES));
    yield { firstBlock: first, sha256 };
    first = last;
  } while (first < count);
}
