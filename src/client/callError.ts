import { status, type ServiceError } from '@grpc/grpc-js';
import { grpcCodeOf, StatusError } from '../shared/statusError.js';

// OpenSSL's words for a handshake that failed on certificates: waiting
// does not fix those, so they must not be retried as UNAVAILABLE.
const TLS_REFUSAL = /certificate|SSL routines|self[- ]signed|unable to verify|alert/i;

/**
 * Turns whatever a grpc-js call rejected with into a StatusError, the one
 * error type the client's decisions and messages work with.
 */
export function toStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  const code = grpcCodeOf(err);
  if (code === undefined) return new StatusError(status.UNKNOWN, (err as Error)?.message ?? String(err), { cause: err });
  const details = oneLine((err as ServiceError).details || (err as Error).message);
  if (code === status.UNAVAILABLE && TLS_REFUSAL.test(details)) {
    return new StatusError(status.UNAUTHENTICATED, `TLS handshake failed: ${details}`, { cause: err });
  }
  return new StatusError(code, details, { cause: err });
}

/** grpc-js details span lines and carry empty "Resolution note:" tails. */
function oneLine(details: string): string {
  return details
    .replace(/\s*Resolution note:\s*(?=\)|$)/g, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim()
    .replace(/\.$/, '');
}
