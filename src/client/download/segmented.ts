import { status } from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Chunk__Output } from '../../generated/filetransfer/v1/Chunk.js';
import type { FileServiceClient } from '../../generated/filetransfer/v1/FileService.js';
import { blocksIn, digestOf, fetchBlockList, type BlockList } from '../blocks/blockList.js';
import { BlockRun } from '../blocks/blockRun.js';
import { BlockSet } from '../blocks/blockSet.js';
import { agreedDigest, clampSegments, planPieces, stealFrom, type ListAnswer, type Piece } from '../blocks/segmentPlan.js';
import { BlockMismatchError, ClientError, ProtocolError, RemoteStatusError, toClientError } from '../errors.js';
import type { OutputPaths } from '../outputPaths.js';
import { firstMessageFile, type RemoteFile } from '../remoteFile.js';
import { decideRetry } from '../retryPolicy.js';
import type { RateLimiter } from '../../shared/rateLimiter.js';
import type { TaskRecord } from '../taskMap/taskRecord.js';
import { trace } from '../trace.js';
import { watchCall } from './callWatch.js';
import { readOneAhead } from '../../shared/readOneAhead.js';
import type { DownloadContext, DownloadOptions } from './downloadOptions.js';
import { SparsePartial } from './partialFile.js';
import { receiveBuffers } from '../../shared/receiveBuffers.js';
import type { ReplicaTrust } from './replicaTrust.js';
import { abortedError, withRetries, type RetryLoopOptions } from './retryLoop.js';

/**
 * A running piece is split only while it has this much not yet started:
 * twice the client's flow-control window (see connect.ts), which its
 * server may have sent ahead already.
 */
const STEAL_AT_LEAST = 16 * 1024 * 1024;

/** The block list all ranges are checked against, and the replica it came from. */
interface Reference {
  list: BlockList;
  /** Its version of the file is the list's: calls to it pin that version. */
  source: string;
}

export interface SegmentedDownload {
  context: DownloadContext;
  name: string;
  paths: OutputPaths;
  record: TaskRecord | undefined;
  /** Segments asked for; clamped to the file's blocks. */
  segments: number;
  options: DownloadOptions;
  limiter: RateLimiter | undefined;
  trust: ReplicaTrust;
  retry: RetryLoopOptions;
  /** Whether the partial is to be emptied first (nothing on disk belongs to the file as it is). */
  fresh: boolean;
}

export interface SegmentedResult {
  remote: RemoteFile;
  sha256: string;
  /** Bytes verified on disk before the first range was asked for. */
  resumedFrom: number;
  bytesReceived: number;
  attempts: number;
}

/**
 * The list of the content the replicas agree on (see agreedDigest): two
 * asked at once, one more for each disagreement; a replica whose list is
 * of other content is excluded for the file and told as a retry notice.
 * Undefined when no replica has block lists (older servers).
 */
async function referenceList(run: SegmentedDownload, notice: (error: ClientError, replica: string) => void): Promise<Reference | undefined> {
  const { trust, name, options, context } = run;
  const candidates = trust.entries.filter((entry) => !trust.excluded.has(entry));
  const lists = new Map<string, BlockList>();
  const answers: ListAnswer[] = [];
  let failure: ClientError | undefined;
  let unimplemented = 0;
  const ask = async (entry: string) => {
    try {
      const list = await fetchBlockList(trust.replicas.client(entry), name, { signal: options.signal, secure: context.secure });
      if (!list) {
        unimplemented += 1;
        return;
      }
      lists.set(entry, list);
      answers.push({ entry, sha256: list.remote.sha256 });
    } catch (err) {
      if (options.signal?.aborted) throw abortedError(name, options.signal, err);
      failure ??= toClientError(err, context);
      // Down, most likely: the lanes try it last.
      trust.failing.add(entry);
      trace.retry('%s: no block list from %s: %s', name, entry, (err as Error).message);
    }
  };
  let next = Math.min(2, candidates.length);
  await Promise.all(candidates.slice(0, next).map(ask));
  // Two that agree, when there are two to ask; one more per disagreement or failure.
  while (next < candidates.length && (answers.length < 2 || !agreedDigest(answers))) {
    await ask(candidates[next]!);
    next += 1;
  }
  const agreed = agreedDigest(answers);
  if (answers.length === 0) {
    if (failure && unimplemented === 0) throw failure;
    return undefined;
  }
  if (!agreed) {
    const told = answers.map((answer) => `${answer.entry} ${answer.sha256.slice(0, 12)}…`).join(', ');
    throw new RemoteStatusError(status.FAILED_PRECONDITION, `the replicas disagree on the content of ${name} (${told}); try again once they are in sync`);
  }
  for (const entry of agreed.odd) {
    if (!trust.exclude(entry)) continue;
    notice(
      new RemoteStatusError(
        status.FAILED_PRECONDITION,
        `${entry} holds other content for ${name} (sha256 ${lists.get(entry)!.remote.sha256}); it is not asked again for this file`,
      ),
      entry,
    );
  }
  const source = answers.find((answer) => answer.sha256 === agreed.sha256)!.entry;
  const list = lists.get(source)!;
  trust.replicas.blockSize = list.blockSize;
  return { list, source };
}

