// @ts-nocheck
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readlinkSync } from 'node:fs';
import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { acquireLock, holderIsGone, parseHolder, type Place } from '../../../src/client/fileLock.js';
import { tempDir } from '../../helpers/files.js';

const here: Place = { host: 'h1', pidNamespace: 'pid:[1]' };
const dead = () => false;
const alive = () => true;

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe('fileLock: when the holder of a lock is provably gone', function () {
  this.timeout(20_000);

  it('takes over only from a dead pid on this host and in this pid namespace', () => {
    expect(holderIsGone({ pid: 7, ...here }, here, dead)).to.equal(true);
    expect(holderIsGone({ pid: 7, ...here }, here, alive), 'alive, or the pid reused').to.equal(false);
    expect(holderIsGone({ pid: 7, host: 'h2', pidNamespace: 'pid:[1]' }, here, dead), 'another host').to.equal(false);
    expect(holderIsGone({ pid: 7, host: 'h1', pidNamespace: 'pid:[2]' }, here, dead), 'another container on this host').to.equal(false);
    expect(holderIsGone({ pid: 7 }, here, dead), 'an old record: pid only').to.equal(false);
    expect(holderIsGone({ pid: 7, ...here }, undefined, dead), 'no /proc to tell our namespace').to.equal(false);
    expect(holderIsGone(undefined, here, dead), 'no record yet').to.equal(false);
  });

  it('reads holder records, old bare pids included, and nothing else', () => {
    expect(parseHolder('{"pid":12,"host":"h","pidNamespace":"pid:[3]"}')).to.deep.equal({ pid: 12, host: 'h', pidNamespace: 'pid:[3]' });
    expect(parseHolder('12')).to.deep.equal({ pid: 12 });
    for (const text of ['', 'x', '-1', '1.5', '{"pid":"12"}', 'null', '[12]']) expect(parseHolder(text), text).to.equal(undefined);
  });

  describe('acquireLock against a fresh lock left by a killed process', () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    let lockPath: string;
    beforeEach(async () => {
      ({ dir, cleanup } = await tempDir());
      dir = await realpath(dir);
      lockPath = path.join(dir, 'f.part.lock');
      await mkdir(lockPath);
    });
    afterEach(() => cleanup());

    it('takes it over at once when the holder ran here, recording itself as the holder', async () => {
      const pid = await deadPid();
      await writeFile(`${lockPath}.pid`, JSON.stringify({ pid, host: os.hostname(), pidNamespace: readlinkSync('/proc/self/ns/pid') }));
      const waits: (number | undefined)[] = [];
      const lock = await acquireLock(path.join(dir, 'f'), lockPath, { inside: dir, onWait: (holder) => waits.push(holder) });
      try {
        expect(waits).to.deep.equal([]);
        expect(JSON.parse(await readFile(`${lockPath}.pid`, 'utf8'))).to.include({ pid: process.pid, host: os.hostname() });
      } finally {
        await lock.release();
      }
    });

    it('waits for it to go stale when the holder ran on another host', async () => {
      const pid = await deadPid();
      await writeFile(`${lockPath}.pid`, JSON.stringify({ pid, host: `not-${os.hostname()}`, pidNamespace: readlinkSync('/proc/self/ns/pid') }));
      const stop = new AbortController();
      const waits: (number | undefined)[] = [];
      const outcome = await acquireLock(path.join(dir, 'f'), lockPath, {
        inside: dir,
        signal: stop.signal,
        onWait: (holder) => {
          waits.push(holder);
          stop.abort();
        },
      }).then(
        (lock) => lock.release().then(() => 'acquired'),
        (err: Error) => err.name,
      );
      expect(outcome).to.equal('AbortError');
      expect(waits).to.deep.equal([pid]);
    });
  });
});
