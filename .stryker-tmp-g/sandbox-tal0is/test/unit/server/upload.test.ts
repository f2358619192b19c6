// @ts-nocheck
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { quotaProblem, stagingProblem, uploadIdOf } from '../../../src/server/staging.js';
import { scopesOf } from '../../../src/server/server.js';
import { parseTokenLine } from '../../../src/server/tokenAuth.js';
import { offsetProblem, parseBegin, targetVerdict, type TargetFacts } from '../../../src/server/upload.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const begin = (fields: Partial<Record<'name' | 'size' | 'sha256' | 'offset' | 'ifSha256Match' | 'ifVersionMatch', string>> = {}) => ({
  name: 'in/a.bin',
  size: '10',
  sha256: SHA_A,
  offset: '0',
  ifSha256Match: '',
  ifVersionMatch: '',
  ...fields,
});

describe('upload rules on the server', () => {
  it('checks the first message: name, size within the limit, offset within the size, digests as 64 lowercase hex digits', () => {
    expect(parseBegin(begin({ offset: '4' }), 100)).to.deep.equal({ name: 'in/a.bin', size: 10, sha256: SHA_A, offset: 4, ifSha256: '', ifVersion: '' });
    const refusals: [ReturnType<typeof begin> | null, RegExp][] = [
      [null, /must carry begin/],
      [begin({ name: 'x.part' }), /kept for partial files/],
      [begin({ name: '../x' }), /'\.\.' part/],
      [begin({ size: '101' }), /101 bytes is more than this server accepts in one upload \(100 bytes\)/],
      [begin({ size: '-1' }), /invalid size "-1"/],
      [begin({ size: '9007199254740993' }), /invalid size/],
      [begin({ offset: '11' }), /past the declared size 10/],
      [begin({ sha256: SHA_A.toUpperCase() }), /invalid sha256 .*64 lowercase hex digits/],
      [begin({ ifSha256Match: 'abc' }), /invalid if_sha256_match/],
      [begin({ ifVersionMatch: 'v'.repeat(257) }), /invalid if_version_match/],
    ];
    for (const [message, why] of refusals) {
      expect(() => parseBegin(message, 100), JSON.stringify(message))
        .to.throw(why)
        .with.property('code', status.INVALID_ARGUMENT);
    }
  });

  it('only creates without a precondition, replaces only what the precondition names, and takes the same content as complete', () => {
    const plan = { name: 'a.bin', size: 10, sha256: SHA_A, ifSha256: '', ifVersion: '' };
    const file = (sha256: string, size = 10): TargetFacts => ({ kind: 'file', size, version: 'v1', sha256 });
    const verdict = (facts: TargetFacts, precondition: { ifSha256?: string; ifVersion?: string } = {}) => {
      const found = targetVerdict({ ...plan, ...precondition }, facts);
      return found.action === 'refuse' ? status[found.error.code] : found.action;
    };
    expect(verdict({ kind: 'none' })).to.equal('create');
    expect(verdict(file(SHA_A))).to.equal('complete');
    expect(verdict(file(SHA_B))).to.equal('ALREADY_EXISTS');
    expect(verdict({ kind: 'file', size: 9, version: 'v1' })).to.equal('ALREADY_EXISTS');
    expect(verdict({ kind: 'other' })).to.equal('ALREADY_EXISTS');
    expect(verdict({ kind: 'blocked', part: 'in' })).to.equal('FAILED_PRECONDITION');
    expect(verdict(file(SHA_B), { ifSha256: SHA_B })).to.equal('replace');
    expect(targetVerdict({ ...plan, ifVersion: 'v1' }, file(SHA_B))).to.deep.equal({ action: 'replace', version: 'v1' });
    expect(verdict(file(SHA_B), { ifSha256: SHA_A })).to.equal('FAILED_PRECONDITION');
    expect(verdict(file(SHA_B), { ifVersion: 'v2' })).to.equal('FAILED_PRECONDITION');
    expect(verdict(file(SHA_B), { ifSha256: SHA_B, ifVersion: 'v2' })).to.equal('FAILED_PRECONDITION');
    expect(verdict({ kind: 'none' }, { ifSha256: SHA_B })).to.equal('FAILED_PRECONDITION');
    expect(verdict(file(SHA_A), { ifSha256: SHA_A })).to.equal('complete');
  });

  it('continues a call only where the staged bytes end (OUT_OF_RANGE otherwise, naming the offset)', () => {
    expect(offsetProblem(5, 5)).to.equal(undefined);
    expect(offsetProblem(5, 0)).to.include({
      code: status.OUT_OF_RANGE,
      message: 'the server holds 5 bytes of this upload, so it continues at offset 5, not 0',
    });
    expect(offsetProblem(0, 5)?.code).to.equal(status.OUT_OF_RANGE);
  });

  it('names an upload by what it writes, so that other content never shares its staged bytes', () => {
    expect(uploadIdOf('a.bin', 10, SHA_A))
      .to.match(/^[0-9a-f]{64}$/)
      .and.equal(uploadIdOf('a.bin', 10, SHA_A));
    expect(
      new Set([uploadIdOf('a.bin', 10, SHA_A), uploadIdOf('a.bin', 10, SHA_B), uploadIdOf('a.bin', 11, SHA_A), uploadIdOf('b.bin', 10, SHA_A)]).size,
    ).to.equal(4);
  });

  it('keeps the staging folder outside the root and on its file system', () => {
    const same = { root: 1, dir: 1 };
    expect(stagingProblem('/srv/files', '/srv/.files.uploads', same)).to.equal(undefined);
    expect(stagingProblem('/srv/files', '/srv/files/.uploads', same)).to.match(/inside the served root/);
    expect(stagingProblem('/srv/files', '/srv/files', same)).to.match(/inside the served root/);
    expect(stagingProblem('/srv/files', '/srv', same)).to.match(/contains the served root/);
    expect(stagingProblem('/srv/files', '/var/uploads', { root: 1, dir: 2 })).to.match(/another file system/);
  });

  it('fits an upload in the staging quota with what the others hold', () => {
    expect(quotaProblem(6, 4, 10)).to.equal(undefined);
    expect(quotaProblem(7, 4, 10)).to.equal(
      'the upload staging area holds 7 bytes of its 10-byte quota; 4 more do not fit: try again once other uploads have finished',
    );
  });
});

