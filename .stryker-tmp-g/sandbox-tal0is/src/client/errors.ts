// @ts-nocheck
import type { ServiceError } from '@grpc/grpc-js';
import { status } from '../shared/grpcStatus.js';
import { grpcCodeOf, StatusError } from '../shared/statusError.js';

/**
 * What kind of failure ended a download, as a stable string for programs
 * (`err.kind`). The retry policy and the CLI's messages and exit codes
 * decide by kind; `err.code` stays the nearest gRPC status, for callers that
 * already switch on it.
 * - remote-status: the server (or the channel to it) answered with a status;
 * - local-io: this machine's disk or folders failed us;
 * - protocol: the server's stream broke the protocol's rules;
 * - digest-mismatch: all bytes arrived, but their SHA-256 is not the server's;
 * - block-mismatch: a block's SHA-256 is not the one in the server's block
 *   list; `err.replica` sent it;
 * - lock-lost: another process took over the file while we wrote it;
 * - aborted: the caller's signal stopped the download;
 * - invalid-name: the name can never be downloaded into --out;
 * - unreachable: the server was never reached in this run (connection
 *   refused, name not resolved, no gRPC spoken there); `code` stays
 *   UNAVAILABLE.
 * - conflict: an upload would overwrite a file it was not told to replace
 *   (ALREADY_EXISTS), or the file it was to replace is not the one named
 *   (FAILED_PRECONDITION); `code` is the server's.
 */
export type ErrorKind =
  'remote-status' | 'local-io' | 'protocol' | 'digest-mismatch' | 'block-mismatch' | 'lock-lost' | 'aborted' | 'invalid-name' | 'unreachable' | 'conflict';

/** Every error the client gives its callers. */
export abstract class ClientError extends StatusError {
  abstract readonly kind: ErrorKind;
}

export class RemoteStatusError extends ClientError {
  readonly kind = 'remote-status';

  constructor(code: status, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'RemoteStatusError';
  }
}

/**
 * A failure of this machine's disk (no space, no permission, ...). Never
 * retried: waiting does not free space. The partial and the task map stay
 * as they were, so the next run resumes once the cause is fixed.
 */
export class LocalIoError extends ClientError {
  readonly kind = 'local-io';
  /** The system's error code (ENOSPC, EACCES, ...), when there is one. */
  readonly errno: string | undefined;

  constructor(action: string, file: string, cause: NodeJS.ErrnoException | string) {
    const reason = typeof cause === 'string' ? cause : reasonOf(cause);
    super(status.INTERNAL, `cannot ${action} ${file}: ${reason}`, typeof cause === 'string' ? undefined : { cause });
    this.name = 'LocalIoError';
    this.errno = typeof cause === 'string' ? undefined : cause.code;
  }
}

/**
 * Node's "ENOSPC: no space left on device, write '/x'" as "no space left
 * on device (ENOSPC)": the action and the file are already in the message.
 */
function reasonOf(err: NodeJS.ErrnoException): string {
  const node = /^([A-Z][A-Z0-9]+): (.+?)(?:, [a-z]+(?: '.*')?)?$/s.exec(err.message);
  return node && node[1] === err.code ? `${node[2]} (${node[1]})` : err.message;
}

/**
 * The server's stream contradicted itself (data at the wrong offset, more
 * bytes than the file has, no file info). The bytes written before the fault
 * were consistent, so a retry resumes after them; the final digest judges
 * them with the rest.
 */
export class ProtocolError extends ClientError {
  readonly kind = 'protocol';

  constructor(name: string, what: string) {
    super(status.INTERNAL, `the server broke the protocol on ${name}: ${what}`);
    this.name = 'ProtocolError';
  }
}

export class DigestMismatchError extends ClientError {
  readonly kind = 'digest-mismatch';

  constructor(name: string, got: string, expected: string, outcome = 'the partial was discarded') {
    super(status.DATA_LOSS, `sha256 mismatch for ${name}: got ${got}, the server says ${expected}; ${outcome}`);
    this.name = 'DigestMismatchError';
  }
}

/**
 * One block's bytes do not hash to its digest in the block list. The bytes
 * before the block were verified and stay; the block is fetched again,
 * from another replica when there is one (`elsewhere`).
 */
export class BlockMismatchError extends ClientError {
  readonly kind = 'block-mismatch';

