// @ts-nocheck
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writeback } from '../../../src/client/download/writeback.js';
import { tempDir } from '../../helpers/files.js';

describe('Writeback', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('syncs in the background as bytes pile up, and finishes with every byte in place', async () => {
    const file = path.join(dir, 'part');
    await writeFile(file, '');
    const handle = await open(file, 'r+');
    try {
      const writeback = new Writeback(handle, 4);
      for (let i = 0; i < 10; i += 1) {
        await handle.write(Buffer.from('ab'), 0, 2, i * 2);
        writeback.wrote(2);
      }
      await writeback.finish();
    } finally {
      await handle.close();
    }
    expect(await readFile(file, 'utf8')).to.equal('ab'.repeat(10));
  });

  it("reports a background sync's failure when finishing, and waits for it before the handle closes", async () => {
    // fdatasync on a FIFO fails with EINVAL: a real failure, no mock.
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const handle = await open(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      const writeback = new Writeback(handle, 1);
      writeback.wrote(1);
      await writeback.settled();
      expect((writeback.failure as NodeJS.ErrnoException).code, 'kept for the attempt to report').to.equal('EINVAL');
      const error = await writeback.finish().then(
        () => undefined,
        (err: NodeJS.ErrnoException) => err,
      );
      expect(error?.code).to.equal('EINVAL');
    } finally {
      await handle.close();
    }
  });
});
