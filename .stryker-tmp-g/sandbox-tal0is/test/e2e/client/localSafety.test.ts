// @ts-nocheck
import { expect } from 'chai';
import { mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MiB, exists, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { runClient, startServerProcess, type ServerProcess } from '../../helpers/processes.js';
import { taskMapOf } from '../../helpers/transfers.js';

describe('grpc-client get: never writes outside its own files', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  let content: Buffer;
  let testNumber = 0;
  let out: string;
  // What a server may serve under names the client keeps for itself: valid
  // JSON, so that a task map overwritten with it would still load.
  const planted = `${JSON.stringify({ tasks: { 'planted.bin': { name: 'planted.bin', status: 'complete', size: 1, version: 'x', sha256: null } } })}\n`;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    root = path.join(dir, 'root');
    await mkdir(root);
    content = await makeRandomFile(path.join(root, 'a.bin'), 1 * MiB);
    for (const name of [
      '.grpc-client-tasks.json',
      '.grpc-client-tasks.json.lock',
      '.grpc-client-tasks.json.journal',
      '..grpc-client-tasks.json.tmp',
      'tasks.json',
      'tasks.json.lock',
      'tasks.json.journal',
      '.tasks.json.tmp',
    ]) {
      await writeFile(path.join(root, name), planted);
    }
    server = await startServerProcess(root);
  });

  after(async () => {
    await server.kill('SIGTERM');
    await cleanup();
  });

  beforeEach(() => {
    testNumber += 1;
    out = path.join(dir, `out${testNumber}`);
  });

  for (const [what, victimBytes] of [
    ['a file outside --out', 1000],
    ['an empty file outside --out', 0],
  ] as const) {
    it(`never writes through a symlink planted at <out>/a.bin.part pointing to ${what}`, async () => {
      const victim = path.join(dir, `victim${testNumber}.txt`);
      const before = Buffer.alloc(victimBytes, 'v');
      await writeFile(victim, before);
      await mkdir(out);
      await symlink(victim, path.join(out, 'a.bin.part'));

      const run = await runClient(['get', 'a.bin', '--server', server.address, '--out', out]);

      const after = await readFile(victim);
      expect({ length: after.length, sha256: sha256(after) }, 'the file outside --out, byte for byte').to.deep.equal({
        length: before.length,
        sha256: sha256(before),
      });
      // The partial is opened with O_NOFOLLOW: the get fails on the link, in
      // one line naming it, and publishes nothing: a local I/O failure (3).
      expect(run.code, run.stderr).to.equal(3);
      expect(run.stderr).to.match(/^grpc-client: cannot open .*a\.bin\.part: .*ELOOP.*; fix that and run again.*\n$/);
      expect(await exists(path.join(out, 'a.bin'))).to.equal(false);
      if (victimBytes > 0) expect(await readlink(path.join(out, 'a.bin.part'))).to.equal(victim);
      else expect(await exists(path.join(out, 'a.bin.part')), 'an empty partial is litter: the link was removed, not its target').to.equal(false);
    });
  }

  it('refuses to download a file named like the task map, its lock, its journal or its temp file; the map stays intact', async () => {
    expect((await runClient(['get', 'a.bin', '--server', server.address, '--out', out])).code).to.equal(0);
    const map = await readFile(taskMapOf(out));
    const journal = await readFile(`${taskMapOf(out)}.journal`);
    for (const name of ['.grpc-client-tasks.json', '.grpc-client-tasks.json.lock', '.grpc-client-tasks.json.journal', '..grpc-client-tasks.json.tmp']) {
      const run = await runClient(['get', name, '--server', server.address, '--out', out]);
      expect(run.code, `${name}: ${run.stderr}`).to.equal(2);
      expect(run.stderr).to.equal(`grpc-client: invalid name ${JSON.stringify(name)}: it would overwrite the task map or its lock\n`);
      expect(server.calls('Download', name), 'refused before asking the server').to.deep.equal([]);
    }
    expect(await readFile(taskMapOf(out))).to.deep.equal(map);
    expect(await readFile(`${taskMapOf(out)}.journal`)).to.deep.equal(journal);
    expect((await readdir(out)).sort()).to.deep.equal(['.grpc-client-tasks.json', '.grpc-client-tasks.json.journal', 'a.bin']);
    expect(await sha256File(path.join(out, 'a.bin'))).to.equal(sha256(content));
  });

  it('refuses the names of a --db map inside --out, its lock, its journal and its temp file; the map stays intact', async () => {
    const db = path.join(out, 'tasks.json');
    expect((await runClient(['get', 'a.bin', '--server', server.address, '--out', out, '--db', db])).code).to.equal(0);
    const map = await readFile(db);
    const journal = await readFile(`${db}.journal`);
    for (const name of ['tasks.json', 'tasks.json.lock', 'tasks.json.journal', '.tasks.json.tmp']) {
      const run = await runClient(['get', name, '--server', server.address, '--out', out, '--db', db]);
      expect(run.code, `${name}: ${run.stderr}`).to.equal(2);
      expect(run.stderr).to.equal(`grpc-client: invalid name ${JSON.stringify(name)}: it would overwrite the task map or its lock\n`);
      expect(server.calls('Download', name), 'refused before asking the server').to.deep.equal([]);
    }
    expect(await readFile(db)).to.deep.equal(map);
    expect(await readFile(`${db}.journal`)).to.deep.equal(journal);
    expect((await readdir(out)).sort()).to.deep.equal(['a.bin', 'tasks.json', 'tasks.json.journal']);
  });
});
