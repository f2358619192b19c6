// @ts-nocheck
import { expect } from 'chai';
import path from 'node:path';
import { FolderSyncer } from '../../../src/client/download/folderSync.js';
import { tempDir } from '../../helpers/files.js';

/** A folder sync that records when it starts and finishes only when told to. */
function controlledSync() {
  const started: string[] = [];
  const pending: (() => void)[] = [];
  const sync = (folder: string) => {
    started.push(folder);
    return new Promise<void>((resolve) => pending.push(resolve));
  };
  const finishAll = async () => {
    for (const resolve of pending.splice(0)) resolve();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { sync, started, finishAll };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('FolderSyncer', () => {
  it('lets renames made while a sync runs share the next one', async () => {
    const fake = controlledSync();
    const syncer = new FolderSyncer(fake.sync);
    const first = syncer.sync('/out');
    await tick();
    expect(fake.started).to.deep.equal(['/out']);
    // Made after the running sync started: it may not cover them.
    const later = Array.from({ length: 7 }, () => syncer.sync('/out'));
    await tick();
    expect(fake.started, 'none starts while one runs').to.have.length(1);
    await fake.finishAll();
    await first;
    expect(fake.started, 'one more for all seven').to.deep.equal(['/out', '/out']);
    await fake.finishAll();
    await Promise.all(later);
  });

  it('keeps folders apart', async () => {
    const fake = controlledSync();
    const syncer = new FolderSyncer(fake.sync);
    const both = [syncer.sync('/a'), syncer.sync('/b')];
    await tick();
    expect(fake.started).to.have.members(['/a', '/b']);
    await fake.finishAll();
    await Promise.all(both);
  });

  it('fsyncs a real folder, and fails for a missing one', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const syncer = new FolderSyncer();
      await syncer.sync(dir);
      const error = await syncer.sync(path.join(dir, 'missing')).then(
        () => undefined,
        (err: NodeJS.ErrnoException) => err,
      );
      expect(error?.code).to.equal('ENOENT');
    } finally {
      await cleanup();
    }
  });
});