/**
 * Fetches one file as several ranges at once (see FileClientOptions.segments)
 * into a sparse partial: each lane takes a piece of the blocks still
 * missing, from the least busy trusted replica on a connection of its own,
 * checks every block the moment it is complete and records it verified in
 * the task map; a lane that runs out takes half of the largest piece left.
 * A bad block or a replica with other content excludes that replica for
 * the file (when another is left) and its lane goes on elsewhere from the
 * block; the other lanes go on undisturbed. A resume keeps the recorded
 * blocks that still hash right, and fetches only the others.
 *
 * Undefined when the file cannot be fetched so (no replica serves block
 * lists, or it is a single block): the caller fetches it as one stream.
 */
export async function downloadInSegments(run: SegmentedDownload): Promise<SegmentedResult | undefined> {
  const { context, name, options } = run;
  let notices = 0;
  const notice = (error: ClientError, replica: string | undefined, delayMs = 0) => {
    notices += 1;
    options.onRetry?.({ name, attempt: notices + 1, delayMs, fromZero: false, error, ...(replica ? { replica } : {}) });
  };
  let reference = await withRetries(() => referenceList(run, notice), run.retry);
  if (!reference || blocksIn(reference.list.remote.size, reference.list.blockSize) < 2) return undefined;

  let { fresh } = run;
  let attempts = 0;
  let bytesReceived = 0;
  let resumedFrom: number | undefined;
  let progressed = false;
  const done = await withRetries(
    async (attempt) => {
      attempts = attempt;
      progressed = false;
      reference ??= await referenceList(run, notice);
      if (!reference) throw new RemoteStatusError(status.UNIMPLEMENTED, `no replica serves the block list of ${name} any more`);
      const { list } = reference;
      const partial = await SparsePartial.open(context.out, run.paths.partPath, fresh);
      try {
        // The record as this run left it: blocks verified by an attempt before are kept too.
        const verified = await keptBlocks(partial, list, fresh ? undefined : (context.store.get(name) ?? run.record), options.signal);
        fresh = false;
        await partial.resize(list.remote.size);
        resumedFrom ??= Math.min(list.remote.size, verified.count * list.blockSize);
        options.onStart?.({ name, size: list.remote.size, offset: resumedFrom, attempt });
        const lanes = new Lanes(run, reference, partial, verified, resumedFrom, notice);
        try {
          await lanes.run();
        } finally {
          bytesReceived += lanes.bytesReceived;
          progressed = lanes.bytesReceived > 0;
        }
        await partial.sync();
        return { remote: list.remote, sha256: list.remote.sha256 };
      } finally {
        await partial.close();
      }
    },
    {
      ...run.retry,
      progressed: () => progressed,
      beforeRetry: async (fromZero) => {
        if (!fromZero) return;
        // The file changed: another list, and nothing kept.
        reference = undefined;
        fresh = true;
      },
    },
  );
  return { ...done, resumedFrom: resumedFrom ?? 0, bytesReceived, attempts };
}

/**
 * The blocks of the partial that may be kept: those the task map recorded
 * verified (and, after each recorded run, those verified since and not yet
 * recorded when the client stopped), or for a partial written as one
 * stream the whole blocks of its length; each hashed again and kept only
 * if it matches the list, so a partial damaged since, or a hole where
 * bytes never reached the disk, costs only its blocks.
 */
async function keptBlocks(partial: SparsePartial, list: BlockList, record: TaskRecord | undefined, signal: AbortSignal | undefined): Promise<BlockSet> {
  const { blockSize } = list;
  const size = list.remote.size;
  const total = blocksIn(size, blockSize);
  const kept = new BlockSet();
  // Bytes of another content (the file changed since) are not worth a read.
  if (record?.sha256 != null && record.sha256 !== list.remote.sha256) return kept;
  const matches = async (index: number) => {
    const digest = await partial.digestOf(index * blockSize, Math.min(size, (index + 1) * blockSize), signal);
    return digest.equals(digestOf(list.digests, index));
  };
  const recorded = record?.verifiedBlocks;
  if (recorded && recorded.blockSize === blockSize) {
    const ranges = recorded.ranges.filter(([, end]) => end <= total);
    for (const [start, end] of ranges) for (let index = start; index < end; index += 1) if (await matches(index)) kept.add(index);
    // Blocks verified after the last save of the map: each run goes on until a block does not match.
    for (const [, end] of ranges) for (let index = end; index < total && !kept.has(index) && (await matches(index)); index += 1) kept.add(index);
    return kept;
  }
  const length = Math.min(await partial.length(), size);
  const whole = length === size ? total : Math.floor(length / blockSize);
  for (let index = 0; index < whole; index += 1) if (await matches(index)) kept.add(index);
  return kept;
}

