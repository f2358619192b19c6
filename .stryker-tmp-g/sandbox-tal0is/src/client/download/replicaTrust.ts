// @ts-nocheck
import type { FileServiceClient } from '../../generated/filetransfer/v1/FileService.js';
import { pickReplica, type ReplicaSet } from '../connection/replicas.js';

/** Where a call goes: a replica's own client, or the channel over all of them. */
export interface Route {
  client: FileServiceClient;
  /** The replica, when the call is bound to one (always, for a single server). */
  entry: string | undefined;
}

/**
 * Which replicas one file may still come from. A replica that sent a bad
 * block or holds other content is excluded for the rest of the file, as
 * long as another is left; one whose call just failed is tried last.
 */
export class ReplicaTrust {
  readonly excluded = new Set<string>();
  readonly failing = new Set<string>();
  readonly busy = new Map<string, number>();

  constructor(readonly replicas: ReplicaSet) {}

  get entries(): readonly string[] {
    return this.replicas.entries;
  }

  /** The replica a call's peer (host:port) names, or the peer itself when it is none of ours. */
  replicaOf(peer: string): string {
    return this.replicas.entryOfPeer(peer) ?? peer;
  }

  /** Whether a replica other than `replica` (and the excluded) is left. */
  hasOtherThan(replica: string): boolean {
    return this.entries.some((entry) => entry !== replica && !this.excluded.has(entry));
  }

  /** Excludes `replica` when another is left; says whether it did. */
  exclude(replica: string): boolean {
    if (!this.hasOtherThan(replica)) return false;
    this.excluded.add(replica);
    return true;
  }

  /**
   * The route of a single stream's next call: the channel over every
   * replica (grpc-js spreads calls and skips the ones down) until one was
   * excluded, then the client of a replica still trusted.
   */
  streamRoute(): Route {
    if (this.entries.length === 1) return { client: this.replicas.shared, entry: this.entries[0] };
    if (this.excluded.size === 0) return { client: this.replicas.shared, entry: undefined };
    return this.route(0) ?? { client: this.replicas.shared, entry: undefined };
  }

  /** A trusted replica for lane `lane` (a connection of its own), least busy first; undefined when none is left. */
  route(lane: number): Route | undefined {
    const entry = pickReplica(this.entries, this, this.replicas.turn++);
    return entry === undefined ? undefined : { client: this.replicas.client(entry, lane), entry };
  }

  /** Counts a call on `entry` while it runs; returns its end. */
  enter(entry: string): () => void {
    this.busy.set(entry, (this.busy.get(entry) ?? 0) + 1);
    return () => this.busy.set(entry, (this.busy.get(entry) ?? 1) - 1);
  }
}
