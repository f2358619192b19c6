// @ts-nocheck
import { expect } from 'chai';
import { localVerdict } from '../../../src/client/download/verifyLocal.js';
import type { TaskRecord } from '../../../src/client/taskMap/taskRecord.js';

const digest = 'a'.repeat(64);
const record = (status: TaskRecord['status']): TaskRecord => ({
  name: 'a.bin',
  status,
  size: 100,
  version: 'v1',
  sha256: status === 'complete' ? digest : null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  completedAt: status === 'complete' ? '2026-01-01T00:00:00.000Z' : null,
});

describe('localVerdict', () => {
  it('a file of the recorded size must be read before any verdict', () => {
    expect(localVerdict(record('complete'), 100)).to.equal('read');
  });

  it('the recorded digest: ok; another: damaged', () => {
    expect(localVerdict(record('complete'), 100, digest)).to.equal('ok');
    expect(localVerdict(record('complete'), 100, 'b'.repeat(64))).to.equal('damaged');
  });

  it('another length is told without reading the file', () => {
    expect(localVerdict(record('complete'), 99)).to.equal('size-differs');
    expect(localVerdict(record('complete'), 0)).to.equal('size-differs');
    expect(localVerdict(record('complete'), 101)).to.equal('size-differs');
  });

  it('no file: missing', () => {
    expect(localVerdict(record('complete'), null)).to.equal('missing');
  });

  it('a download under way has no digest to check; a name without a record is not found', () => {
    expect(localVerdict(record('incomplete'), 100, digest)).to.equal('not-complete');
    expect(localVerdict(undefined, 100, digest)).to.equal('not-found');
  });
});