/** The lanes of one attempt (see downloadInSegments). */
class Lanes {
  private readonly list: BlockList;
  private readonly size: number;
  private readonly queue: Piece[];
  private readonly running: Piece[] = [];
  private readonly stop = new AbortController();
  private readonly signal: AbortSignal;
  private readonly lanes: number;
  private lastProgressAt = Date.now();
  bytesReceived = 0;

  constructor(
    private readonly job: SegmentedDownload,
    private readonly reference: Reference,
    private readonly partial: SparsePartial,
    private readonly verified: BlockSet,
    private readonly resumedFrom: number,
    private readonly notice: (error: ClientError, replica: string | undefined, delayMs?: number) => void,
  ) {
    this.list = reference.list;
    this.size = reference.list.remote.size;
    const total = blocksIn(this.size, this.list.blockSize);
    this.lanes = clampSegments(job.segments, total - verified.count);
    this.queue = planPieces(verified.missing(total), this.lanes);
    this.signal = job.options.signal ? AbortSignal.any([job.options.signal, this.stop.signal]) : this.stop.signal;
  }

  /** Runs every lane to its end; the first error that ends one stops the others and is thrown. */
  async run(): Promise<void> {
    let fatal: unknown;
    await Promise.all(
      Array.from({ length: this.lanes }, async (_, lane) => {
        try {
          for (let piece = this.take(); piece; piece = this.take()) {
            this.running.push(piece);
            try {
              await this.fetchPiece(lane, piece);
            } finally {
              this.running.splice(this.running.indexOf(piece), 1);
            }
          }
        } catch (err) {
          fatal ??= err;
          this.stop.abort();
        }
      }),
    );
    if (fatal !== undefined) {
      if (this.job.options.signal?.aborted) throw abortedError(this.job.name, this.job.options.signal, fatal);
      throw fatal;
    }
  }

  /** The next piece: one not started, or the back half of the largest one running. */
  private take(): Piece | undefined {
    const piece = this.queue.shift();
    if (piece) return piece;
    const steal = stealFrom(this.running, Math.ceil(STEAL_AT_LEAST / this.list.blockSize));
    if (!steal) return undefined;
    const taken = { next: steal.cut, end: steal.piece.end };
    steal.piece.end = steal.cut;
    return taken;
  }

  /** Fetches `piece` to its end (which a stealing lane may bring closer), through failures that leave a replica to go on with. */
  private async fetchPiece(lane: number, piece: Piece): Promise<void> {
    const { trust, name } = this.job;
    let failuresWithoutProgress = 0;
    let blockFailures = 0;
    while (piece.next < piece.end) {
      this.signal.throwIfAborted();
      const route = trust.route(lane);
      if (!route) throw new RemoteStatusError(status.UNAVAILABLE, `no replica is left to fetch ${name} from`);
      const entry = route.entry!;
      const leave = trust.enter(entry);
      const before = this.bytesReceived;
      try {
        await this.fetchRange(route.client, entry, piece);
        trust.failing.delete(entry);
      } catch (err) {
        if (this.signal.aborted) throw err;
        const error = toClientError(err, this.job.context);
        if (this.bytesReceived > before) failuresWithoutProgress = 0;
        const verdict = this.verdict(error, entry);
        if (verdict === 'exclude') {
          this.notice(error, entry);
          continue;
        }
        const decision = decideRetry(
          error,
          {
            failuresWithoutProgress,
            msSinceProgress: Date.now() - this.lastProgressAt,
            restarts: 0,
            digestFailures: 0,
            blockFailures,
            attemptOffset: piece.next * this.list.blockSize,
            // Replicas answered for the reference list: one down now went away, it was not a wrong address.
            serverReached: true,
          },
          { retryForMs: this.job.context.retryForMs },
        );
        trace.retry('%s: lane %d on %s failed (%s: %s): %j', name, lane, entry, error.kind, error.message, decision);
        if (verdict === 'fatal' || decision.action === 'fail' || decision.fromZero) throw error;
        failuresWithoutProgress += 1;
        if (decision.reason === 'block') blockFailures += 1;
        else trust.failing.add(entry);
        this.notice(error, entry, decision.delayMs);
        await sleep(decision.delayMs, undefined, { signal: this.signal }).catch(() => undefined);
      } finally {
        leave();
      }
    }
  }

