// @ts-nocheck
import { fetchBlockList, type BlockList } from '../blocks/blockList.js';
import { BlockMismatchError, ProtocolError, type ClientError } from '../errors.js';
import type { RemoteFile } from '../remoteFile.js';
import { trace } from '../trace.js';
import type { ReplicaTrust, Route } from './replicaTrust.js';
import { reusableHash } from './resumePoint.js';
import { StreamHash } from './streamHash.js';

/**
 * The servers' default block size: until a list says otherwise, a file no
 * larger is taken as one block, whose one digest is the whole digest, and
 * gets no list (it also is the size blocks are guessed by until one comes).
 */
const DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024;

/**
 * Whether a download of `size` bytes from `offset` asks for the block list.
 * Not for a file of one block, nor from offset 0 when the server does not
 * know the digest yet: it then hashes the file, blocks too, from the very
 * bytes it sends, so a list would cost it a second read of the whole file
 * and tell nothing the whole digest at the end does not.
 */
export function wantsBlockList(size: number, offset: number, serverKnowsDigest: boolean, blockSizeSeen: number | undefined): boolean {
  if (size <= (blockSizeSeen ?? DEFAULT_BLOCK_SIZE)) return false;
  return serverKnowsDigest || offset > 0;
}

export interface StreamBlocksContext {
  name: string;
  secure: boolean;
  trust: ReplicaTrust;
  /** The list came: its whole digest is the file's from now on. */
  onList: (list: BlockList) => void;
}

/**
 * The block checks of one file fetched as a single stream, over all its
 * attempts: the hashes carried between them (see StreamHash), the block
 * list (asked of the replica that streams, pinned to its version, beside
 * the stream), who sent which bytes, and what a bad block means for that
 * replica.
 */
export class StreamBlocks {
  private hash: StreamHash | undefined;
  /** idle: not asked (or not worth it so far); asked: under way; done: had, or none to be had. */
  private listState: 'idle' | 'asked' | 'done' = 'idle';
  /** A failure found beside the stream, for the running attempt to end with. */
  private failure: ClientError | undefined;
  /** Who sent the bytes from each offset on, in order. */
  private senders: { from: number; replica: string }[] = [];
  private readonly stop = new AbortController();
  /** Where the running attempt goes. */
  route: Route;

  constructor(private readonly context: StreamBlocksContext) {
    this.route = context.trust.streamRoute();
  }

  /** The whole digest the block list gave, once it came. */
  get listDigest(): string | undefined {
    return this.hash?.digestOfList;
  }

  /**
   * The hashes an attempt from `offset` of a file of about `size` bytes
   * goes on with: the last attempt's when they end there, else new ones;
   * for a resume of a large file they hash its blocks too, by the block
   * size guessed, in the same read as its whole digest.
   */
  hashesFor(offset: number, size: number | undefined): StreamHash {
    if (reusableHash(this.hash, offset) === undefined) {
      this.hash = new StreamHash(offset);
      if (offset > 0 && (size ?? offset) > this.guess()) this.hash.hashBlocks(this.guess(), size);
      this.listState = 'idle';
    }
    return this.hash!;
  }

  /** The route of the next attempt. */
  attemptStarts(): Route {
    this.route = this.context.trust.streamRoute();
    return this.route;
  }

  /**
   * Whether a resume proves the partial's bytes by their digest: when the
   * digest is at hand, or the call may reach a replica whose version of
   * the file is not the partial's. Reading a large partial back to prove
   * it to the very server it came from would cost a read for nothing.
   */
  provesPrefix(): boolean {
    return !this.hash!.listAsked || this.hash!.wholeReady || this.route.entry === undefined || this.senders.at(-1)?.replica !== this.route.entry;
  }

  /** The attempt ended; `failed` without a byte of progress marks its replica as failing. */
  attemptEnds(failed: boolean): void {
    const replica = this.route.entry;
    if (replica !== undefined && this.context.trust.entries.length > 1) {
      if (failed) this.context.trust.failing.add(replica);
      else this.context.trust.failing.delete(replica);
    }
  }