describe('token scopes', () => {
  it('reads a token alone as read-only, and a token with its scopes', () => {
    expect(parseTokenLine('s3cret', 1)).to.deep.equal({ token: 's3cret', scopes: ['read'] });
    expect(parseTokenLine('s3cret write', 1)).to.deep.equal({ token: 's3cret', scopes: ['write'] });
    expect(parseTokenLine('s3cret\tread,write', 1)).to.deep.equal({ token: 's3cret', scopes: ['read', 'write'] });
  });

  it('refuses a scope it does not know and a line with more words, naming the line', () => {
    expect(() => parseTokenLine('s3cret admin', 3)).to.throw('line 3: unknown scope "admin"; scopes are read and write (TOKEN read,write)');
    expect(() => parseTokenLine('s3cret read write', 4)).to.throw(/^line 4: expected a token and at most one list of scopes/);
  });

  it('asks read of the read methods, write of the upload methods, both of a method it does not know, and nothing of health', () => {
    expect(scopesOf('/filetransfer.v1.FileService/Download')).to.deep.equal(['read']);
    expect(scopesOf('/filetransfer.v1.FileService/Blocks')).to.deep.equal(['read']);
    expect(scopesOf('/filetransfer.v1.FileService/Upload')).to.deep.equal(['write']);
    expect(scopesOf('/filetransfer.v1.FileService/QueryUpload')).to.deep.equal(['write']);
    expect(scopesOf('/filetransfer.v1.FileService/Delete')).to.deep.equal(['read', 'write']);
    expect(scopesOf('/filetransfer.v1.FileService/toString')).to.deep.equal(['read', 'write']);
    expect(scopesOf('/grpc.health.v1.Health/Check')).to.deep.equal([]);
  });
});
