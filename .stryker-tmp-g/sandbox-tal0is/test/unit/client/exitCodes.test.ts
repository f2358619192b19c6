// @ts-nocheck
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { batchExitCode, EXIT_CODE_TABLE, exitCodeOf } from '../../../src/client/cli/exitCodes.js';
import { describeFailure } from '../../../src/client/cli/describeFailure.js';
import {
  AbortedError,
  DigestMismatchError,
  InvalidNameError,
  LocalIoError,
  LockLostError,
  ProtocolError,
  RemoteStatusError,
  ServerUnreachableError,
  toClientError,
} from '../../../src/client/errors.js';

const refused = new RemoteStatusError(status.UNAVAILABLE, 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:50052');

describe('exit codes', () => {
  it('tells each failure class apart', () => {
    const cases: [Error & { kind: string }, number][] = [
      [new RemoteStatusError(status.NOT_FOUND, 'no such file'), 8],
      [new ServerUnreachableError(refused), 4],
      [new RemoteStatusError(status.UNAVAILABLE, 'no data from the server for 30s'), 4],
      [new RemoteStatusError(status.UNAUTHENTICATED, 'missing token'), 6],
      [new RemoteStatusError(status.PERMISSION_DENIED, 'no'), 6],
      [toClientError(Object.assign(new Error('x'), { code: status.UNAVAILABLE, details: 'SSL routines::certificate verify failed' }), { secure: true }), 5],
      [new LocalIoError('write', '/out/f.bin', Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })), 3],
      [new DigestMismatchError('f.bin', 'aa', 'bb'), 9],
      [new ProtocolError('f.bin', 'data at the wrong offset'), 7],
      [new InvalidNameError('invalid name "../x"'), 2],
      [new AbortedError('f.bin'), 130],
      [new LockLostError('f.bin', new Error('lock file removed')), 1],
      [new RemoteStatusError(status.INTERNAL, 'boom'), 1],
    ];
    for (const [err, code] of cases) expect(exitCodeOf(err as never), `${err.kind} ${err.message}`).to.equal(code);
  });

  it('gives a batch its failures’ class when they share one, else 1', () => {
    expect(batchExitCode([])).to.equal(0);
    expect(batchExitCode([8, 8])).to.equal(8);
    expect(batchExitCode([8, 4])).to.equal(1);
  });

  it('documents every code once', () => {
    const codes = EXIT_CODE_TABLE.map(([code]) => code);
    expect(new Set(codes).size).to.equal(codes.length);
    expect(codes).to.include.members([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 130]);
  });
});

describe('describeFailure: a server never reached', () => {
  const unreachable = (details: string) => new ServerUnreachableError(new RemoteStatusError(status.UNAVAILABLE, details));

  it('says "connection refused" in one line, with no file name', () => {
    expect(describeFailure('f.bin', new ServerUnreachableError(refused), '127.0.0.1:50052')).to.equal(
      'cannot connect to 127.0.0.1:50052: connection refused; is grpc-server running there?',
    );
  });

  it('hints at --tls-ca when a plaintext client meets a server that closes before gRPC (TLS)', () => {
    const closed = unreachable('No connection established. Last error: Failed to connect (2026-11-30T18:20:16.039Z)');
    expect(describeFailure('f.bin', closed, 'h:1')).to.match(/^cannot connect to h:1: .*closed the connection.*give --tls-ca/);
    expect(describeFailure('f.bin', closed, 'h:1', true)).to.not.include('--tls-ca');
  });

  it('names an unresolved host and a server that speaks no gRPC', () => {
    expect(describeFailure('f', unreachable('Name resolution failed for target dns:nope.invalid:50051'), 'nope.invalid:50051')).to.equal(
      'cannot connect to nope.invalid:50051: its host name does not resolve; check the name',
    );
    expect(describeFailure('f', unreachable('No connection established. Last error: Protocol error (2026-11-30T18:21:07.775Z)'), 'h:1')).to.include(
      'does not speak gRPC',
    );
    expect(
      describeFailure('f', unreachable('No connection established. Last error: Error: connect EHOSTUNREACH 10.0.0.1:1 (2026-11-30T18:21:07.775Z)'), 'h:1'),
    ).to.equal('cannot connect to h:1: connect EHOSTUNREACH 10.0.0.1:1; is grpc-server running there?');
  });
});
