// @ts-nocheck
import { status } from '../../shared/grpcStatus.js';
import { isTlsRefusal, type ClientError } from '../errors.js';

/**
 * The one place where a failed download becomes the line a person reads:
 * what happened, and what to do about it. Decided by the error's kind;
 * the gRPC code matters only for what the server answered.
 */
export function describeFailure(name: string, err: ClientError, server: string, secure = false): string {
  switch (err.kind) {
    case 'unreachable':
      return describeUnreachable(err.message, server, secure);
    case 'local-io':
      return `${err.message}; fix that and run again: the download resumes where it stopped`;
    case 'invalid-name':
    case 'aborted':
      return err.message;
    case 'lock-lost':
      return `${name}: ${err.message}; another process took it over: run again once it is done`;
    case 'digest-mismatch':
      return `${name}: ${err.message}; run again to fetch it afresh`;
    case 'block-mismatch':
      return `${err.message}; run again: the blocks before it are kept`;
    case 'protocol':
      return `${name}: ${err.message}; the server at ${server} may run an incompatible version: run again to resume`;
    case 'conflict':
      // Our server's words start with the name.
      return err.code === status.ALREADY_EXISTS
        ? `${name}: already exists on ${server}; to replace it, give --replace with the sha256 or version it has now`
        : err.message;
    case 'remote-status':
      return describeStatus(name, err, server);
  }
}

function describeStatus(name: string, err: ClientError, server: string): string {
  switch (err.code) {
    case status.NOT_FOUND:
      return `not found on server: ${name}`;
    case status.INVALID_ARGUMENT:
    case status.CANCELLED:
      return err.message;
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return `${name}: server ${server} unavailable (${err.message}); is grpc-server running there? Run again to resume, or give it longer with --retry-for`;
    case status.UNAUTHENTICATED:
      return isTlsRefusal(err)
        ? `${name}: ${err.message}; check --tls-ca (the CA that signed the server) and, for servers that require one, --tls-cert and --tls-key`
        : `${name}: the server refused the call (${err.message}); give a token with --token-file or GRPC_FILE_TOKEN`;
    case status.PERMISSION_DENIED:
      return `${name}: the server refused the call (${err.message})`;
    case status.DATA_LOSS:
      return `${name}: ${err.message}; run again to fetch it afresh`;
    case status.FAILED_PRECONDITION:
    case status.OUT_OF_RANGE:
      return `${name}: ${err.message}`;
    default:
      return `${name}: ${status[err.code] ?? err.code}: ${err.message}`;
  }
}

/**
 * The one line for a server this run never reached: grpc-js's details
 * ("No connection established. Last error: Error: connect ECONNREFUSED
 * 127.0.0.1:50052") in a person's words. Not a word about the file: every
 * file of the batch failed for the same reason.
 */
function describeUnreachable(details: string, server: string, secure: boolean): string {
  const prefix = `cannot connect to ${server}`;
  const running = 'is grpc-server running there?';
  if (/ECONNREFUSED/.test(details)) return `${prefix}: connection refused; ${running}`;
  if (/Name resolution failed|ENOTFOUND|EAI_AGAIN/.test(details)) return `${prefix}: its host name does not resolve; check the name`;
  // grpc-js's words when the TCP connection closed before the server's
  // HTTP/2 settings arrived: what a TLS server does to a plaintext client.
  if (/Last error: Failed to connect\b/.test(details)) {
    return secure
      ? `${prefix}: the server closed the connection before gRPC started; ${running}`
      : `${prefix}: the server closed the connection before gRPC started; if it serves TLS, give --tls-ca (the CA that signed its certificate)`;
  }
  if (/Protocol error/.test(details)) return `${prefix}: the server there does not speak gRPC; ${running}`;
  const reason = details.replace(/^No connection established\. Last error: (Error: )?/, '').replace(/ \(\d{4}-\d\d-\d\dT[\d:.]+Z\)/, '');
  return `${prefix}: ${reason}; ${running}`;
}
