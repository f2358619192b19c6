// @ts-nocheck
import * as grpc from '@grpc/grpc-js';
import { lookup } from 'node:dns/promises';
import { DEFAULT_PORT, HOST_LIST_SCHEME } from './serverTarget.js';

/**
 * Resolves a `hosts:` list: every name's addresses (dns.lookup, as for a
 * single host:port), each with its entry's port. A name that does not
 * resolve is left out, like a replica that is down; none at all is
 * UNAVAILABLE, as for one unresolvable name. grpc-js asks again when a
 * connection fails, so names that move are followed.
 */
class HostListResolver implements grpc.experimental.Resolver {
  private generation = 0;
  private readonly entries: { host: string; port: number }[];

  constructor(
    target: grpc.experimental.GrpcUri,
    private readonly listener: grpc.experimental.ResolverListener,
  ) {
    this.entries = target.path.split(',').map((entry) => {
      const { host, port } = grpc.experimental.splitHostPort(entry)!;
      return { host, port: port ?? DEFAULT_PORT };
    });
  }

  updateResolution(): void {
    const generation = ++this.generation;
    void Promise.allSettled(this.entries.map(({ host }) => lookup(host, { all: true }))).then((results) => {
      if (generation !== this.generation) return;
      const endpoints = results.flatMap((result, index) =>
        result.status === 'fulfilled' ? result.value.map(({ address }) => ({ addresses: [{ host: address, port: this.entries[index]!.port }] })) : [],
      );
      if (endpoints.length > 0) {
        this.listener(grpc.experimental.statusOrFromValue(endpoints), {}, null, '');
        return;
      }
      const names = this.entries.map(({ host }) => host).join(', ');
      const error = { code: grpc.status.UNAVAILABLE, details: `none of ${names} resolves to an address`, metadata: new grpc.Metadata() };
      this.listener(grpc.experimental.statusOrFromError(error), {}, null, '');
    });
  }

  destroy(): void {
    this.generation += 1;
  }

  static getDefaultAuthority(target: grpc.experimental.GrpcUri): string {
    return target.path.split(',')[0]!;
  }
}

/** Lets grpc-js channels take `hosts:` targets; idempotent. */
export function registerHostLists(): void {
  grpc.experimental.registerResolver(HOST_LIST_SCHEME, HostListResolver);
}
