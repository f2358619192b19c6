// @ts-nocheck
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { mkdir, open, readdir, readFile, readlink, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DigestMismatchError, LocalIoError } from '../../../src/client/errors.js';
import { FolderSyncer } from '../../../src/client/download/folderSync.js';
import { CommitWindow, windowDue, type Committed } from '../../../src/client/mirror/commitWindow.js';
import { outputPathsOf } from '../../../src/client/outputPaths.js';
import type { TaskRecords } from '../../../src/client/download/taskRecords.js';
import type { RemoteFile } from '../../../src/client/remoteFile.js';
import { exists, tempDir } from '../../helpers/files.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const remote = (name: string, size: number): RemoteFile => ({ name, size, version: 'v1', sha256: '', mtime: new Date(0) });

describe('CommitWindow: small files committed in groups', () => {
  let out: string;
  let cleanup: () => Promise<void>;
  let outcomes: Committed[];
  let recorded: string[];
  let window: CommitWindow;
  /** A window into `out` that tells `outcomes` and records into `recorded`, its folders synced by `syncer`. */
  const windowWith = (syncer: FolderSyncer | undefined) =>
    new CommitWindow(
      out,
      // The task map's side of it: what the window records complete.
      { markComplete: (name: string) => Promise.resolve(recorded.push(name)) } as unknown as TaskRecords,
      syncer,
      (outcome) => outcomes.push(outcome),
    );

  beforeEach(async () => {
    const temp = await tempDir();
    cleanup = temp.cleanup;
    out = await realpath(temp.dir);
    await mkdir(path.join(out, 'sub'));
    await mkdir(path.join(out, 'other'));
    outcomes = [];
    recorded = [];
    window = windowWith(undefined);
  });
  afterEach(() => cleanup());

  /**
   * What this process holds open under `out`, relative to it, sorted: the
   * descriptors of the window alone, whatever else the test process opens
   * or closes meanwhile (a count of all of them was not).
   */
  const heldUnder = async () => {
    const held: string[] = [];
    for (const fd of await readdir('/proc/self/fd')) {
      const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
      if (target === out || target.startsWith(`${out}/`)) held.push(path.relative(out, target));
    }
    return held.sort();
  };

  /** Writes `name` whole with `text` into `into` and ends it. */
  const whole = async (name: string, text: string, into = window) => {
    const file = await into.begin(outputPathsOf(out, name), remote(name, text.length));
    file.write(Buffer.from(text));
    expect(file.end(sha256(text))).to.equal(undefined);
  };

  it('publishes a file still arriving when the window before it commits, in its own folder', async () => {
    await whole('sub/b.bin', 'bbb');
    const a = await window.begin(outputPathsOf(out, 'sub/a.bin'), remote('sub/a.bin', 6));
    a.write(Buffer.from('aaa'));
    // The window of b.bin commits while a.bin is half there.
    await window.drain();
    expect(outcomes.map((o) => [o.name, o.ok])).to.deep.equal([['sub/b.bin', true]]);
    // Another folder opened meanwhile may get a descriptor number the
    // window let go of; its partial of the same name must stay its own.
    await writeFile(path.join(out, 'other', 'a.bin.part'), 'not this one');
    const other = await open(path.join(out, 'other'), 'r');
    try {
      a.write(Buffer.from('AAA'));
      expect(a.end(sha256('aaaAAA'))).to.equal(undefined);
      await window.drain();
    } finally {
      await other.close();
    }
    expect(outcomes.map((o) => [o.name, o.ok])).to.deep.equal([
      ['sub/b.bin', true],
      ['sub/a.bin', true],
    ]);
    expect(await readFile(path.join(out, 'sub', 'a.bin'), 'utf8')).to.equal('aaaAAA');
    expect(await exists(path.join(out, 'sub', 'a.bin.part'))).to.equal(false);
    expect(await readFile(path.join(out, 'other', 'a.bin.part'), 'utf8')).to.equal('not this one');
    expect(await exists(path.join(out, 'other', 'a.bin'))).to.equal(false);
    expect(recorded).to.deep.equal(['sub/b.bin', 'sub/a.bin']);
  });

  it('takes a second drop of a file whose write failed, as the stream that wrote it gives one, without closing anything else', async () => {
    // A FIFO in the partial's place: a write at a position fails (ESPIPE), as a full disk's would.
    execFileSync('mkfifo', [path.join(out, 'sub', 'f.bin.part')]);
    const reader = openSync(path.join(out, 'sub', 'f.bin.part'), constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const file = await window.begin(outputPathsOf(out, 'sub/f.bin'), remote('sub/f.bin', 3));
      expect(() => file.write(Buffer.from('abc'))).to.throw(LocalIoError);
      // Descriptors opened since may reuse the numbers the first drop freed.
      const others = Array.from({ length: 8 }, () => openSync(path.join(out, 'other'), constants.O_RDONLY | constants.O_DIRECTORY));
      try {
        expect(() => file.drop()).not.to.throw();
        for (const fd of others) expect(() => fstatSync(fd)).not.to.throw();
        await window.drain();
      } finally {
        for (const fd of others) closeSync(fd);
      }
    } finally {
      closeSync(reader);
    }
  });

  it('opens a folder once for the files of a window in it', async () => {
    const files = [];
    for (const name of ['sub/a.bin', 'sub/b.bin', 'sub/c.bin']) files.push(await window.begin(outputPathsOf(out, name), remote(name, 1)));
    expect(await heldUnder()).to.deep.equal(['sub', 'sub/a.bin.part', 'sub/b.bin.part', 'sub/c.bin.part']);
    for (const file of files) {
      file.write(Buffer.from('x'));
      expect(file.end(sha256('x'))).to.equal(undefined);
    }
    await window.drain();
    expect(outcomes.filter((o) => o.ok)).to.have.length(3);
  });

  it('pins a folder again for the next file when the only one in it was refused', async () => {
    const refused = await window.begin(outputPathsOf(out, 'sub/a.bin'), remote('sub/a.bin', 1));
    refused.write(Buffer.from('a'));
    expect(refused.end(sha256('not a'))).to.be.instanceOf(DigestMismatchError);
    await whole('sub/b.bin', 'b');
    await window.drain();
    expect(outcomes.map((o) => [o.name, o.ok])).to.deep.equal([['sub/b.bin', true]]);
    expect(await readFile(path.join(out, 'sub', 'b.bin'), 'utf8')).to.equal('b');
  });

  it('reports the files of a folder whose sync failed as failed, records only the others, and goes on', async () => {
    const eio = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    const syncer = new FolderSyncer((folder) => (folder.endsWith('other') ? Promise.reject(eio) : Promise.resolve()));
    const synced = windowWith(syncer);
    for (const name of ['sub/a.bin', 'other/b.bin', 'sub/c.bin']) await whole(name, 'x', synced);
    await synced.drain();
    expect(outcomes.map((o) => [o.name, o.ok])).to.deep.equal([
      ['sub/a.bin', true],
      ['other/b.bin', false],
      ['sub/c.bin', true],
    ]);
    const failure = outcomes[1] as Extract<Committed, { ok: false }>;
    expect(failure.error).to.be.instanceOf(LocalIoError);
    expect(failure.error.message).to.equal(`cannot sync ${path.join(out, 'other')}: i/o error (EIO)`);
    expect(recorded).to.deep.equal(['sub/a.bin', 'sub/c.bin']);
  });

  it('reports a file it cannot rename to its final name as failed, leaving its partial and the others published', async () => {
    // A folder with something in it where the file's final name goes: the rename fails.
    await mkdir(path.join(out, 'sub', 'a.bin', 'inside'), { recursive: true });
    await whole('sub/a.bin', 'a');
    await whole('sub/b.bin', 'b');
    await window.drain();
    expect(outcomes.map((o) => [o.name, o.ok])).to.deep.equal([
      ['sub/a.bin', false],
      ['sub/b.bin', true],
    ]);
    const failure = outcomes[0] as Extract<Committed, { ok: false }>;
    expect(failure.error).to.be.instanceOf(LocalIoError);
    expect(failure.error.message).to.match(new RegExp(`^cannot publish ${path.join(out, 'sub', 'a.bin')}: `));
    expect(await readFile(path.join(out, 'sub', 'a.bin.part'), 'utf8')).to.equal('a');
    expect(await readFile(path.join(out, 'sub', 'b.bin'), 'utf8')).to.equal('b');
    expect(recorded).to.deep.equal(['sub/b.bin']);
  });

  it('holds no folder open once drained, whether its files were published, refused or dropped', async () => {
    await whole('sub/a.bin', 'a');
    await whole('other/b.bin', 'b');
    const refused = await window.begin(outputPathsOf(out, 'sub/c.bin'), remote('sub/c.bin', 1));
    refused.write(Buffer.from('c'));
    expect(refused.end(sha256('not c'))).to.be.instanceOf(DigestMismatchError);
    const dropped = await window.begin(outputPathsOf(out, 'other/d.bin'), remote('other/d.bin', 2));
    dropped.write(Buffer.from('d'));
    dropped.drop();
    await window.drain();
    expect(outcomes.map((o) => [o.name, o.ok])).to.deep.equal([
      ['sub/a.bin', true],
      ['other/b.bin', true],
    ]);
    expect(await readdir(path.join(out, 'sub'))).to.deep.equal(['a.bin']);
    expect(await readdir(path.join(out, 'other'))).to.deep.equal(['b.bin']);
    expect(await heldUnder()).to.deep.equal([]);
  });
});

describe('windowDue: when a window of verified files commits', () => {
  const MiB = 1024 * 1024;

  it('at 256 files, 16 MiB or 250 ms, whichever comes first', () => {
    expect(windowDue(255, 16 * MiB - 1, 249)).to.equal(false);
    expect(windowDue(256, 0, 0)).to.equal(true);
    expect(windowDue(1, 16 * MiB, 0)).to.equal(true);
    expect(windowDue(1, 0, 250)).to.equal(true);
  });

  it('never for an empty window, however long ago the last one started', () => {
    expect(windowDue(0, 0, 60_000)).to.equal(false);
  });
});
