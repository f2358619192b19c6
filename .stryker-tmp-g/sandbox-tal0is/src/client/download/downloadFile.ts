// @ts-nocheck
import { unlink } from 'node:fs/promises';
import { regularFileSize } from '../localFile.js';
import { BlockMismatchError, ClientError, locally } from '../errors.js';
import { prepareOutputPaths, type OutputPaths } from '../outputPaths.js';
import { RateLimiter } from '../../shared/rateLimiter.js';
import type { RemoteFile } from '../remoteFile.js';
import { planTask, remoteVerdict, type RemoteVerdict } from '../taskState.js';
import type { TaskRecord } from '../taskMap/taskRecord.js';
import { trace } from '../trace.js';
import { followGrowth, type GrowthResume } from '../blocks/growth.js';
import { copyToPartial } from '../blocks/partialCopy.js';
import { downloadAttempt } from './attempt.js';
import type { DownloadContext, DownloadOptions, DownloadResult } from './downloadOptions.js';
import { hashFile, PartialFile, publish } from './partialFile.js';
import { ReplicaTrust } from './replicaTrust.js';
import { nextResumePoint } from './resumePoint.js';
import { abortedError, retryOptionsOf, withRetries } from './retryLoop.js';
import { downloadInSegments } from './segmented.js';
import { statRemote } from './statRemote.js';
import { StreamBlocks } from './streamBlocks.js';

/** From this size on, a download waits for its "complete" record before it lets go of the lock. */
const AWAIT_RECORD_BYTES = 16 * 1024 * 1024;

/**
 * Brings one remote file to `<out>/<name>`: decides from the task map and the
 * disk what is needed, resumes partials, retries through interruptions, and
 * publishes the file under its final name only once its SHA-256 matches the
 * server's. The one writer of the task map. The caller holds the output
 * folder (FolderLease) and passes its signal.
 */
export async function downloadFile(context: DownloadContext, name: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const paths = await locally('create folders for', name, () => prepareOutputPaths(context.out, name, context.reserved, context.checkedFolders));
  // Another process may have finished or advanced this file before we got the folder.
  await context.store.reload();
  return downloadLocked(context, name, paths, options);
}

