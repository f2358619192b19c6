// @ts-nocheck
import type { FileServiceClient } from '../../generated/filetransfer/v1/FileService.js';
import { ClientError, locally } from '../errors.js';
import { abortedError } from '../download/retryLoop.js';
import { trace } from '../trace.js';
import { fetchBlockList } from './blockList.js';
import { matchingBlocks } from './localBlocks.js';

/**
 * The full blocks of a local copy of `localLength` bytes to compare with
 * the server's file of `remoteSize`: none when that file is shorter (it
 * did not grow). A last, partial block is never among them: its digest on
 * the server covers bytes we do not have, so it cannot be compared, and
 * it is fetched again whole instead (see growthDecision).
 */
export function blocksToCompare(localLength: number, remoteSize: number, blockSize: number): number {
  return remoteSize < localLength ? 0 : Math.floor(localLength / blockSize);
}

export type GrowthDecision = { action: 'append'; from: number } | { action: 'from-zero'; reason: string };

/**
 * Where a download goes on from a local copy (a complete file, or a
 * partial) of a file that changed on the server, once `matched` of its
 * leading full blocks were found equal to the server's. Only a file that
 * grew keeps its bytes, and only when every full block we have still
 * matches (a log appended to); anything else that changed starts from 0,
 * never spliced. It continues at the start of our last, partial block
 * rather than at our length: those bytes cannot be checked against the
 * server's list (see blocksToCompare), and fetching that one block again
 * costs at most a block, where continuing after them would leave only the
 * whole file's digest to catch a difference, and that costs the whole file.
 */
export function growthDecision(localLength: number, remoteSize: number, blockSize: number, matched: number): GrowthDecision {
  if (remoteSize < localLength) return { action: 'from-zero', reason: `the server's copy is shorter (${remoteSize} bytes) than ours (${localLength})` };
  const compared = blocksToCompare(localLength, remoteSize, blockSize);
  if (compared === 0) return { action: 'from-zero', reason: `no full block of ${blockSize} bytes to keep` };
  if (matched < compared) return { action: 'from-zero', reason: `block ${matched} differs` };
  return { action: 'append', from: compared * blockSize };
}

/** Where a download continues after the full blocks it kept. */
export interface GrowthResume {
  offset: number;
  expectedVersion: string;
  expectedSha256: string;
}

/**
 * Asks the server for the blocks of `name` and compares those of `file`, our first `localLength` bytes of an
 * older version: where to continue if the file only grew (see
 * growthDecision), or undefined to start from 0, which is also the answer
 * of a server without Blocks and of any failure here (the download from 0
 * meets the same server and reports what is wrong).
 */
export async function followGrowth(
  channel: { client: FileServiceClient; secure: boolean },
  name: string,
  file: string,
  localLength: number,
  signal: AbortSignal | undefined,
): Promise<GrowthResume | undefined> {
  try {
    // Whatever version the list is of, the download asks for that one.
    const list = await fetchBlockList(channel.client, name, { signal, secure: channel.secure });
    if (list === undefined) {
      trace.plan('%s: the server has no Blocks: from 0', name);
      return undefined;
    }
    const { size } = list.remote;
    const compare = blocksToCompare(localLength, size, list.blockSize);
    if (compare === 0) return undefined;
    const matched = await locally('read', file, () => matchingBlocks(file, list.blockSize, list.digests, compare, signal));
    const decision = growthDecision(localLength, size, list.blockSize, matched);
    trace.plan('%s: changed on the server, %d bytes here, %d there: %j', name, localLength, size, decision);
    if (decision.action !== 'append') return undefined;
    return {
      offset: decision.from,
      expectedVersion: list.remote.version,
      expectedSha256: list.remote.sha256,
    };
  } catch (err) {
    if (signal?.aborted) throw abortedError(name, signal, err);
    if (!(err instanceof ClientError)) throw err;
    trace.plan('%s: cannot compare blocks (%s): from 0', name, err.message);
    return undefined;
  }
}
