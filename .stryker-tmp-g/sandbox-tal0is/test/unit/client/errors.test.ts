// @ts-nocheck
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { DigestMismatchError, LocalIoError, toClientError } from '../../../src/client/errors.js';
import { StatusError } from '../../../src/shared/statusError.js';

const grpcError = (code: status, details: string) => Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details });

describe('toClientError', () => {
  it('takes what a server answered as remote-status, with its code and one line of details', () => {
    const error = toClientError(grpcError(status.NOT_FOUND, 'no such file: a.bin\nResolution note: '));
    expect(error).to.include({ kind: 'remote-status', code: status.NOT_FOUND, message: 'no such file: a.bin' });
  });

  it('recognises a refused TLS handshake only on a TLS channel', () => {
    const refusal = grpcError(status.UNAVAILABLE, 'No connection established. Last error: error:0A000086:SSL routines::certificate verify failed');
    expect(toClientError(refusal, { secure: true })).to.include({ kind: 'remote-status', code: status.UNAUTHENTICATED });
    expect(toClientError(refusal, { secure: false })).to.include({ code: status.UNAVAILABLE });
  });

  it('keeps an outage an outage when its words merely mention alerts or certificates', () => {
    for (const details of ['Connection dropped: alert from upstream proxy', 'proxy certificate rotation in progress, try later']) {
      expect(toClientError(grpcError(status.UNAVAILABLE, details), { secure: true }), details).to.include({ code: status.UNAVAILABLE });
    }
  });

  it('calls a failed file-system call local, with its errno, never a gRPC code of its own', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write', path: '/out/a.bin.part' });
    const error = toClientError(enospc);
    expect(error).to.be.instanceOf(LocalIoError);
    expect(error).to.include({ kind: 'local-io', errno: 'ENOSPC' });
    expect(error.message).to.equal('cannot write /out/a.bin.part: no space left on device (ENOSPC)');
  });

  it("says Node's reason once, without the action and file it repeats, and keeps any other text as it is", () => {
    const errno = (message: string, code?: string) => Object.assign(new Error(message), { code });
    const cases: [Error, string][] = [
      [errno("EACCES: permission denied, open '/out/a b.part'", 'EACCES'), 'permission denied (EACCES)'],
      [errno('EIO: i/o error, fsync', 'EIO'), 'i/o error (EIO)'],
      [errno("EXDEV: cross-device link not permitted, rename '/a' -> '/b'", 'EXDEV'), 'cross-device link not permitted (EXDEV)'],
      [errno('EIO: i/o error', 'EIO'), 'i/o error (EIO)'],
      [errno('the disk said ENOSPC: full', 'ENOSPC'), 'the disk said ENOSPC: full'],
      [errno('EPERM: not this code', 'EACCES'), 'EPERM: not this code'],
      [errno('the partial shrank while it was being read'), 'the partial shrank while it was being read'],
    ];
    for (const [cause, reason] of cases) expect(new LocalIoError('do', '/f', cause).message, cause.message).to.equal(`cannot do /f: ${reason}`);
  });

  it('calls a refused name invalid-name, and keeps errors that already have a kind', () => {
    expect(toClientError(new StatusError(status.INVALID_ARGUMENT, 'invalid name "../x"'))).to.include({ kind: 'invalid-name' });
    const mismatch = new DigestMismatchError('a.bin', 'aa', 'bb');
    expect(toClientError(mismatch)).to.equal(mismatch);
  });
});
