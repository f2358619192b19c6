// @ts-nocheck
import { status } from './grpcStatus.js';

/**
 * An error that already knows its gRPC status. The server emits it as is
 * (grpc-js reads `code` and `message`); the client turns every failure into
 * one, so the CLI maps errors to messages and exit codes in a single place.
 */
export class StatusError extends Error {
  readonly code: status;

  constructor(code: status, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StatusError';
    this.code = code;
  }
}

/** grpc-js rejects calls with plain objects carrying `code` and `details`. */
export function grpcCodeOf(err: unknown): status | undefined {
  if (err instanceof StatusError) return err.code;
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number') {
    return err.code as status;
  }
  return undefined;
}
