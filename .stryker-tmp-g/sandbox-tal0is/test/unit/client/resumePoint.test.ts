// @ts-nocheck
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { nextResumePoint, reusableHash } from '../../../src/client/download/resumePoint.js';

describe('nextResumePoint', () => {
  it('starts from 0 with no version when the policy says so, whatever is on disk', () => {
    expect(nextResumePoint(true, 5000, 'v1')).to.deep.equal({ offset: 0, expectedVersion: undefined });
  });

  it('resumes at the partial, asking for the version its bytes came from', () => {
    expect(nextResumePoint(false, 5000, 'v1')).to.deep.equal({ offset: 5000, expectedVersion: 'v1' });
  });

  it('asks for no version from 0: an empty or missing partial holds no version', () => {
    expect(nextResumePoint(false, 0, 'v1')).to.deep.equal({ offset: 0, expectedVersion: undefined });
    expect(nextResumePoint(false, null, 'v1')).to.deep.equal({ offset: 0, expectedVersion: undefined });
  });
});

describe('reusableHash', () => {
  it('reuses the carried hash only when it ends exactly where the next attempt starts', () => {
    const hash = createHash('sha256');
    const carried = { length: 10, hash };
    expect(reusableHash(carried, 10)).to.equal(carried);
    expect(reusableHash({ length: 10, hash }, 9)).to.equal(undefined);
    expect(reusableHash({ length: 10, hash }, 11)).to.equal(undefined);
    expect(reusableHash(undefined, 0)).to.equal(undefined);
  });
});
