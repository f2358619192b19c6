// @ts-nocheck
import { locally, ProtocolError, toClientError, type ClientError } from '../errors.js';
import { findFile } from '../localFile.js';
import { outputPathsOf } from '../outputPaths.js';
import type { RemoteFile } from '../remoteFile.js';
import type { TaskRecord } from '../taskMap/taskRecord.js';
import { downloadFile } from '../download/downloadFile.js';
import type { DownloadContext } from '../download/downloadOptions.js';
import { hashFile } from '../download/partialFile.js';
import { abortedError, retryOptionsOf, withRetries } from '../download/retryLoop.js';
import { statRemote } from '../download/statRemote.js';
import { fetchBlockList } from './blockList.js';
import type { ByteRange } from './blockRanges.js';
import { asRecorded, compareVerdict, damageOf } from './damage.js';
import { hashLocalBlocks } from './localBlocks.js';
import { repairBlocks } from './repair.js';

/**
 * A local file against the server's copy:
 * - ok: the server's bytes, block by block and whole;
 * - damaged: some bytes differ (see `damaged`);
 * - outdated: they differ, but the file is what was downloaded: the
 *   server's copy changed since;
 * - repaired: it differed, and now holds the server's bytes;
 * - missing: no local file;
 * - unreadable: not a regular file, or it cannot be read;
 * - unchecked: the server could not be asked (see `problem`).
 */
export type ServerVerdict = 'ok' | 'damaged' | 'outdated' | 'repaired' | 'missing' | 'unreadable' | 'unchecked';

export interface ServerVerifyResult {
  name: string;
  verdict: ServerVerdict;
  /** Where the file is looked for; null for a name that cannot be one. */
  path: string | null;
  /** Bytes on disk before any repair; null without a readable file. */
  size: number | null;
  /** SHA-256 of the bytes on disk before any repair, when they were all read. */
  sha256: string | null;
  /** The server's file: null when it could not be asked. */
  expectedSize: number | null;
  expectedSha256: string | null;
  version: string | null;
  /** The server's block size; null when it has no Blocks (an older server) and the file was compared whole. */
  blockSize: number | null;
  /** Bytes [start, end) that differ from the server's, in order; the whole file when compared whole. */
  damaged: ByteRange[];
  /** File bytes a repair received. */
  bytesReceived: number;
  /** Why the file is unreadable or unchecked, or was not repaired. */
  problem?: string;
  /** The failure behind `problem`, when there is one. */
  error?: ClientError;
}

/**
 * Compares the local copy of `name` under the output folder with the
 * server's file: block by block against its Blocks list, or whole by
 * SHA-256 when the server has no Blocks. With `repair`, a file that
 * differs is made the server's (see repairBlocks; a server without Blocks
 * or a missing file gets a normal download, which also publishes only a
 * verified file); the caller then holds the output folder. The task map
 * follows what was found: a file that matches takes the server's version;
 * a damaged one is no longer vouched for (as the offline verify does),
 * so the next get fetches it; a repaired one is recorded complete.
 */
