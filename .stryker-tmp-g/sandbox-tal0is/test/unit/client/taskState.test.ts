// @ts-nocheck
import { expect } from 'chai';
import { planTask, remoteVerdict } from '../../../src/client/taskState.js';
import type { TaskRecord } from '../../../src/client/taskMap/taskRecord.js';

const record = (status: TaskRecord['status'], size = 100): TaskRecord => ({
  name: 'a.bin',
  status,
  size,
  version: 'v1',
  sha256: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  completedAt: null,
});

describe('planTask', () => {
  it('1. new: nothing on disk → download from 0', () => {
    expect(planTask({ record: undefined, finalSize: null, partSize: null })).to.deep.equal({
      state: 'new',
      action: 'download',
      offset: 0,
      expectedVersion: undefined,
    });
  });

  it('2. incomplete: partial and record → resume at the partial length, same version', () => {
    expect(planTask({ record: record('incomplete'), finalSize: null, partSize: 40 })).to.deep.equal({
      state: 'incomplete',
      action: 'download',
      offset: 40,
      expectedVersion: 'v1',
    });
  });

  it('3. complete and present → skip', () => {
    expect(planTask({ record: record('complete'), finalSize: 100, partSize: null })).to.deep.equal({ state: 'complete', action: 'skip' });
  });

  it('4. complete but deleted → download again from 0', () => {
    expect(planTask({ record: record('complete'), finalSize: null, partSize: null })).to.include({ state: 'deleted', offset: 0 });
  });

  it('a partial without a record resumes at its length with no version: the digest decides', () => {
    expect(planTask({ record: undefined, finalSize: null, partSize: 7 })).to.deep.equal({
      state: 'orphan-partial',
      action: 'download',
      offset: 7,
      expectedVersion: undefined,
    });
  });

  it('a partial longer than the recorded size starts over', () => {
    expect(planTask({ record: record('incomplete', 10), finalSize: null, partSize: 11 })).to.include({ offset: 0 });
  });

  it('a final file the task map does not vouch for is verified, not trusted', () => {
    expect(planTask({ record: undefined, finalSize: 100, partSize: null })).to.deep.equal({ state: 'unverified', action: 'verify' });
    expect(planTask({ record: record('incomplete'), finalSize: 100, partSize: null })).to.deep.equal({ state: 'unverified', action: 'verify' });
  });

  it('an incomplete record whose partial vanished downloads from 0', () => {
    expect(planTask({ record: record('incomplete'), finalSize: null, partSize: null })).to.include({ state: 'new', offset: 0 });
  });

  it('a partial exactly as long as the recorded size resumes there: the digest check is all that is left', () => {
    expect(planTask({ record: record('incomplete', 10), finalSize: null, partSize: 10 })).to.deep.equal({
      state: 'incomplete',
      action: 'download',
      offset: 10,
      expectedVersion: 'v1',
    });
  });

  it('a partial longer than the recorded size asks for no version either', () => {
    expect(planTask({ record: record('incomplete', 10), finalSize: null, partSize: 11 })).to.deep.equal({
      state: 'incomplete',
      action: 'download',
      offset: 0,
      expectedVersion: undefined,
    });
  });

  it('a complete file that is present is skipped even beside a stray partial', () => {
    expect(planTask({ record: record('complete'), finalSize: 100, partSize: 5 })).to.deep.equal({ state: 'complete', action: 'skip' });
  });

  it('a partial beside a complete record whose file is gone is an orphan: its bytes are not of a known version', () => {
    expect(planTask({ record: record('complete'), finalSize: null, partSize: 5 })).to.deep.equal({
      state: 'orphan-partial',
      action: 'download',
      offset: 5,
      expectedVersion: undefined,
    });
  });

  it('a complete file whose size is not the recorded one is unverified: checked by digest, not trusted', () => {
    expect(planTask({ record: record('complete', 100), finalSize: 40, partSize: null })).to.deep.equal({ state: 'unverified', action: 'verify' });
    expect(planTask({ record: record('complete', 100), finalSize: 0, partSize: null })).to.deep.equal({ state: 'unverified', action: 'verify' });
    expect(planTask({ record: record('complete', 100), finalSize: 101, partSize: null })).to.deep.equal({ state: 'unverified', action: 'verify' });
  });
});

describe('remoteVerdict', () => {
  const sha = (c: string) => c.repeat(64);
  const complete = { ...record('complete', 100), sha256: sha('a') };

  it('same size and version: current, whatever digest the server sends', () => {
    expect(remoteVerdict(complete, { size: 100, version: 'v1', sha256: '' })).to.equal('current');
    expect(remoteVerdict(complete, { size: 100, version: 'v1', sha256: sha('a') })).to.equal('current');
  });

  it('another version with the recorded sha256: same content, kept', () => {
    expect(remoteVerdict(complete, { size: 100, version: 'v2', sha256: sha('a') })).to.equal('same-content');
  });

  it('another version with another sha256 or none: changed', () => {
    expect(remoteVerdict(complete, { size: 100, version: 'v2', sha256: sha('b') })).to.equal('changed');
    expect(remoteVerdict(complete, { size: 100, version: 'v2', sha256: '' })).to.equal('changed');
  });

  it('another size: changed, even with the same version string', () => {
    expect(remoteVerdict(complete, { size: 99, version: 'v1', sha256: sha('a') })).to.equal('changed');
  });

  it('a record without a digest is only current by version', () => {
    expect(remoteVerdict({ ...complete, sha256: null }, { size: 100, version: 'v2', sha256: '' })).to.equal('changed');
  });
});
