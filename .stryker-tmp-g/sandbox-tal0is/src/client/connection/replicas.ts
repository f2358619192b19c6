// @ts-nocheck
import type { FileServiceClient } from '../../generated/filetransfer/v1/FileService.js';
import { connect, type ConnectOptions } from './connect.js';
import { channelTarget, HOST_LIST_SCHEME } from './serverTarget.js';

/**
 * The replicas a --server names: one entry per host:port of a comma list
 * (`ipv4:`, `ipv6:` or our `hosts:` target), else the target itself as
 * the only one (a single server, or a `dns:` name whose addresses grpc-js
 * spreads calls over and which cannot be told apart beforehand).
 */
export function replicaEntries(server: string): string[] {
  const target = channelTarget(server);
  const list = new RegExp(`^(ipv4|ipv6|${HOST_LIST_SCHEME}):(?:///)?(.*,.*)$`).exec(target);
  return list ? list[2]!.split(',') : [target];
}

/**
 * A client per replica (and per lane, for a download in segments, each on
 * a connection of its own), beside the channel that spreads calls over all
 * of them: a call must go to a chosen replica to know who sent a block and
 * to keep away from one that sent a bad block.
 */
export class ReplicaSet {
  readonly entries: readonly string[];
  private readonly clients = new Map<string, FileServiceClient>();
  /** Turns for pickReplica, shared by the downloads of this client so that they start on different replicas. */
  turn = 0;
  /** The block size of the last block list a replica gave: files no larger are one block, with no list to ask for. */
  blockSize: number | undefined;

  constructor(
    server: string,
    private readonly options: ConnectOptions,
    /** The channel over every replica, or the single server's. */
    readonly shared: FileServiceClient,
  ) {
    this.entries = replicaEntries(server);
  }

  /** The entry a call's peer (grpc-js getPeer: host:port) is, if it is one of ours. */
  entryOfPeer(peer: string): string | undefined {
    return this.entries.find((entry) => entry === peer);
  }

  /**
   * A client for `entry`. Lane 0 of a single server is the shared channel;
   * every other lane gets a connection of its own, which is what lets
   * segments of one server flow side by side.
   */
  client(entry: string, lane = 0): FileServiceClient {
    if (this.entries.length === 1 && lane === 0) return this.shared;
    const key = `${lane} ${entry}`;
    let client = this.clients.get(key);
    if (!client) {
      const channelOptions = lane === 0 ? this.options.channelOptions : { ...this.options.channelOptions, 'grpc.use_local_subchannel_pool': 1 };
      client = connect(entry, { ...this.options, channelOptions });
      this.clients.set(key, client);
    }
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/** What pickReplica weighs, per entry. */
export interface ReplicaLoad {
  /** Never to be used again for this file (a bad block, other content). */
  excluded: ReadonlySet<string>;
  /** Calls running on each entry now. */
  busy: ReadonlyMap<string, number>;
  /** Entries whose last call failed without a verdict on their bytes (down, cut): tried last. */
  failing: ReadonlySet<string>;
}

/**
 * The replica the next call goes to: of those not excluded, one whose last
 * call did not fail if any, then the least busy, ties broken by `turn`
 * (a counter the caller advances) so that calls rotate over equals.
 * Undefined when every replica is excluded.
 */
export function pickReplica(entries: readonly string[], load: ReplicaLoad, turn: number): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (let k = 0; k < entries.length; k += 1) {
    const entry = entries[(turn + k) % entries.length]!;
    if (load.excluded.has(entry)) continue;
    const score = (load.failing.has(entry) ? 1_000_000 : 0) + (load.busy.get(entry) ?? 0);
    if (score < bestScore) {
      best = entry;
      bestScore = score;
    }
  }
  return best;
}