export async function verifyWithServer(
  context: DownloadContext,
  name: string,
  options: { repair: boolean; signal?: AbortSignal },
): Promise<ServerVerifyResult> {
  const { signal } = options;
  let result: ServerVerifyResult = {
    name,
    verdict: 'unchecked',
    path: null,
    size: null,
    sha256: null,
    expectedSize: null,
    expectedSha256: null,
    version: null,
    blockSize: null,
    damaged: [],
    bytesReceived: 0,
  };
  const failed = (err: unknown): ServerVerifyResult => {
    if (signal?.aborted) throw abortedError(name, signal, err);
    const error = toClientError(err, context);
    // Our own disk failed before any verdict: the file could not be read.
    const verdict = result.verdict === 'unchecked' && error.kind === 'local-io' ? 'unreadable' : result.verdict;
    return { ...result, verdict, problem: error.message, error };
  };
  try {
    const { finalPath } = outputPathsOf(context.out, name);
    result.path = finalPath;
    const found = await findFile(finalPath);
    if (found !== 'missing' && 'unusable' in found) return { ...result, verdict: 'unreadable', problem: found.unusable };
    const retries = retryOptionsOf(context, name, { signal });
    const list = await withRetries(() => fetchBlockList(context.client, name, { signal, secure: context.secure }), retries);
    const remote: RemoteFile = list?.remote ?? (await withRetries(() => statRemote(context.client, name, signal, context), retries));
    result = { ...result, expectedSize: remote.size, expectedSha256: remote.sha256, version: remote.version, blockSize: list?.blockSize ?? null };
    const record = context.store.get(name);
    let blocks: number[] | undefined;
    if (found === 'missing') {
      result = { ...result, verdict: 'missing', damaged: remote.size > 0 ? [{ start: 0, end: remote.size }] : [] };
    } else {
      let sha256: string | undefined;
      if (list) {
        // A longer file is hashed to the server's length, so its blocks line up with the server's.
        const local = await locally('read', finalPath, () => hashLocalBlocks(finalPath, list.blockSize, Math.min(found.size, remote.size), signal));
        const damage = damageOf(found.size, local.digests, list);
        if (damage.ranges.length === 0 && local.sha256 !== remote.sha256)
          throw new ProtocolError(name, 'its block digests match our file but its sha256 does not');
        blocks = damage.blocks;
        // All of it, to tell a file as downloaded from a damaged one; read again only in the rare case it may be one.
        sha256 =
          found.size <= remote.size
            ? local.sha256
            : record?.size === found.size
              ? (await locally('read', finalPath, () => hashFile(finalPath))).sha256
              : undefined;
        result.damaged = damage.ranges;
      } else {
        sha256 = (await locally('read', finalPath, () => hashFile(finalPath))).sha256;
        const same = found.size === remote.size && sha256 === remote.sha256;
        result.damaged = same ? [] : [{ start: 0, end: Math.max(found.size, remote.size) }];
      }
      result = { ...result, size: found.size, sha256: sha256 ?? null, verdict: compareVerdict(result.damaged, asRecorded(record, sha256)) };
    }
    if (result.verdict === 'ok') {
      // The same bytes under a new version (a touch, a copy): as get does, the record takes it.
      if (record?.status === 'complete' && record.version !== remote.version) {
        await context.store.markComplete(name, { size: remote.size, version: remote.version, sha256: remote.sha256 });
      }
      return result;
    }
    if (options.repair) {
      try {
        if (list && blocks) return { ...result, verdict: 'repaired', bytesReceived: await repairBlocks(context, name, list, blocks, signal) };
        // Fetched whole, as get would: a record that vouches for the file goes first, or get would keep it.
        if (record?.status === 'complete') await context.store.markIncomplete(name, record);
        const fetched = await downloadFile(context, name, { signal });
        return { ...result, verdict: 'repaired', bytesReceived: fetched.bytesReceived };
      } catch (err) {
        result = failed(err);
      }
    }
    // As the offline verify: a damaged file's record no longer vouches for it, and the next get
    // checks it against the server. An outdated one keeps its record: get sees the change itself.
    if (result.verdict === 'damaged' && record?.status === 'complete') {
      await context.store.markIncomplete(name, record);
    }
    return result;
  } catch (err) {
    return failed(err);
  }
}

/**
 * What a verify without names checks: every file recorded complete, and
 * those recorded incomplete that have a file under their name, as a verify
 * that found them damaged leaves them, so a later `verify --repair` still
 * finds them.
 */
export async function recordedFiles(out: string, records: readonly TaskRecord[]): Promise<string[]> {
  const names: string[] = [];
  for (const record of records) {
    if (record.status === 'complete' || (await findFile(outputPathsOf(out, record.name).finalPath)) !== 'missing') names.push(record.name);
  }
  return names;
}
