import { status } from '@grpc/grpc-js';
import { grpcCodeOf } from '../../shared/statusError.js';

/**
 * Whether a failed call means the server lacks its method, so that the
 * older method it falls back to may be asked instead: UNIMPLEMENTED before
 * any message. After a message the method exists, and asking the other
 * one would send again what came; an aborted call says nothing of the
 * server.
 */
export function methodIsMissing(err: unknown, anyMessage: boolean, aborted: boolean): boolean {
  return !anyMessage && !aborted && grpcCodeOf(err) === status.UNIMPLEMENTED;
}
