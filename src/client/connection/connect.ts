import * as grpc from '@grpc/grpc-js';
import type { FileServiceClient } from '../../generated/filetransfer/v1/FileService.js';
import { loadFileTransfer } from '../../shared/proto.js';
import { channelTarget } from './serverTarget.js';
import { registerHostLists } from './hostListResolver.js';
import { installPooledDecoder } from '../../shared/receiveBuffers.js';

// The client's HTTP/2 flow-control window bounds a stream's throughput to
// window/RTT; grpc-js's 64 KiB default is the main cost on fast links.
const MAX_WINDOW = 8 * 1024 * 1024;
const MIN_WINDOW = 64 * 1024;

const ROUND_ROBIN = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

export interface ConnectOptions {
  credentials?: grpc.ChannelCredentials;
  /** Sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** Bytes per second the caller paces downloads to, if it does. */
  limitRate?: number;
  /** More grpc-js channel options; they win over ours; interceptors (or providers) run after the token's. */
  channelOptions?: grpc.ChannelOptions;
}

/**
 * A paced download needs only a quarter second of data in flight; a larger
 * window would just let the server run further ahead into our memory.
 */
export function flowControlWindow(limitRate: number | undefined): number {
  if (limitRate === undefined) return MAX_WINDOW;
  return Math.min(MAX_WINDOW, Math.max(MIN_WINDOW, Math.floor(limitRate / 4)));
}

/**
 * A bearer token sent without TLS can be read by anyone on the path; on
 * loopback there is no path. Says so for any other server, or undefined.
 */
export function plaintextTokenWarning(server: string, secure: boolean, token: string | undefined): string | undefined {
  if (token === undefined || secure || isLoopback(server)) return undefined;
  return `the token is sent to ${server} without TLS, readable by anyone on the network path; give --tls-ca (or credentials) to encrypt it`;
}

/** Whether every address of a target (host:port, or a gRPC target such as ipv4:a:p,b:p) is on this machine. */
function isLoopback(server: string): boolean {
  if (server.startsWith('unix:')) return true;
  const addresses = channelTarget(server)
    .replace(/^(dns|ipv4|ipv6|hosts):(\/\/[^/]*\/)?/, '')
    .split(',');
  return addresses.every((address) => {
    const bracketed = /^\[(.*)\](:\d+)?$/.exec(address);
    // A bare IPv6 address has colons of its own, and no port.
    const host = bracketed ? bracketed[1] : address.split(':').length > 2 ? address : address.replace(/:\d+$/, '');
    // 127.0.0.0/8, also written as an IPv4-mapped IPv6 address.
    return host === 'localhost' || host === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(host!);
  });
}

export function connect(server: string, options: ConnectOptions = {}): FileServiceClient {
  installPooledDecoder();
  const { FileService } = loadFileTransfer();
  const { interceptors = [], interceptor_providers: providers = [], ...extra } = options.channelOptions ?? {};
  const auth: grpc.Interceptor[] = options.token === undefined ? [] : [bearer(options.token)];
  // grpc-js refuses interceptors beside interceptor providers: the token's
  // goes with whichever kind the caller uses.
  const chain =
    providers.length > 0
      ? { interceptor_providers: [...auth.map((interceptor) => () => interceptor), ...providers] }
      : { interceptors: [...auth, ...interceptors] };
  registerHostLists();
  return new FileService(channelTarget(server), options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc-node.flow_control_window': flowControlWindow(options.limitRate),
    // Calls spread over every replica a target names; one that is down
    // (connection refused) is skipped rather than waited for.
    'grpc.service_config': ROUND_ROBIN,
    // Ours, not one a DNS TXT record offers, which would win over it: the
    // failover above relies on round_robin, and the bundled command cannot
    // load the .proto files grpc-js's weighted_round_robin needs.
    'grpc.service_config_disable_resolution': 1,
    ...extra,
    ...chain,
  });
}

/**
 * Adds the token to each call's metadata. An interceptor, not call
 * credentials: grpc-js refuses call credentials on a plaintext channel, and
 * a token may be used on loopback without TLS.
 */
function bearer(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}
