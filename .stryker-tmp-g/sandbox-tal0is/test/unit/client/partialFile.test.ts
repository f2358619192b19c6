// @ts-nocheck
import { expect } from 'chai';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { PartialFile } from '../../../src/client/download/partialFile.js';
import { LockLostError, RemoteStatusError } from '../../../src/client/errors.js';
import { status } from '../../../src/shared/grpcStatus.js';
import { tempDir } from '../../helpers/files.js';

describe('PartialFile.close', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  const chunk = Buffer.alloc(256 * 1024, 7);
  const cancelled = new RemoteStatusError(status.CANCELLED, 'call cancelled');

  /** A partial with four chunks appended in one tick: the first being written, three waiting. */
  async function appendedFour(): Promise<{ partial: PartialFile; file: string }> {
    const file = path.join(dir, 'a.bin.part');
    const partial = await PartialFile.open(dir, file, 0, undefined);
    for (let i = 0; i < 4; i += 1) expect(partial.append(chunk)).to.equal(undefined);
    return { partial, file };
  }

  it('writes every byte appended before it closes, after any failure but a lost lock', async () => {
    const { partial, file } = await appendedFour();
    expect(await partial.close(cancelled, new Error('stopped by the user'))).to.equal(cancelled);
    expect((await stat(file)).size).to.equal(4 * chunk.length);
  });

  it('drops the bytes still waiting when the lock was lost, whether the call failed with it or as CANCELLED', async () => {
    const lost = new LockLostError('a.bin', new Error('the lock file is gone'));
    for (const [failure, reason] of [
      [cancelled, lost],
      [lost, undefined],
    ]) {
      const { partial, file } = await appendedFour();
      expect(await partial.close(failure, reason)).to.equal(failure);
      // Only the write under way when it closed.
      expect((await stat(file)).size).to.equal(chunk.length);
    }
  });
});
