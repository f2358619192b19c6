import { status } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { unlink, type FileHandle } from 'node:fs/promises';
import type { Chunk__Output } from '../../generated/filetransfer/v1/Chunk.js';
import { DigestMismatchError, LocalIoError, LockLostError, locally, ProtocolError, RemoteStatusError } from '../errors.js';
import { prepareOutputPaths } from '../outputPaths.js';
import { openInside } from '../pinnedFolder.js';
import { watchCall } from '../download/callWatch.js';
import { readOneAhead } from '../../shared/readOneAhead.js';
import type { DownloadContext } from '../download/downloadOptions.js';
import { hashFile, publish, writeAt } from '../download/partialFile.js';
import { retryOptionsOf, withRetries } from '../download/retryLoop.js';
import { firstMessageFile } from '../remoteFile.js';
import { digestOf, type BlockList } from './blockList.js';
import { rangesOfBlocks, type ByteRange } from './blockRanges.js';
import { copyToPartial } from './partialCopy.js';

const LEFT_AS_IT_WAS = 'the published file was left as it was';

/**
 * Makes the local copy of `name` the server's file of `list` by fetching
 * only `blocks` (with Download's offset and limit), each checked against
 * its digest before it is written. They are written into a copy of the
 * published file, cut or grown to the server's size; only once the whole
 * copy has the server's SHA-256 is it synced and renamed over the
 * published file, and the task map records it complete. On any failure
 * the published file is as it was. Returns the file bytes received.
 */
export async function repairBlocks(context: DownloadContext, name: string, list: BlockList, blocks: number[], signal?: AbortSignal): Promise<number> {
  const { remote } = list;
  const paths = await locally('create folders for', name, () => prepareOutputPaths(context.out, name, context.reserved, context.checkedFolders));
  await copyToPartial(context.out, paths);
  let received = 0;
  let published = false;
  try {
    const handle = await locally('open', paths.partPath, () => openInside(context.out, paths.partPath, constants.O_RDWR | constants.O_NOFOLLOW));
    try {
      await locally('truncate', paths.partPath, () => handle.truncate(remote.size));
      for (const range of rangesOfBlocks(blocks, list.blockSize, remote.size)) received += await fetchRange(context, name, list, range, handle, signal);
      await locally('sync', paths.partPath, () => handle.sync());
    } finally {
      await handle.close();
    }
    const patched = await locally('read', paths.partPath, () => hashFile(paths.partPath));
    if (patched.sha256 !== remote.sha256) throw new DigestMismatchError(name, patched.sha256, remote.sha256, LEFT_AS_IT_WAS);
    await publish(paths.partPath, paths.finalPath, context.folderSyncer);
    published = true;
  } finally {
    // Not after the lock was lost: the partial may be another's now.
    if (!published && !(signal?.reason instanceof LockLostError)) await unlink(paths.partPath).catch(() => undefined);
  }
  await context.store.markComplete(name, { size: remote.size, version: remote.version, sha256: remote.sha256 });
  return received;
}

/**
 * Fetches the blocks of `range` (whole blocks, or up to the file's end)
 * into `handle`, retried through interruptions from the first block not
 * yet written. A block is held in memory until it is complete and matches
 * its digest: nothing unchecked reaches the copy.
 */
async function fetchRange(
  context: DownloadContext,
  name: string,
  list: BlockList,
  range: ByteRange,
  handle: FileHandle,
  signal?: AbortSignal,
): Promise<number> {
  const { blockSize, remote } = list;
  /** The first byte not yet written: a block's start. */
  let next = range.start;
  let received = 0;
  let progressed = false;
  const writeBlock = (data: Buffer) => {
    const block = next / blockSize;
    const got = createHash('sha256').update(data).digest();
    if (!got.equals(digestOf(list.digests, block))) {
      throw new DigestMismatchError(
        `${name} (block ${block})`,
        got.toString('hex'),
        digestOf(list.digests, block).toString('hex'),
        `the block was not written; ${LEFT_AS_IT_WAS}`,
      );
    }
    try {
      writeAt(handle.fd, data, next);
    } catch (err) {
      throw new LocalIoError('write', `${name}.part`, err as NodeJS.ErrnoException);
    }
    next += data.length;
    progressed = true;
  };
  await withRetries(
    async () => {
      progressed = false;
      // The digest too: a replica with the same bytes under another version accepts the range by it.
      const call = context.client.download({
        name,
        offset: String(next),
        limit: String(range.end - next),
        expectedVersion: remote.version,
        expectedSha256: remote.sha256,
      });
      if (context.limiter) readOneAhead(call);
      const watch = watchCall(call, context.stallTimeoutMs, signal);
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let described = false;
      try {
        for await (const message of call as AsyncIterable<Chunk__Output>) {
          watch.busy();
          if (!described) firstMessageFile(name, message);
          described = true;
          if (message.data.length > 0) {
            const at = next + pendingBytes;
            if (Number(message.offset) !== at) throw new ProtocolError(name, `data for offset ${message.offset} arrived at ${at}`);
            if (at + message.data.length > range.end) throw new ProtocolError(name, `the server sent more than the ${range.end - range.start} bytes asked for`);
            pending.push(message.data);
            pendingBytes += message.data.length;
            received += message.data.length;
            while (next < range.end) {
              const length = Math.min(blockSize, remote.size - next);
              if (pendingBytes < length) break;
              const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
              writeBlock(data.subarray(0, length));
              pending = pendingBytes > length ? [data.subarray(length)] : [];
              pendingBytes -= length;
            }
            await context.limiter?.take(message.data.length, signal);
          }
          watch.waiting();
        }
      } catch (err) {
        throw watch.explain(err, context.secure);
      } finally {
        watch.stop();
      }
      if (next < range.end) throw new RemoteStatusError(status.UNAVAILABLE, `the stream of ${name} ended at byte ${next + pendingBytes} of ${range.end}`);
    },
    {
      ...retryOptionsOf(context, name, { signal }),
      progressed: () => progressed,
      beforeRetry: async (_fromZero, reason) => {
        // The list is of a version the server no longer has: its blocks
        // cannot be fetched any more.
        if (reason === 'changed') {
          throw new RemoteStatusError(status.FAILED_PRECONDITION, `${name} changed on the server during the repair; ${LEFT_AS_IT_WAS}: run verify again`);
        }
      },
    },
  );
  return received;
}
