import { expect } from 'chai';
import { statusRowOf } from '../../../src/client/cli/statusRows.js';
import type { TaskRecord } from '../../../src/client/taskMap/taskRecord.js';

const record = (status: TaskRecord['status']): TaskRecord => ({
  name: 'a.bin',
  status,
  size: 100,
  version: 'v1',
  sha256: status === 'complete' ? 'a'.repeat(64) : null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  completedAt: status === 'complete' ? '2026-01-01T00:00:01.000Z' : null,
});

describe('statusRowOf', () => {
  it('complete: the file is there with its recorded size', () => {
    expect(statusRowOf(record('complete'), { size: 100 }, 'missing')).to.deep.equal({ state: 'complete', bytesOnDisk: 100, damage: null });
  });

  it("incomplete in segments: the verified blocks, not the sparse partial's length", () => {
    const sparse = {
      ...record('incomplete'),
      verifiedBlocks: {
        blockSize: 30,
        ranges: [
          [0, 1],
          [3, 4],
        ] as [number, number][],
      },
    };
    // Blocks 0 (30 bytes) and 3, the short last one (10 bytes).
    expect(statusRowOf(sparse, 'missing', { size: 100 })).to.deep.equal({ state: 'incomplete', bytesOnDisk: 40, damage: null });
    // The record still lists its blocks, but with the partial gone or emptied none of them is on disk.
    expect(statusRowOf(sparse, 'missing', 'missing')).to.deep.equal({ state: 'incomplete', bytesOnDisk: 0, damage: null });
    expect(statusRowOf(sparse, 'missing', { size: 0 })).to.deep.equal({ state: 'incomplete', bytesOnDisk: 0, damage: null });
  });

  it('deleted: a complete record whose file is gone', () => {
    expect(statusRowOf(record('complete'), 'missing', 'missing')).to.deep.equal({ state: 'deleted', bytesOnDisk: 0, damage: null });
  });

  it('damaged: a complete record whose file has another size, shorter or longer', () => {
    expect(statusRowOf(record('complete'), { size: 40 }, 'missing')).to.deep.equal({
      state: 'damaged',
      bytesOnDisk: 40,
      damage: 'size 40 bytes, recorded 100',
    });
    expect(statusRowOf(record('complete'), { size: 101 }, 'missing')).to.include({ state: 'damaged', damage: 'size 101 bytes, recorded 100' });
  });

  it('damaged: a complete record with something else than a file at its path', () => {
    expect(statusRowOf(record('complete'), { unusable: 'not a regular file' }, 'missing')).to.deep.equal({
      state: 'damaged',
      bytesOnDisk: 0,
      damage: 'not a regular file',
    });
  });

  it('incomplete: the bytes of the partial, or none', () => {
    expect(statusRowOf(record('incomplete'), 'missing', { size: 30 })).to.deep.equal({ state: 'incomplete', bytesOnDisk: 30, damage: null });
    expect(statusRowOf(record('incomplete'), 'missing', 'missing')).to.deep.equal({ state: 'incomplete', bytesOnDisk: 0, damage: null });
  });
});
