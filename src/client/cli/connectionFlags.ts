import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';

export interface ConnectionFlags {
  server: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tokenFile?: string;
}

const DEFAULT_PORT = 50051;

/** A parser whose RangeError becomes commander's usage error (exit 2). */
export const usageParser =
  <T>(parse: (text: string) => T) =>
  (text: string): T => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };

/**
 * Checks --server before anything dials it, and adds the port when it is
 * left out. grpc-js would dial 443 for a bare host, and retry the name
 * resolution of a URL or a trailing slash until --retry-for ran out.
 * Returns the target for grpc-js.
 */
export function parseServer(text: string): string {
  const target = text.trim();
  // commander names the flag and the value before this.
  const refuse = (why: string) => new RangeError(`${why[0]!.toUpperCase()}${why.slice(1)}`);
  const url = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)/i.exec(target);
  if (url && !/^(dns|unix)$/i.test(url[1]!)) {
    const address = hostPort(url[2]!.replace(/^.*@/, ''));
    throw refuse(`give host:port, not a URL${address ? `, e.g. ${address}` : ''}`);
  }
  const scheme = /^(dns|ipv4|ipv6|unix|unix-abstract):/i.exec(target)?.[1]?.toLowerCase();
  if (scheme === 'unix' || scheme === 'unix-abstract') {
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
    const list = target.slice(scheme.length + 1);
    const addresses = list.split(',').map((entry) => hostPort(scheme === 'ipv6' && !entry.startsWith('[') ? `[${entry}]` : entry));
    const wrongFamily = addresses.some((a) => a === undefined || (scheme === 'ipv4') === a.startsWith('['));
    if (list === '' || wrongFamily) throw refuse(`give ${scheme === 'ipv4' ? 'ipv4:127.0.0.1:50051[,...]' : 'ipv6:[::1]:50051[,...]'}`);
    return `${scheme}:${addresses.join(',')}`;
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

/** The flags every command that talks to a server shares. */
export function addConnectionFlags(command: Command): Command {
  return command
    .addOption(
      new Option(
        '-s, --server <host:port>',
        `address of the grpc-server: host[:port] (port ${DEFAULT_PORT} if left out), [ipv6]:port, or a gRPC target (dns:, ipv4:, ipv6:, unix:)`,
      )
        .env('GRPC_FILE_SERVER')
        .default(`127.0.0.1:${DEFAULT_PORT}`)
        .argParser(usageParser(parseServer)),
    )
    .option('--tls-ca <file>', "PEM CA to verify the server's certificate: connect with TLS")
    .option('--tls-cert <file>', 'PEM client certificate, for servers that require one (mTLS)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--token-file <file>', 'file whose first line is the bearer token (or set GRPC_FILE_TOKEN)');
}

/** Credentials and token from the flags; a missing or unreadable file is one clear error. */
export async function resolveConnection(flags: ConnectionFlags): Promise<{ credentials?: grpc.ChannelCredentials; token?: string }> {
  const read = (file: string) => readFile(file).catch((err: Error) => Promise.reject(new Error(`cannot read ${file}: ${err.message}`)));
  let credentials: grpc.ChannelCredentials | undefined;
  if (flags.tlsCa || flags.tlsCert || flags.tlsKey) {
    if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey)) throw new Error('--tls-cert and --tls-key go together');
    // Loaded here, not at the top: --help and the offline commands never dial.
    const { credentials: make } = await import('@grpc/grpc-js');
    credentials = make.createSsl(
      flags.tlsCa ? await read(flags.tlsCa) : null,
      flags.tlsKey ? await read(flags.tlsKey) : null,
      flags.tlsCert ? await read(flags.tlsCert) : null,
    );
  }
  let token = process.env.GRPC_FILE_TOKEN || undefined;
  if (flags.tokenFile) {
    token = (await read(flags.tokenFile)).toString('utf8').split(/\r?\n/)[0]!.trim();
    if (token === '') throw new Error(`the token file ${flags.tokenFile} is empty`);
  }
  return { credentials, token };
}
