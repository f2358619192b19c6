import { expect } from 'chai';
import { planTask } from '../../../src/client/taskState.js';
import type { TaskRecord } from '../../../src/client/taskStore.js';

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
    expect(planTask({ record: undefined, finalExists: false, partSize: null })).to.deep.equal({
      state: 'new',
      action: 'download',
      offset: 0,
      expectedVersion: undefined,
    });
  });

  it('2. incomplete: partial and record → resume at the partial length, same version', () => {
    expect(planTask({ record: record('incomplete'), finalExists: false, partSize: 40 })).to.deep.equal({
      state: 'incomplete',
      action: 'download',
      offset: 40,
      expectedVersion: 'v1',
    });
  });

  it('3. complete and present → skip', () => {
    expect(planTask({ record: record('complete'), finalExists: true, partSize: null })).to.deep.equal({ state: 'complete', action: 'skip' });
  });

  it('4. complete but deleted → download again from 0', () => {
    expect(planTask({ record: record('complete'), finalExists: false, partSize: null })).to.include({ state: 'deleted', offset: 0 });
  });

  it('a partial without a record resumes at its length with no version: the digest decides', () => {
    expect(planTask({ record: undefined, finalExists: false, partSize: 7 })).to.deep.equal({
      state: 'orphan-partial',
      action: 'download',
      offset: 7,
      expectedVersion: undefined,
    });
  });

  it('a partial longer than the recorded size starts over', () => {
    expect(planTask({ record: record('incomplete', 10), finalExists: false, partSize: 11 })).to.include({ offset: 0 });
  });

  it('a final file the task map does not vouch for is verified, not trusted', () => {
    expect(planTask({ record: undefined, finalExists: true, partSize: null })).to.deep.equal({ state: 'unverified', action: 'verify' });
    expect(planTask({ record: record('incomplete'), finalExists: true, partSize: null })).to.deep.equal({ state: 'unverified', action: 'verify' });
  });

  it('an incomplete record whose partial vanished downloads from 0', () => {
    expect(planTask({ record: record('incomplete'), finalExists: false, partSize: null })).to.include({ state: 'new', offset: 0 });
  });

  it('a partial exactly as long as the recorded size resumes there: the digest check is all that is left', () => {
    expect(planTask({ record: record('incomplete', 10), finalExists: false, partSize: 10 })).to.deep.equal({
      state: 'incomplete',
      action: 'download',
      offset: 10,
      expectedVersion: 'v1',
    });
  });

  it('a partial longer than the recorded size asks for no version either', () => {
    expect(planTask({ record: record('incomplete', 10), finalExists: false, partSize: 11 })).to.deep.equal({
      state: 'incomplete',
      action: 'download',
      offset: 0,
      expectedVersion: undefined,
    });
  });

  it('a complete file that is present is skipped even beside a stray partial', () => {
    expect(planTask({ record: record('complete'), finalExists: true, partSize: 5 })).to.deep.equal({ state: 'complete', action: 'skip' });
  });

  it('a partial beside a complete record whose file is gone is an orphan: its bytes are not of a known version', () => {
    expect(planTask({ record: record('complete'), finalExists: false, partSize: 5 })).to.deep.equal({
      state: 'orphan-partial',
      action: 'download',
      offset: 5,
      expectedVersion: undefined,
    });
  });
});