/** Runs while this process holds the output folder (see FolderLease). */
async function downloadLocked(context: DownloadContext, name: string, paths: OutputPaths, options: DownloadOptions): Promise<DownloadResult> {
  const { store } = context;
  const record = store.get(name);
  const facts = { record, finalSize: await regularFileSize(paths.finalPath), partSize: await regularFileSize(paths.partPath) };
  const plan = planTask(facts);
  trace.plan('%s: record %s, final file %s, partial %s -> %j', name, record?.status ?? 'none', facts.finalSize ?? 'absent', facts.partSize ?? 'none', plan);
  const base = { name, path: paths.finalPath, state: plan.state, bytesReceived: 0, attempts: 0, resumedFrom: 0 };

  let first: { offset: number; expectedVersion: string | undefined } = { offset: 0, expectedVersion: undefined };
  let grown: GrowthResume | undefined;
  if (plan.action === 'download') first = { offset: plan.offset, expectedVersion: plan.expectedVersion };
  if (plan.action === 'skip') {
    const kept = { ...base, size: record!.size, sha256: record!.sha256 ?? '', transferred: false };
    if (!context.checkRemote) return kept;
    const check = await checkComplete(context, record!, options.signal);
    trace.plan('%s: server copy %j', name, check);
    if ('unchecked' in check) return { ...kept, unchecked: check.unchecked };
    if (check.verdict === 'same-content') await store.markComplete(name, { size: record!.size, version: check.version, sha256: record!.sha256! });
    if (check.verdict !== 'changed') return kept;
    // Like wget -N: the server's copy is newer; the old file stays in place
    // until the new one is verified and renamed over it. One that grew may
    // have been appended to: it is continued in a copy of ours if so.
    first = { offset: 0, expectedVersion: check.version };
    if (check.size > record!.size) grown = await followGrowth(context, name, paths.finalPath, record!.size, options.signal);
    if (grown) {
      await copyToPartial(context.out, paths);
      first = { offset: grown.offset, expectedVersion: grown.expectedVersion };
    }
  }
  if (plan.action === 'verify') {
    const remote = await withRetries(() => statRemote(context.client, name, options.signal, context), retryOptionsOf(context, name, options));
    // A file of another length cannot match: not worth reading.
    if (facts.finalSize === remote.size) {
      const local = await locally('read', paths.finalPath, () => hashFile(paths.finalPath));
      trace.plan('%s: local sha256 %s, server %s', name, local.sha256, remote.sha256);
      if (local.size === remote.size && local.sha256 === remote.sha256) {
        await store.markComplete(name, { size: remote.size, version: remote.version, sha256: remote.sha256 });
        return { ...base, size: remote.size, sha256: remote.sha256, transferred: false };
      }
    }
  }
  const limiter = options.limitRate ? new RateLimiter(options.limitRate) : context.limiter;
  const trust = new ReplicaTrust(context.replicas);
  const segments = options.segments ?? context.segments ?? 1;
  // A partial fetched in segments has holes: only the segmented path can resume it.
  // A file known to be one block has no ranges to split (and no list to ask for).
  const oneBlock = record !== undefined && record.size <= (context.replicas.blockSize ?? 0);
  if ((segments > 1 && !oneBlock) || record?.verifiedBlocks) {
    const retry = retryOptionsOf(context, name, options);
    const fresh = first.offset === 0;
    const segmented = await downloadInSegments({ context, name, paths, record, segments, options, limiter, trust, retry, fresh });
    if (segmented) {
      await publishVerified(context, name, paths, segmented.remote, segmented.sha256, options.signal);
      const { resumedFrom, bytesReceived, attempts } = segmented;
      return { ...base, resumedFrom, transferred: true, bytesReceived, attempts, size: segmented.remote.size, sha256: segmented.sha256 };
    }
    if (record?.verifiedBlocks) first = { offset: 0, expectedVersion: undefined };
  }
  let { offset, expectedVersion } = first;
  // The record's digest belongs to the partial only with the record's version.
  let expectedSha256 =
    grown?.expectedSha256 ?? (expectedVersion !== undefined && expectedVersion === record?.version ? (record.sha256 ?? undefined) : undefined);
  let received = 0;
  let attempts = 0;
  let progressed = false;
  const blocks = new StreamBlocks({
    name,
    secure: context.secure,
    trust,
    onList: (list) => {
      expectedSha256 = list.remote.sha256;
      void store.markIncomplete(name, { size: list.remote.size, version: list.remote.version, sha256: list.remote.sha256 }).catch(() => undefined);
    },
  });

  let done: { remote: RemoteFile; sha256: string };
  try {
    done = await withRetries(
      async (attempt) => {
        attempts = attempt;
        progressed = false;
        const partial = await PartialFile.open(context.out, paths.partPath, offset, blocks.hashesFor(offset, record?.size));
        let failure: unknown;
        try {
          return await downloadAttempt({
            client: blocks.attemptStarts().client,
            secure: context.secure,
            name,
            partial,
            expectedVersion,
            expectedSha256,
            stallTimeoutMs: context.stallTimeoutMs,
            limiter,
            signal: options.signal,
            onDescribed: (remote, peer) => {
              expectedVersion = remote.version;
              expectedSha256 = remote.sha256 || blocks.listDigest;
              blocks.described(remote, peer, offset);
              // Not awaited: a partial whose record never reached the disk is
              // resumed without a version and judged by its digest, so data
              // need not wait for the task map.
              void store.markIncomplete(name, { size: remote.size, version: remote.version, sha256: remote.sha256 || null }).catch(() => undefined);
              options.onStart?.({ name, size: remote.size, offset, attempt });
            },
            onData: (remote) => options.onProgress?.({ name, received: partial.length, size: remote.size, attemptOffset: offset }),
            provePrefix: blocks.provesPrefix(),
            badBlock: (index) => blocks.badBlock(index),
            takeFailure: () => blocks.takeFailure(),
          });
        } catch (err) {
          failure = err;
          // The bytes before a bad block were verified: only it and what came after go.
          if (err instanceof BlockMismatchError) await partial.cutBack(err.block * err.blockSize).catch(() => undefined);
          throw await partial.close(err, options.signal?.reason);
        } finally {
          received += partial.received;
          progressed = partial.received > 0;
          blocks.attemptEnds(failure !== undefined && !progressed);
          if (failure === undefined) await partial.close();
        }
      },
      {
        ...retryOptionsOf(context, name, options),
        progressed: () => progressed,
        attemptOffset: () => offset,
        replica: () => blocks.sender,
        beforeRetry: async (fromZero, reason) => {
          if (fromZero) blocks.restart();
          const partSize = await regularFileSize(paths.partPath);
          ({ offset, expectedVersion } = nextResumePoint(fromZero, partSize, expectedVersion));
          if (expectedVersion === undefined) expectedSha256 = undefined;
          // The file changed under the partial: if it only grew, the
          // partial's full blocks are kept.
          const kept = reason === 'changed' && partSize ? await followGrowth(context, name, paths.partPath, partSize, options.signal) : undefined;
          if (kept) ({ offset, expectedVersion, expectedSha256 } = kept);
          trace.plan('%s: next attempt from %d (version %s)', name, offset, expectedVersion ?? 'any');
        },
      },
    );
  } catch (err) {
    // A failed first attempt leaves an empty partial: litter, not progress.
    // Not after an abort or a lost lock: the partial may be another's now.
    if (err instanceof ClientError && err.kind !== 'aborted' && err.kind !== 'lock-lost' && (await regularFileSize(paths.partPath)) === 0) {
      await unlink(paths.partPath).catch(() => undefined);
    }
    throw err;
  } finally {
    blocks.close();
  }
  const { remote, sha256 } = done;
  await publishVerified(context, name, paths, remote, sha256, options.signal);
  return { ...base, resumedFrom: first.offset, transferred: true, bytesReceived: received, attempts, size: remote.size, sha256 };
}

