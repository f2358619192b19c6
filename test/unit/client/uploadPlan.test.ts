import { expect } from 'chai';
import { joinPrefix, putItemsOf } from '../../../src/client/cli/put.js';
import type { TaskRecord } from '../../../src/client/taskMap/taskRecord.js';
import { uploadMapFileOf } from '../../../src/client/upload/uploadMap.js';
import { localVersionOf, planUpload, preconditionOf } from '../../../src/client/upload/uploadPlan.js';

const SHA = 'c'.repeat(64);
const record = (status: 'incomplete' | 'complete', version = 'v1', size = 10): TaskRecord => ({
  name: 'a.bin',
  status,
  size,
  version,
  sha256: SHA,
  createdAt: 't',
  updatedAt: 't',
  completedAt: status === 'complete' ? 't' : null,
});

describe('upload plans', () => {
  const local = { size: 10, version: 'v1' };

  it('names the states as downloads do: new, incomplete (no hash), complete (skip), changed (replaces what was published)', () => {
    expect(planUpload(undefined, local)).to.deep.equal({ state: 'new', action: 'hash', replaces: undefined });
    expect(planUpload(record('incomplete'), local)).to.deep.equal({ state: 'incomplete', action: 'resume', sha256: SHA });
    expect(planUpload(record('complete'), local)).to.deep.equal({ state: 'complete', action: 'skip' });
    expect(planUpload(record('complete', 'v2'), local)).to.deep.equal({ state: 'changed', action: 'hash', replaces: SHA });
    expect(planUpload(record('complete', 'v1', 11), local)).to.deep.equal({ state: 'changed', action: 'hash', replaces: SHA });
    // Begun for another local file: its digest says nothing of this one.
    expect(planUpload(record('incomplete', 'v2'), local)).to.deep.equal({ state: 'new', action: 'hash', replaces: undefined });
  });

  it('tells a local file by inode, size and both times', () => {
    const stat = { dev: 1n, ino: 2n, size: 3n, mtimeNs: 4n, ctimeNs: 5n };
    const base = localVersionOf(stat);
    expect(base).to.match(/^[0-9a-f]{24}$/);
    for (const key of Object.keys(stat) as (keyof typeof stat)[]) expect(localVersionOf({ ...stat, [key]: 9n }), key).to.not.equal(base);
    // Digits run together would make inode 12 of 3 bytes the file of inode 1 with 23 bytes, and skip its upload.
    expect(localVersionOf({ ...stat, ino: 12n, size: 3n })).to.not.equal(localVersionOf({ ...stat, ino: 1n, size: 23n }));
  });

  it('takes --replace as a sha256 when it is 64 hex digits, else as a version', () => {
    expect(preconditionOf(undefined)).to.deep.equal({ ifSha256Match: '', ifVersionMatch: '' });
    expect(preconditionOf(SHA)).to.deep.equal({ ifSha256Match: SHA, ifVersionMatch: '' });
    expect(preconditionOf('0123456789abcdef01234567')).to.deep.equal({ ifSha256Match: '', ifVersionMatch: '0123456789abcdef01234567' });
    // 64 hex digits inside a longer string are not a sha256.
    expect(preconditionOf(`v${SHA}`)).to.deep.equal({ ifSha256Match: '', ifVersionMatch: `v${SHA}` });
    expect(preconditionOf(`${SHA}0`)).to.deep.equal({ ifSha256Match: '', ifVersionMatch: `${SHA}0` });
  });

  it('names files for put: --to a folder keeping their names, --as the whole name of one', () => {
    expect(putItemsOf(['/x/a.bin', 'b.bin'], { to: 'in/' })).to.deep.equal([
      { file: '/x/a.bin', name: 'in/a.bin' },
      { file: 'b.bin', name: 'in/b.bin' },
    ]);
    expect(putItemsOf(['/x/a.bin'], {})).to.deep.equal([{ file: '/x/a.bin', name: 'a.bin' }]);
    expect(putItemsOf(['/x/a.bin'], { as: 'r/2026.bin' })).to.deep.equal([{ file: '/x/a.bin', name: 'r/2026.bin' }]);
    expect(() => putItemsOf(['a', 'b'], { as: 'c' })).to.throw(RangeError, /--as names one file/);
    expect(() => putItemsOf(['a'], { as: 'c', to: 'd' })).to.throw(RangeError);
    expect([joinPrefix('.', 'a'), joinPrefix('', 'a'), joinPrefix('in//', 'a'), joinPrefix(undefined, 'a')]).to.deep.equal(['a', 'a', 'in/a', 'a']);
  });

  it('keeps one upload map per server in the user state folder, unless --db says where', () => {
    expect(uploadMapFileOf('127.0.0.1:50051', undefined, { XDG_STATE_HOME: '/state' })).to.equal('/state/grpc-client/uploads/127.0.0.1_50051.json');
    expect(uploadMapFileOf('dns:///files:50051', undefined, { XDG_STATE_HOME: '/state' })).to.equal('/state/grpc-client/uploads/dns____files_50051.json');
    expect(uploadMapFileOf('a:1', undefined, { HOME: '/home/u', XDG_STATE_HOME: 'relative' })).to.match(/\/\.local\/state\/grpc-client\/uploads\/a_1\.json$/);
    expect(uploadMapFileOf('a:1', '/tmp/m.json')).to.equal('/tmp/m.json');
  });
});
