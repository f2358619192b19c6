// @ts-nocheck
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decideRetry, type Failure, type RetryState } from '../../../src/client/retryPolicy.js';

const fresh: RetryState = { failuresWithoutProgress: 0, msSinceProgress: 0, restarts: 0, digestFailures: 0, attemptOffset: 0 };
const options = { retryForMs: 60_000, baseDelayMs: 100, maxDelayMs: 5000 };
const maxRandom = () => 1;
const remote = (code: status): Failure => ({ kind: 'remote-status', code });
const digest: Failure = { kind: 'digest-mismatch', code: status.DATA_LOSS };

describe('decideRetry', () => {
  it('retries a call the server cut (CANCELLED), as when it shuts down', () => {
    expect(decideRetry(remote(status.CANCELLED), fresh, options, maxRandom)).to.include({ action: 'retry', fromZero: false });
  });

  it('retries UNAVAILABLE with exponential backoff, resuming where it stopped', () => {
    const delays = [0, 1, 2, 3, 10].map((n) => {
      const decision = decideRetry(remote(status.UNAVAILABLE), { ...fresh, failuresWithoutProgress: n }, options, maxRandom);
      expect(decision).to.include({ action: 'retry', fromZero: false, reason: 'transient' });
      return decision.action === 'retry' ? decision.delayMs : -1;
    });
    expect(delays).to.deep.equal([100, 200, 400, 800, 5000]);
  });

  it('jitters the delay between a floor and the backoff', () => {
    const decision = decideRetry(remote(status.UNAVAILABLE), { ...fresh, failuresWithoutProgress: 4 }, options, () => 0.5);
    expect(decision).to.include({ delayMs: 800 });
    expect(decideRetry(remote(status.UNAVAILABLE), fresh, options, () => 0)).to.include({ delayMs: 50 });
  });

  it('gives up once the time without progress would pass --retry-for', () => {
    expect(decideRetry(remote(status.UNAVAILABLE), { ...fresh, msSinceProgress: 59_950 }, options, maxRandom)).to.deep.equal({ action: 'fail' });
    expect(decideRetry(remote(status.UNAVAILABLE), { ...fresh, msSinceProgress: 59_800 }, options, maxRandom)).to.include({ action: 'retry' });
    // A retry that lands exactly at --retry-for is still within it.
    expect(decideRetry(remote(status.UNAVAILABLE), { ...fresh, msSinceProgress: 59_900 }, options, maxRandom)).to.include({ action: 'retry', delayMs: 100 });
  });

  it('starts over at once when the remote file changed or shrank', () => {
    for (const code of [status.FAILED_PRECONDITION, status.OUT_OF_RANGE]) {
      expect(decideRetry(remote(code), fresh, options)).to.deep.equal({ action: 'retry', delayMs: 0, fromZero: true, reason: 'changed' });
    }
    expect(decideRetry(remote(status.FAILED_PRECONDITION), { ...fresh, restarts: 5 }, options)).to.deep.equal({ action: 'fail' });
  });

  it('refetches from 0 at once when a resumed file fails its digest, with backoff when a fresh one does', () => {
    expect(decideRetry(digest, { ...fresh, attemptOffset: 10 }, options)).to.deep.equal({
      action: 'retry',
      delayMs: 0,
      fromZero: true,
      reason: 'digest',
    });
    expect(decideRetry(digest, fresh, options, maxRandom)).to.include({ action: 'retry', fromZero: true, delayMs: 100 });
    expect(decideRetry(digest, { ...fresh, digestFailures: 3 }, options)).to.deep.equal({ action: 'fail' });
  });

  it('never retries what waiting cannot fix', () => {
    for (const code of [status.NOT_FOUND, status.INVALID_ARGUMENT, status.PERMISSION_DENIED, status.UNAUTHENTICATED]) {
      expect(decideRetry(remote(code), fresh, options)).to.deep.equal({ action: 'fail' });
    }
  });

  it('treats a server that reports DATA_LOSS itself like a digest mismatch', () => {
    expect(decideRetry(remote(status.DATA_LOSS), { ...fresh, attemptOffset: 10 }, options)).to.include({ action: 'retry', fromZero: true, reason: 'digest' });
    expect(decideRetry(remote(status.DATA_LOSS), { ...fresh, digestFailures: 3 }, options)).to.deep.equal({ action: 'fail' });
  });

  it('asks again after a protocol fault, from the bytes already received, within --retry-for', () => {
    const fault: Failure = { kind: 'protocol', code: status.INTERNAL };
    expect(decideRetry(fault, fresh, options, maxRandom)).to.deep.equal({ action: 'retry', delayMs: 100, fromZero: false, reason: 'protocol' });
    expect(decideRetry(fault, { ...fresh, msSinceProgress: 59_950 }, options, maxRandom)).to.deep.equal({ action: 'fail' });
  });

  it('never retries a local failure, whatever gRPC code it carries', () => {
    for (const kind of ['local-io', 'lock-lost', 'aborted', 'invalid-name'] as const) {
      for (const code of [status.INTERNAL, status.UNAVAILABLE, status.CANCELLED, status.ABORTED]) {
        expect(decideRetry({ kind, code }, fresh, options)).to.deep.equal({ action: 'fail' });
      }
    }
  });
});

describe('decideRetry: a server never reached in this run', () => {
  it('fails at once, marked unreachable, when the connection never came up', () => {
    expect(decideRetry(remote(status.UNAVAILABLE), { ...fresh, serverReached: false }, options, maxRandom)).to.deep.equal({
      action: 'fail',
      unreachable: true,
    });
  });

  it('still waits for a server that was reached and went away, within --retry-for', () => {
    expect(decideRetry(remote(status.UNAVAILABLE), { ...fresh, serverReached: true }, options, maxRandom)).to.include({ action: 'retry', reason: 'transient' });
  });

  it('keeps the old behaviour when nobody says whether the server was reached', () => {
    expect(decideRetry(remote(status.UNAVAILABLE), fresh, options, maxRandom)).to.include({ action: 'retry', reason: 'transient' });
  });

  it('retries what only a reached server can answer (RESOURCE_EXHAUSTED, CANCELLED) as before', () => {
    for (const code of [status.RESOURCE_EXHAUSTED, status.CANCELLED]) {
      expect(decideRetry(remote(code), { ...fresh, serverReached: false }, options, maxRandom), status[code]).to.include({ action: 'retry' });
    }
  });
});
