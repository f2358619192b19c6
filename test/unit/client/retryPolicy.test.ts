import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { decideRetry, type RetryState } from '../../../src/client/retryPolicy.js';

const fresh: RetryState = { failuresWithoutProgress: 0, msSinceProgress: 0, restarts: 0, digestFailures: 0, attemptOffset: 0 };
const options = { retryForMs: 60_000, baseDelayMs: 100, maxDelayMs: 5000 };
const maxRandom = () => 1;

describe('decideRetry', () => {
  it('retries a call the server cut (CANCELLED), as when it shuts down', () => {
    expect(decideRetry(status.CANCELLED, fresh, options, maxRandom)).to.include({ action: 'retry', fromZero: false });
  });

  it('retries UNAVAILABLE with exponential backoff, resuming where it stopped', () => {
    const delays = [0, 1, 2, 3, 10].map((n) => {
      const decision = decideRetry(status.UNAVAILABLE, { ...fresh, failuresWithoutProgress: n }, options, maxRandom);
      expect(decision).to.include({ action: 'retry', fromZero: false, reason: 'transient' });
      return decision.action === 'retry' ? decision.delayMs : -1;
    });
    expect(delays).to.deep.equal([100, 200, 400, 800, 5000]);
  });

  it('jitters the delay between a floor and the backoff', () => {
    const decision = decideRetry(status.UNAVAILABLE, { ...fresh, failuresWithoutProgress: 4 }, options, () => 0.5);
    expect(decision).to.include({ delayMs: 800 });
    expect(decideRetry(status.UNAVAILABLE, fresh, options, () => 0)).to.include({ delayMs: 50 });
  });

  it('gives up once the time without progress would pass --retry-for', () => {
    expect(decideRetry(status.UNAVAILABLE, { ...fresh, msSinceProgress: 59_950 }, options, maxRandom)).to.deep.equal({ action: 'fail' });
    expect(decideRetry(status.UNAVAILABLE, { ...fresh, msSinceProgress: 59_800 }, options, maxRandom)).to.include({ action: 'retry' });
  });

  it('starts over at once when the remote file changed or shrank', () => {
    for (const code of [status.FAILED_PRECONDITION, status.OUT_OF_RANGE]) {
      expect(decideRetry(code, fresh, options)).to.deep.equal({ action: 'retry', delayMs: 0, fromZero: true, reason: 'changed' });
    }
    expect(decideRetry(status.FAILED_PRECONDITION, { ...fresh, restarts: 5 }, options)).to.deep.equal({ action: 'fail' });
  });

  it('refetches from 0 at once when a resumed file fails its digest, with backoff when a fresh one does', () => {
    expect(decideRetry(status.DATA_LOSS, { ...fresh, attemptOffset: 10 }, options)).to.deep.equal({
      action: 'retry',
      delayMs: 0,
      fromZero: true,
      reason: 'digest',
    });
    expect(decideRetry(status.DATA_LOSS, fresh, options, maxRandom)).to.include({ action: 'retry', fromZero: true, delayMs: 100 });
    expect(decideRetry(status.DATA_LOSS, { ...fresh, digestFailures: 3 }, options)).to.deep.equal({ action: 'fail' });
  });

  it('never retries what waiting cannot fix', () => {
    for (const code of [status.NOT_FOUND, status.INVALID_ARGUMENT, status.PERMISSION_DENIED, status.UNAUTHENTICATED]) {
      expect(decideRetry(code, fresh, options)).to.deep.equal({ action: 'fail' });
    }
  });
});
