// @ts-nocheck
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { DEFAULT_PORT, parseServer } from '../connection/serverTarget.js';

export interface ConnectionFlags {
  server: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tokenFile?: string;
}

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
