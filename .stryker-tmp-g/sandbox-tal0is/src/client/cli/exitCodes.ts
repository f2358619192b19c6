// @ts-nocheck
import { status } from '../../shared/grpcStatus.js';
import { isTlsRefusal, type ClientError } from '../errors.js';

/**
 * Exit codes by class of failure, numbered after wget's where wget has the
 * class, so scripts can tell "fix the address" from "free some disk".
 * The one table `--help` prints and the README copies.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  localIo: 3,
  unreachable: 4,
  tls: 5,
  refused: 6,
  protocol: 7,
  notFound: 8,
  verification: 9,
  conflict: 10,
  interrupted: 130,
} as const;

export const EXIT_CODE_TABLE: [code: number, meaning: string][] = [
  [EXIT.ok, 'every file downloaded, or already complete'],
  [EXIT.failed, 'any other failure; also a batch whose failures differ in class'],
  [EXIT.usage, 'usage error: unknown flag, bad value, bad file name'],
  [EXIT.localIo, 'local I/O error: disk full, no permission, read-only folder'],
  [EXIT.unreachable, 'server unreachable: refused, name not resolved, or gone longer than --retry-for'],
  [EXIT.tls, 'TLS failed: handshake or certificate refused'],
  [EXIT.refused, 'the server refused the call: token missing or wrong'],
  [EXIT.protocol, 'the server broke the protocol'],
  [EXIT.notFound, 'not found on the server'],
  [EXIT.verification, 'verification failed: SHA-256 mismatch'],
  [EXIT.conflict, 'put: the name exists on the server, or is not the file --replace names'],
  [EXIT.interrupted, 'interrupted (Ctrl-C, SIGTERM); run again to resume'],
];

/** The exit code one failure stands for: by kind, and by gRPC code for what the server answered. */
export function exitCodeOf(err: ClientError): number {
  switch (err.kind) {
    case 'local-io':
      return EXIT.localIo;
    case 'invalid-name':
      return EXIT.usage;
    case 'unreachable':
      return EXIT.unreachable;
    case 'protocol':
      return EXIT.protocol;
    case 'digest-mismatch':
    case 'block-mismatch':
      return EXIT.verification;
    case 'aborted':
      return EXIT.interrupted;
    case 'lock-lost':
      return EXIT.failed;
    case 'conflict':
      return EXIT.conflict;
    case 'remote-status':
      return exitCodeOfStatus(err);
  }
}

function exitCodeOfStatus(err: ClientError): number {
  switch (err.code) {
    case status.NOT_FOUND:
      return EXIT.notFound;
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return EXIT.unreachable;
    case status.UNAUTHENTICATED:
    case status.PERMISSION_DENIED:
      return isTlsRefusal(err) ? EXIT.tls : EXIT.refused;
    case status.DATA_LOSS:
      return EXIT.verification;
    case status.INVALID_ARGUMENT:
      return EXIT.usage;
    default:
      return EXIT.failed;
  }
}

/** A batch's code: its failures' class when they share one, else the generic 1. */
export function batchExitCode(codes: number[]): number {
  if (codes.length === 0) return EXIT.ok;
  return codes.every((code) => code === codes[0]) ? codes[0]! : EXIT.failed;
}
