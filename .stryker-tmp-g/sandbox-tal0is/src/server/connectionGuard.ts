// @ts-nocheck
import type * as grpc from '@grpc/grpc-js';
import type { ServerHttp2Session } from 'node:http2';
import { Server as NetServer, type Socket } from 'node:net';
import type { Logger } from 'pino';

export interface ConnectionLimits {
  /** Connections open at once; more are closed as soon as they are accepted. */
  maxConnections: number;
  /**
   * How long a new connection has to finish its handshake (TLS, then the
   * HTTP/2 preface and settings), and how long a silent connection without
   * calls has to answer a ping before it is closed.
   */
  handshakeTimeoutMs: number;
}

const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * grpc-js keeps the http2 servers it listens with to itself. Node's own
 * net.Server API on them (maxConnections, 'connection', 'session') is what
 * bounds connections, and no grpc-js option does: neither its idle limit nor
 * keepalive closes a socket that never sends the HTTP/2 preface, or one
 * that nghttp2 stopped reading after it sent GOAWAY for a bad frame.
 * Subclassing Server would need the same private knowledge (its
 * createHttp2Server is private too), and a connection injector with a
 * net.Server of our own still hides the sessions; reading the one private
 * map after bindAsync is the smallest dependency, checked here so that a
 * grpc-js upgrade that changes it fails at startup, not silently. The
 * version of grpc-js is pinned.
 */
export function listeningServersOf(server: grpc.Server): NetServer[] {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  const found = servers instanceof Map ? [...servers.keys()] : [];
  if (found.length === 0 || !found.every((candidate) => candidate instanceof NetServer)) {
    throw new Error('this version of @grpc/grpc-js does not expose its http2 servers as expected; connection limits cannot be applied');
  }
  return found as NetServer[];
}

const peerOf = (socket: Pick<Socket, 'remoteAddress' | 'remotePort'>) => `${socket.remoteAddress}:${socket.remotePort}`;

/** Applies `limits` to one of grpc-js's listening http2 servers. */
export function guardConnections(server: NetServer, limits: ConnectionLimits, logger: Logger): void {
  server.maxConnections = limits.maxConnections;
  let dropped = 0;
  let lastDropLog = 0;
  server.on('drop', () => {
    dropped += 1;
    if (Date.now() - lastDropLog < DROP_LOG_INTERVAL_MS) return;
    lastDropLog = Date.now();
    logger.warn({ maxConnections: limits.maxConnections, refused: dropped }, 'at the connection limit: refusing new connections');
  });

  // Keyed by the peer's address and port, which tell apart every TCP
  // connection to one listener, and are the same on the TLS socket that a
  // secure server wraps around the raw one.
  const handshakes = new Map<string, NodeJS.Timeout>();
  server.prependListener('connection', (socket: Socket) => {
    const peer = peerOf(socket);
    const timer = setTimeout(() => {
      logger.debug({ peer }, 'connection closed: no HTTP/2 handshake in time');
      socket.destroy();
    }, limits.handshakeTimeoutMs);
    handshakes.set(peer, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      if (handshakes.get(peer) === timer) handshakes.delete(peer);
    });
  });

  server.on('session', (session: ServerHttp2Session) => {
    const peer = peerOf(session.socket);
    session.once('remoteSettings', () => {
      clearTimeout(handshakes.get(peer));
      handshakes.delete(peer);
      probeWhenSilent(session, limits.handshakeTimeoutMs, () => logger.debug({ peer }, 'connection closed: no answer to a ping'));
    });
  });
}

/**
 * After a bad frame nghttp2 sends GOAWAY and stops reading, and Node neither
 * closes the session nor notices the peer's FIN: the socket stays in
 * CLOSE-WAIT until keepalive gives up. No event tells us, so a session
 * without calls that has been silent for `ms` gets a ping, and is destroyed
 * if the ping is not answered within `ms`. A live peer answers at once.
 */
function probeWhenSilent(session: ServerHttp2Session, ms: number, onDead: () => void): void {
  let streams = 0;
  session.on('stream', (stream) => {
    streams += 1;
    stream.once('close', () => (streams -= 1));
  });
  // Node's session timeout fires once per setTimeout: each probe re-arms it.
  const arm = () => session.setTimeout(ms, probe);
  const probe = () => {
    if (session.destroyed) return;
    if (streams > 0) return arm();
    const dead = () => {
      onDead();
      session.destroy();
    };
    const timer = setTimeout(dead, ms);
    try {
      session.ping((err) => {
        if (!err || session.destroyed) clearTimeout(timer);
        if (!err) arm();
      });
    } catch {
      clearTimeout(timer);
      dead();
    }
  };
  arm();
}