  constructor(
    name: string,
    readonly block: number,
    readonly blockSize: number,
    /** Who sent the block (a replica's host:port); undefined for bytes an earlier run left on disk. */
    readonly replica: string | undefined,
    /** Whether another replica is left to fetch it from; the sender is then never asked again for this file. */
    readonly elsewhere: boolean,
  ) {
    const start = block * blockSize;
    const source = replica === undefined ? 'on disk' : `from ${replica}`;
    super(
      status.DATA_LOSS,
      `block ${block} of ${name} (bytes ${start}-${start + blockSize - 1}) ${source} does not match its sha256 in the block list` +
        (replica !== undefined && elsewhere ? `; ${replica} is not asked again for this file` : ''),
    );
    this.name = 'BlockMismatchError';
  }
}

export class LockLostError extends ClientError {
  readonly kind = 'lock-lost';

  constructor(name: string, cause: Error) {
    super(status.ABORTED, `lost the lock on ${name} (${cause.message}); stopped writing it`, { cause });
    this.name = 'LockLostError';
  }
}

export class AbortedError extends ClientError {
  readonly kind = 'aborted';

  constructor(name: string, options?: ErrorOptions) {
    super(status.CANCELLED, `download of ${name} aborted; run again to resume`, options);
    this.name = 'AbortedError';
  }
}

export class InvalidNameError extends ClientError {
  readonly kind = 'invalid-name';

  constructor(message: string, options?: ErrorOptions) {
    super(status.INVALID_ARGUMENT, message, options);
    this.name = 'InvalidNameError';
  }
}

/**
 * A channel that never got as far as a gRPC connection in this run: a
 * wrong address or a stopped server, which waiting rarely fixes. Failed at
 * once unless the caller asked to wait for such a server.
 */
export class ServerUnreachableError extends ClientError {
  readonly kind = 'unreachable';

  constructor(cause: ClientError) {
    super(cause.code, cause.message, { cause });
    this.name = 'ServerUnreachableError';
  }
}

/**
 * The server refused to publish an upload over what its name holds. Never
 * retried: the same request gets the same answer until someone decides
 * what to replace.
 */
export class ConflictError extends ClientError {
  readonly kind = 'conflict';

  constructor(cause: ClientError) {
    super(cause.code, cause.message, { cause });
    this.name = 'ConflictError';
  }
}

/** Whether the server refused our TLS handshake or certificate (see toClientError). */
export function isTlsRefusal(err: ClientError): boolean {
  return err.code === status.UNAUTHENTICATED && err.message.startsWith(TLS_HANDSHAKE_FAILED);
}

/** Runs a local file operation, turning its failure into a LocalIoError. */
export async function locally<T>(action: string, file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw new LocalIoError(action, file, err as NodeJS.ErrnoException);
  }
}

const TLS_HANDSHAKE_FAILED = 'TLS handshake failed';

// OpenSSL's own words for a handshake refused over certificates. Only on a
// TLS channel: a plaintext channel's UNAVAILABLE whose text happens to say
// "alert" or "certificate" is an outage to wait out, not a refusal.
const TLS_REFUSAL =
  /SSL routines|certificate verify failed|self[- ]signed certificate|unable to (get|verify)[\w ]* certificate|tlsv1 alert|sslv3 alert|wrong version number/i;

/**
 * Turns whatever a grpc-js call (or our own code) rejected with into a
 * ClientError, the one error type the client's decisions and messages
 * work with. Errors with no status of their own are local.
 */
export function toClientError(err: unknown, channel: { secure: boolean } = { secure: false }): ClientError {
  if (err instanceof ClientError) return err;
  const code = grpcCodeOf(err);
  if (err instanceof StatusError) {
    // The shared name checks throw plain StatusErrors, here and on the server.
    return err.code === status.INVALID_ARGUMENT
      ? new InvalidNameError(err.message, { cause: err })
      : new RemoteStatusError(err.code, err.message, { cause: err });
  }
  if (code === undefined) {
    // Node's fs errors name their call and path; anything else is ours.
    const errno = err as NodeJS.ErrnoException;
    return new LocalIoError(errno?.syscall ?? 'finish', errno?.path ?? 'the download', errno?.code ? errno : String(errno?.message ?? err));
  }
  const details = oneLine((err as ServiceError).details || (err as Error).message);
  if (channel.secure && code === status.UNAVAILABLE && TLS_REFUSAL.test(details)) {
    return new RemoteStatusError(status.UNAUTHENTICATED, `${TLS_HANDSHAKE_FAILED}: ${details}`, { cause: err });
  }
  return new RemoteStatusError(code, details, { cause: err });
}

/** grpc-js details span lines and carry empty "Resolution note:" tails. */
function oneLine(details: string): string {
  return details
    .replace(/\s*Resolution note:\s*(?=\)|$)/g, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim()
    .replace(/\.$/, '');
}