  /**
   * What a failed range call means for its replica: exclude it (a bad
   * block, or other content than the list's, with another replica left),
   * fatal (the list's own replica says the file changed: start over), or
   * the retry policy's to decide.
   */
  private verdict(error: ClientError, entry: string): 'exclude' | 'fatal' | 'policy' {
    const { trust } = this.job;
    if (error instanceof BlockMismatchError) return error.elsewhere ? 'exclude' : 'policy';
    const otherContent =
      error.kind === 'protocol' || (error.kind === 'remote-status' && [status.FAILED_PRECONDITION, status.OUT_OF_RANGE, status.NOT_FOUND].includes(error.code));
    if (!otherContent) return 'policy';
    if (entry === this.reference.source && error.kind === 'remote-status' && error.code === status.FAILED_PRECONDITION) return 'fatal';
    return trust.exclude(entry) ? 'exclude' : 'fatal';
  }

  /** One Download call for the rest of `piece`, each block checked as it completes. */
  private async fetchRange(client: FileServiceClient, entry: string, piece: Piece): Promise<void> {
    const { name, options, context, limiter } = this.job;
    const { blockSize } = this.list;
    const start = piece.next * blockSize;
    const endOf = () => Math.min(this.size, piece.end * blockSize);
    const asked = endOf();
    const call = client.download({
      name,
      offset: String(start),
      limit: String(asked - start),
      // Only the list's replica knows the version by that name; any other
      // proves its content by the whole digest, when it knows its own.
      expectedVersion: entry === this.reference.source ? this.list.remote.version : '',
      expectedSha256: this.list.remote.sha256,
      prefixSha256: '',
    });
    if (limiter) readOneAhead(call);
    const blocks = new BlockRun(blockSize, piece.next, this.size, this.list.digests);
    blocks.onVerified = (index) => {
      this.verified.add(index);
      piece.next = Math.max(piece.next, index + 1);
      this.lastProgressAt = Date.now();
      void context.store
        .markIncomplete(
          name,
          { size: this.size, version: this.list.remote.version, sha256: this.list.remote.sha256 },
          { blockSize, ranges: this.verified.ranges() },
        )
        .catch(() => undefined);
      options.onProgress?.({ name, received: Math.min(this.size, this.verified.count * blockSize), size: this.size, attemptOffset: this.resumedFrom });
    };
    let remote: RemoteFile | undefined;
    let position = start;
    const watch = watchCall(call, context.stallTimeoutMs, this.signal);
    try {
      for await (const message of call as AsyncIterable<Chunk__Output>) {
        watch.busy();
        if (remote === undefined) {
          remote = firstMessageFile(name, message);
          if (remote.size !== this.size || (remote.sha256 !== '' && remote.sha256 !== this.list.remote.sha256)) {
            throw new ProtocolError(name, `${entry} has other content (${remote.size} bytes, sha256 ${remote.sha256 || 'unknown'})`);
          }
        }
        if (message.data.length > 0) {
          if (message.offset !== String(position)) throw new ProtocolError(name, `data for offset ${message.offset} arrived at ${position}`);
          const data = message.data.subarray(0, Math.max(0, endOf() - position));
          this.partial.write(data, position);
          position += data.length;
          this.bytesReceived += data.length;
          blocks.update(data);
          // Written and hashed, held by nothing else: its memory can take the next message.
          receiveBuffers.give(message.data);
          if (blocks.bad !== undefined) {
            throw new BlockMismatchError(name, blocks.bad, blockSize, entry, this.job.trust.exclude(entry));
          }
          if (limiter) await limiter.take(data.length, this.signal);
          // A stealing lane took the rest: this one is done. Not when the
          // range asked for is complete: the server's end of the call
          // follows, and cancelling first would race it (the server logged
          // such a finished call as CANCELLED).
          if (endOf() < asked && position >= endOf()) break;
        }
        watch.waiting();
      }
    } catch (err) {
      throw watch.explain(err, context.secure);
    } finally {
      watch.stop();
      // Leaving the loop early does not end a grpc-js call; its CANCELLED
      // status then comes as an error nobody else listens to.
      call.on('error', () => undefined);
      call.cancel();
    }
    if (position < endOf()) throw new RemoteStatusError(status.UNAVAILABLE, `the range of ${name} from ${entry} ended at byte ${position} of ${endOf()}`);
  }
}
