import { expect } from 'chai';
import { rangeOf, resumeVerdict, type ResumeClaim } from '../../../src/server/resumeCheck.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const claim = (over: Partial<ResumeClaim>): ResumeClaim => ({ offset: 100n, expectedVersion: '', prefixSha256: '', expectedSha256: '', ...over });

describe('resumeVerdict', () => {
  it('accepts the same version without looking at any digest', () => {
    expect(resumeVerdict(claim({ expectedVersion: 'v1', expectedSha256: B, prefixSha256: B }), { version: 'v1', digest: A })).to.deep.equal({
      action: 'accept',
    });
  });

  it("compares the whole file's digest when both sides know it, before any prefix hash", () => {
    const other = claim({ expectedVersion: 'v1', prefixSha256: B });
    expect(resumeVerdict({ ...other, expectedSha256: A }, { version: 'v2', digest: A })).to.deep.equal({ action: 'accept' });
    expect(resumeVerdict({ ...other, expectedSha256: B }, { version: 'v2', digest: A })).to.deep.equal({ action: 'refuse', why: 'other-content' });
  });

  it('hashes the prefix when the server does not know its digest yet, or the client sent none', () => {
    expect(resumeVerdict(claim({ expectedVersion: 'v1', expectedSha256: A, prefixSha256: B }), { version: 'v2', digest: undefined })).to.deep.equal({
      action: 'hash-prefix',
    });
    expect(resumeVerdict(claim({ prefixSha256: B }), { version: 'v2', digest: A })).to.deep.equal({ action: 'hash-prefix' });
  });

  it('refuses another version as before when there is no digest to go by', () => {
    expect(resumeVerdict(claim({ expectedVersion: 'v1' }), { version: 'v2', digest: A })).to.deep.equal({ action: 'refuse', why: 'changed' });
    expect(resumeVerdict(claim({ expectedVersion: 'v1', expectedSha256: A }), { version: 'v2', digest: undefined })).to.deep.equal({
      action: 'refuse',
      why: 'changed',
    });
  });

  it('lets an empty prefix prove nothing: from offset 0 the version rule applies', () => {
    expect(resumeVerdict(claim({ offset: 0n, expectedVersion: 'v1', prefixSha256: B }), { version: 'v2', digest: undefined })).to.deep.equal({
      action: 'refuse',
      why: 'changed',
    });
    expect(resumeVerdict(claim({ offset: 0n, prefixSha256: B }), { version: 'v2', digest: undefined })).to.deep.equal({ action: 'accept' });
  });

  it("never takes an empty expected_version (proto3's unset) for a version that matches", () => {
    // Whatever the server's versions look like: an unset field claims nothing, so the digest rule decides.
    expect(resumeVerdict(claim({ expectedSha256: B }), { version: '', digest: A })).to.deep.equal({ action: 'refuse', why: 'other-content' });
    expect(resumeVerdict(claim({ prefixSha256: B }), { version: '', digest: undefined })).to.deep.equal({ action: 'hash-prefix' });
  });

  it('accepts a request that claims nothing', () => {
    expect(resumeVerdict(claim({}), { version: 'v2', digest: undefined })).to.deep.equal({ action: 'accept' });
  });
});

describe('rangeOf', () => {
  it('sends to the end without a limit, with the digest rules of old: never partial', () => {
    expect(rangeOf(0n, 0n, 100n)).to.deep.equal({ end: 100n, partial: false });
    expect(rangeOf(40n, 0n, 100n)).to.deep.equal({ end: 100n, partial: false });
    expect(rangeOf(100n, 0n, 100n)).to.deep.equal({ end: 100n, partial: false });
  });

  it('ends a limited range at offset + limit, or at the end when that lies beyond', () => {
    expect(rangeOf(10n, 20n, 100n)).to.deep.equal({ end: 30n, partial: true });
    expect(rangeOf(90n, 10n, 100n)).to.deep.equal({ end: 100n, partial: true });
    expect(rangeOf(90n, 50n, 100n)).to.deep.equal({ end: 100n, partial: true });
    expect(rangeOf(0n, 99n, 100n)).to.deep.equal({ end: 99n, partial: true });
  });

  it('treats a limit that covers the whole file from 0 as the whole file', () => {
    expect(rangeOf(0n, 100n, 100n)).to.deep.equal({ end: 100n, partial: false });
    expect(rangeOf(0n, 1000n, 100n)).to.deep.equal({ end: 100n, partial: false });
    expect(rangeOf(0n, 5n, 0n)).to.deep.equal({ end: 0n, partial: false });
  });
});
