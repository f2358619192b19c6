// @ts-nocheck
import { isIPv4, isIPv6 } from 'node:net';

export const DEFAULT_PORT = 50051;

/** Our scheme for a list with host names, which no grpc-js resolver takes (see HostListResolver). */
export const HOST_LIST_SCHEME = 'hosts';

/**
 * Checks --server before anything dials it, and adds the port when it is
 * left out. grpc-js would dial 443 for a bare host, and retry the name
 * resolution of a URL or a trailing slash until --retry-for ran out.
 * A comma-separated list of replicas becomes one target (see listTarget).
 * Returns the target for grpc-js.
 */
export function parseServer(text: string): string {
  const target = text.trim();
  // commander names the flag and the value before this.
  const refuse = (why: string) => new RangeError(`${why[0]!.toUpperCase()}${why.slice(1)}`);
  const url = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)/i.exec(target);
  if (url && !/^(dns|unix|ipv4|ipv6)$/i.test(url[1]!)) {
    const address = hostPort(url[2]!.replace(/^.*@/, ''));
    throw refuse(`give host:port, not a URL${address ? `, e.g. ${address}` : ''}`);
  }
  const scheme = /^(dns|ipv4|ipv6|unix|unix-abstract):/i.exec(target)?.[1]?.toLowerCase();
  // grpc-js has no resolver for it: it would try the whole text as a DNS name.
  if (scheme === 'unix-abstract') throw refuse('abstract sockets (unix-abstract:) are not something grpc-js can dial; give unix:/path/to/socket');
  if (scheme === 'unix') {
    if (target.length === scheme.length + 1) throw refuse('give the socket path after unix:');
    return target;
  }
  if (scheme === 'dns') {
    const match = /^dns:(\/\/[^/]*\/)?(.*)$/i.exec(target)!;
    const address = hostPort(match[2]!);
    if (address === undefined) throw refuse('give dns:///host:port');
    return `dns:${match[1] ?? ''}${address}`;
  }
  if (scheme === 'ipv4' || scheme === 'ipv6') {
    // ipv4:///a:p,b:p: grpc-js's empty authority.
    const list = target.slice(scheme.length + 1).replace(/^\/\/\//, '');
    const example = scheme === 'ipv4' ? 'ipv4:127.0.0.1:50051[,...]' : 'ipv6:[::1]:50051[,...]';
    if (list === '') throw refuse(`give ${example}`);
    const addresses = list.split(',').map((entry) => {
      const address = hostPort(scheme === 'ipv6' && !entry.startsWith('[') ? `[${entry}]` : entry);
      if (address === undefined || (scheme === 'ipv4') === address.startsWith('[')) {
        throw refuse(`give ${example}; ${JSON.stringify(entry)} is not an ${scheme.toUpperCase()} address`);
      }
      return address;
    });
    return `${scheme}:${addresses.join(',')}`;
  }
  if (target.includes(',')) {
    const entries = target.split(',').map((entry) => {
      const address = hostPort(entry.trim());
      if (address === undefined)
        throw refuse(`${JSON.stringify(entry.trim())} in the server list is not host[:port]; give e.g. 127.0.0.1:50051,127.0.0.2:50051`);
      return address;
    });
    return listTarget(entries);
  }
  const address = hostPort(target);
  if (address === undefined) {
    const why =
      (target.match(/:/g) ?? []).length > 1 && !target.startsWith('[')
        ? 'put an IPv6 address in brackets, e.g. [::1]:50051'
        : 'give host:port, e.g. 127.0.0.1:50051';
    throw refuse(why);
  }
  return address;
}

/** host, host:port, [v6] or [v6]:port with the default port added; undefined if it is none of those. */
function hostPort(text: string): string | undefined {
  const match = /^(\[[0-9a-f.]*:[0-9a-f:.]*\]|[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?)(?::(\d{1,5}))?$/i.exec(text);
  if (!match) return undefined;
  const port = match[3] === undefined ? DEFAULT_PORT : Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return `${match[1]}:${port}`;
}

/**
 * One grpc-js target for several replicas (each host:port with its port):
 * grpc-js's own ipv4:/ipv6: when all are addresses of one family; else our
 * `hosts:` scheme, whose resolver looks every name up (grpc-js has no
 * target for several names, and takes a comma list as one DNS name).
 */
function listTarget(entries: string[]): string {
  const hosts = entries.map((entry) => entry.replace(/:\d+$/, ''));
  if (hosts.every((host) => isIPv4(host))) return `ipv4:${entries.join(',')}`;
  if (hosts.every((host) => host.startsWith('[') && isIPv6(host.slice(1, -1)))) return `ipv6:${entries.join(',')}`;
  return `${HOST_LIST_SCHEME}:${entries.join(',')}`;
}

/**
 * The target a library caller's `server` stands for: a plain comma list
 * is checked and mapped like --server's (a RangeError names a bad entry);
 * anything else goes to grpc-js as given.
 */
export function channelTarget(server: string): string {
  return server.includes(',') && !/^[a-z][a-z0-9+.-]*:(?!\d)/i.test(server) ? parseServer(server) : server;
}