/** Gives a verified partial its final name and records it complete. */
async function publishVerified(
  context: DownloadContext,
  name: string,
  paths: OutputPaths,
  remote: RemoteFile,
  sha256: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  // Whoever took over a lost lock may be writing this partial now.
  if (signal?.aborted) throw abortedError(name, signal, undefined);
  await publish(paths.partPath, paths.finalPath, context.folderSyncer);
  // Not awaited for small files: a published file whose record was lost in
  // a crash is verified against the server's digest and kept (state
  // "unverified"), which costs little. For a large one that check is a full
  // hash, which another process waiting on our lock would pay if it found
  // no record: the lock is released only once the record is on disk.
  const recorded = context.store.markComplete(name, { size: remote.size, version: remote.version, sha256 }).catch(() => undefined);
  if (remote.size >= AWAIT_RECORD_BYTES) await recorded;
}

/**
 * One Stat, not retried: a server that cannot answer now leaves the file
 * that was verified when it was fetched, which is what the user has.
 * Bounded by the stall timeout, so a server that accepts but never answers
 * does not hold a file that needs nothing.
 */
async function checkComplete(
  context: DownloadContext,
  record: TaskRecord,
  signal: AbortSignal | undefined,
): Promise<{ verdict: RemoteVerdict; version: string; size: number } | { unchecked: string }> {
  const timeout = AbortSignal.timeout(context.stallTimeoutMs);
  try {
    const remote = await statRemote(context.client, record.name, signal ? AbortSignal.any([signal, timeout]) : timeout, context);
    return { verdict: remoteVerdict(record, remote), version: remote.version, size: remote.size };
  } catch (err) {
    if (signal?.aborted) throw abortedError(record.name, signal, err);
    if (!(err instanceof ClientError)) throw err;
    return { unchecked: timeout.aborted ? `no answer in ${context.stallTimeoutMs / 1000} s` : err.message };
  }
}