  /** The replica the current (or last) attempt streamed from, when known. */
  get sender(): string | undefined {
    return this.senders.at(-1)?.replica ?? this.route.entry;
  }

  /** The failure found beside the stream, once. */
  takeFailure(): ClientError | undefined {
    const failure = this.failure;
    this.failure = undefined;
    return failure;
  }

  /** The server described the file to an attempt from `offset` through `peer`; bytes follow. */
  described(remote: RemoteFile, peer: string, offset: number): void {
    const { trust } = this.context;
    const replica = this.route.entry ?? trust.replicaOf(peer);
    this.senders.push({ from: offset, replica });
    trust.failing.delete(replica);
    const hash = this.hash!;
    if (this.listState !== 'idle') return;
    if (!hash.blocksReady || !wantsBlockList(remote.size, offset, remote.sha256 !== '', trust.replicas.blockSize)) {
      hash.noList();
      return;
    }
    this.listState = 'asked';
    hash.askList(this.guess(), remote.size);
    const entry = trust.replicas.entryOfPeer(peer) ?? this.route.entry;
    // The list of the replica that streams: by its own client when it is
    // known, else through the shared channel, where the pinned version
    // refuses a list of any other replica's copy.
    const client = entry === undefined ? trust.replicas.shared : trust.replicas.client(entry);
    const { name } = this.context;
    fetchBlockList(client, name, { expectedVersion: remote.version, signal: this.stop.signal, secure: this.context.secure }).then(
      (list) => {
        if (this.hash !== hash) return;
        if (list && list.remote.size !== remote.size) {
          this.refuse(hash, new ProtocolError(name, `its block list describes ${list.remote.size} bytes, the file has ${remote.size}`));
          return;
        }
        this.listState = 'done';
        trace.plan('%s: block list %s', name, list ? `of ${list.blockSize}-byte blocks` : 'not served (an older server)');
        if (!list) {
          hash.noList();
          return;
        }
        trust.replicas.blockSize = list.blockSize;
        hash.takeList(list);
        this.context.onList(list);
        if (hash.bad !== undefined) hash.onBad?.();
      },
      (err: unknown) => {
        if (this.stop.signal.aborted || this.hash !== hash) return;
        if (err instanceof ProtocolError) {
          this.refuse(hash, err);
          return;
        }
        // Not now (busy, changed, cut): the whole digest judges this file.
        trace.plan('%s: no block list: %s', name, (err as Error).message);
        this.listState = 'done';
        hash.noList();
      },
    );
  }

  /**
   * The error a bad block ends an attempt with. Its sender is excluded for
   * the rest of the file when another replica is left; bytes an earlier
   * run left on disk have no sender to blame.
   */
  badBlock(index: number): BlockMismatchError {
    const blockSize = this.hash?.blockSize ?? 0;
    const start = index * blockSize;
    // The last attempt that wrote from at or before the block wrote it.
    let replica: string | undefined;
    for (const sender of this.senders) if (sender.from <= start) replica = sender.replica;
    const elsewhere = replica === undefined || this.context.trust.exclude(replica);
    trace.retry(
      '%s: block %d is bad (sent by %s); %s',
      this.context.name,
      index,
      replica ?? 'an earlier run',
      elsewhere ? 'fetched elsewhere' : 'no other replica',
    );
    return new BlockMismatchError(this.context.name, index, blockSize, replica, elsewhere);
  }

  /** The download starts over from 0: nothing hashed or listed so far holds. */
  restart(): void {
    this.hash = undefined;
    this.listState = 'idle';
    this.senders = [];
  }

  close(): void {
    this.stop.abort();
  }

  private guess(): number {
    return this.context.trust.replicas.blockSize ?? DEFAULT_BLOCK_SIZE;
  }

  /** A list that does not add up: the attempt ends with its error, and no other is asked for this file. */
  private refuse(hash: StreamHash, err: ProtocolError): void {
    this.listState = 'done';
    hash.noList();
    this.failure = err;
    hash.onBad?.();
  }
}
