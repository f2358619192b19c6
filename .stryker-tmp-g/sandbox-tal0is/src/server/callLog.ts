// @ts-nocheck
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ServerMetrics } from './metrics.js';

/** Request fields worth a place in the log line; never metadata: it carries the token. */
const LOGGED_REQUEST_FIELDS = ['name', 'prefix', 'offset'];

/**
 * One log line and one metrics sample per call, written by a server
 * interceptor, so that every method gets them, including calls refused
 * before any handler ran. A handler adds what only it knows (bytes sent, a
 * count) through `fieldsOf(call.metadata)`: grpc-js hands the handler the
 * very Metadata object the interceptor saw.
 */
export class CallLog {
  private readonly fields = new WeakMap<grpc.Metadata, Record<string, unknown>>();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: ServerMetrics | undefined,
    /** Whether a method's calls are logged, from its path. */
    private readonly logged: (path: string) => boolean,
  ) {}

  /** The fields of the call that carries `metadata`; changes show in its log line. */
  fieldsOf(metadata: grpc.Metadata): Record<string, unknown> {
    return this.fields.get(metadata) ?? {};
  }

  readonly interceptor: grpc.ServerInterceptor = (method, call) => {
    if (!this.logged(method.path)) return new grpc.ServerInterceptingCall(call);
    const started = Date.now();
    const methodName = method.path.slice(method.path.lastIndexOf('/') + 1);
    const fields: Record<string, unknown> = {};
    let done = false;
    const finish = (code: grpc.status) => {
      if (done) return;
      done = true;
      this.write(methodName, fields, started, code, call.getPeer());
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            this.fields.set(metadata, fields);
            nextMetadata(metadata);
          },
          onReceiveMessage: (message: Record<string, unknown>, nextMessage) => {
            for (const key of LOGGED_REQUEST_FIELDS) if (key in message) fields[key] ??= message[key];
            nextMessage(message);
          },
          // grpc-js reports a cancel also after the status went out; only
          // one that comes first is the call's end.
          onCancel: () => finish(grpc.status.CANCELLED),
        }),
      sendStatus: (status, next) => {
        finish(status.code ?? grpc.status.UNKNOWN);
        next(status);
      },
    });
  };

  private write(method: string, fields: Record<string, unknown>, started: number, code: grpc.status, peer: string): void {
    const level =
      code === grpc.status.OK || code === grpc.status.CANCELLED ? 'info' : code === grpc.status.INTERNAL || code === grpc.status.UNKNOWN ? 'error' : 'warn';
    const durationMs = Date.now() - started;
    this.logger[level]({ method, ...fields, durationMs, code: grpc.status[code], peer }, 'call');
    this.metrics?.callEnded(method, code, durationMs / 1000);
  }
}
