import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileClient } from '../../../src/client/fileClient.js';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { startNginx, type NginxProcess } from '../../helpers/nginx.js';
import { pollUntil, runClient, spawnClient, startServerProcess, type ServerProcess } from '../../helpers/processes.js';
import { allCallsLogged, rawClient, rawStat } from '../../helpers/rawClient.js';
import { interruptedDownload, readTaskMap } from '../../helpers/transfers.js';

const BLOCK = 64 * 1024;

/** Flips the byte at `at` of `file`: same length, other bytes. */
async function flip(file: string, at: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0]! ^= 0xff;
    await handle.write(byte, 0, 1, at);
  } finally {
    await handle.close();
  }
}

describe('grpc-client: blocks (verify against the server, repair, files that grow)', function () {
  this.timeout(30_000);
  let dir: string;
  let root: string;
  let out: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess | undefined;
  let nginx: NginxProcess | undefined;
  const start = async (...args: string[]) => (server = await startServerProcess(root, { args: ['--block-size', '64k', ...args] }));
  const get = (...args: string[]) => runClient(['get', ...args, '--server', server!.address, '--out', out]);
  const verify = (...args: string[]) => runClient(['verify', ...args, '--out', out]);
  /** Waits until the server has logged `count` calls (of `method`): a call is logged as it ends, maybe after the client exited. */
  const logged = (count: number, method?: string) =>
    pollUntil(`${count} ${method ?? ''} calls in the server's log`, async () => (server!.calls(method).length >= count ? true : undefined), [server!]);
  /** The server's calls for `name` from the `from`-th on, as "Method" or "Download@offset". */
  const callsOf = (name: string, from = 0) =>
    server!
      .calls(undefined, name)
      .slice(from)
      .map((c) => (c.method === 'Download' ? `Download@${c.offset}` : c.method));

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    root = path.join(dir, 'root');
    out = path.join(dir, 'out');
    await mkdir(root);
  });

  afterEach(async () => {
    await nginx?.stop();
    await server?.kill();
    nginx = undefined;
    server = undefined;
    await cleanup();
  });

  it('verify -s names the byte ranges that differ and exits 1; --repair fetches only those blocks into a new file with the exact sha256', async () => {
    await start();
    const files = {
      'a.bin': await makeRandomFile(path.join(root, 'a.bin'), MiB),
      'long.bin': await makeRandomFile(path.join(root, 'long.bin'), 200_000),
      'short.bin': await makeRandomFile(path.join(root, 'short.bin'), 300_000),
    };
    expect((await get('a.bin', 'long.bin', 'short.bin')).code).to.equal(0);
    // Blocks 2 and 9 of a.bin; short.bin loses its tail from block 3 on; long.bin gains bytes.
    await flip(path.join(out, 'a.bin'), 150_000);
    await flip(path.join(out, 'a.bin'), 600_000);
    await truncate(path.join(out, 'short.bin'), 250_000);
    await appendFile(path.join(out, 'long.bin'), randomBytes(1000));
    const published = await stat(path.join(out, 'a.bin'));
    await allCallsLogged(server!);
    const downloads = server!.calls('Download').length;
    const streams = server!.calls('DownloadManyBatches').length;

    const check = await verify('-s', server!.address);
    expect(check.code, check.stderr).to.equal(1);
    expect(check.stdout).to.match(/^damaged +1\.00 MiB {2}a\.bin \(bytes 131072-196607, 589824-655359 differ from the server's\)$/m);
    expect(check.stdout).to.match(/^damaged +195\.3 KiB {2}long\.bin \(bytes 200000-200999 differ/m);
    expect(check.stdout).to.match(/^damaged +293\.0 KiB {2}short\.bin \(bytes 196608-299999 differ/m);
    expect(check.stdout).to.include('3 files: 0 ok, 3 not ok');
    await allCallsLogged(server!);
    expect(server!.calls('Download')).to.have.length(downloads, 'a verify fetches no file data');
    expect(server!.calls('DownloadManyBatches')).to.have.length(streams);

    const repair = await verify('--repair', '--json', '-s', server!.address);
    expect(repair.code, repair.stderr).to.equal(0);
    const results = Object.fromEntries(
      repair.stdout
        .trim()
        .split('\n')
        .map((line) => [JSON.parse(line).name, JSON.parse(line)]),
    );
    expect(results['a.bin']).to.deep.include({ verdict: 'repaired', blockSize: BLOCK, bytesReceived: 2 * BLOCK });
    expect(results['a.bin'].damaged).to.deep.equal([
      { start: 131072, end: 196608 },
      { start: 589824, end: 655360 },
    ]);
    expect(results['long.bin']).to.deep.include({ verdict: 'repaired', damaged: [{ start: 200_000, end: 201_000 }], bytesReceived: 0 });
    expect(results['short.bin']).to.deep.include({ verdict: 'repaired', damaged: [{ start: 196_608, end: 300_000 }] });
    // Only the damaged blocks crossed the wire, each fetched by range; the longer file was only cut.
    await logged(downloads + 3, 'Download');
    const fetched = server!
      .calls('Download')
      .slice(downloads)
      .map((c) => [c.name, c.offset, c.limit, c.bytesSent]);
    expect(fetched).to.have.deep.members([
      ['a.bin', '131072', '65536', BLOCK],
      ['a.bin', '589824', '65536', BLOCK],
      ['short.bin', '196608', '103392', 103_392],
    ]);
    const { tasks } = await readTaskMap(out);
    for (const [name, content] of Object.entries(files)) {
      expect(await sha256File(path.join(out, name)), name).to.equal(sha256(content));
      expect(tasks[name], name).to.include({ status: 'complete', size: content.length, sha256: sha256(content) });
    }
    // A new file renamed over the old one, never the published file patched in place.
    expect((await stat(path.join(out, 'a.bin'))).ino).to.not.equal(published.ino);
    expect((await readdir(out)).filter((f) => f.endsWith('.part'))).to.deep.equal([]);
  });

  it('a repair that fails midway (the file changed on the server) leaves the published file as it was', async () => {
    // Paced so that the repair is still fetching when the file changes.
    await start('--limit-rate', '128k');
    const content = await makeRandomFile(path.join(root, 'a.bin'), 512 * 1024);
    const damaged = Buffer.from(content);
    for (const at of [10, 200_000, 400_000]) damaged[at]! ^= 0xff;
    await mkdir(out);
    await writeFile(path.join(out, 'a.bin'), damaged);

    const repair = spawnClient(['verify', '--repair', 'a.bin', '--server', server!.address, '--out', out]);
    await pollUntil(
      'the repair to copy a.bin to its partial',
      () =>
        stat(path.join(out, 'a.bin.part')).then(
          () => true,
          () => undefined,
        ),
      [repair, server!],
    );
    await appendFile(path.join(root, 'a.bin'), 'more');
    const run = await repair.done;
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stdout).to.match(
      /^damaged .* a\.bin \(bytes 0-65535, 196608-262143, 393216-458751 differ from the server's; not repaired: .*changed on the server during the repair/m,
    );
    expect(await sha256File(path.join(out, 'a.bin'))).to.equal(sha256(damaged));
    expect((await readdir(out)).filter((f) => f.endsWith('.part'))).to.deep.equal([]);
  });

  it('a complete file that grew on the server is continued from its last full block; one changed in the middle is fetched again from 0', async () => {
    await start();
    const first = await makeRandomFile(path.join(root, 'log.bin'), MiB + 1000);
    expect((await get('log.bin')).code).to.equal(0);
    await logged(1);
    const added = randomBytes(100_000);
    await appendFile(path.join(root, 'log.bin'), added);
    const grown = Buffer.concat([first, added]);
    let before = server!.calls(undefined, 'log.bin').length;

    const run = await get('log.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/log\.bin: downloaded 1\.10 MiB .* verified, resumed from 1\.00 MiB/);
    await logged(before + 3);
    expect(callsOf('log.bin', before)).to.deep.equal(['Stat', 'Blocks', `Download@${MiB}`]);
    // The appended bytes and our partial last block (1000 bytes), fetched again whole.
    expect(server!.calls('Download', 'log.bin').at(-1)).to.include({ code: 'OK', bytesSent: added.length + 1000 });
    expect(await sha256File(path.join(out, 'log.bin'))).to.equal(sha256(grown));
    expect((await readTaskMap(out)).tasks['log.bin']).to.include({ status: 'complete', size: grown.length, sha256: sha256(grown) });

    await flip(path.join(root, 'log.bin'), 300_000);
    await appendFile(path.join(root, 'log.bin'), 'tail');
    before = server!.calls(undefined, 'log.bin').length;
    const again = await get('log.bin');
    expect(again.code, again.stderr).to.equal(0);
    await logged(before + 3);
    expect(callsOf('log.bin', before)).to.deep.equal(['Stat', 'Blocks', 'Download@0']);
    expect(server!.calls('Download', 'log.bin').at(-1)).to.include({ code: 'OK', bytesSent: grown.length + 4 });
    expect(await sha256File(path.join(out, 'log.bin'))).to.equal(await sha256File(path.join(root, 'log.bin')));
  });

  it('a partial whose file grew on the server keeps its full blocks when the server refuses the resume', async () => {
    await start();
    const first = await makeRandomFile(path.join(root, 'p.bin'), MiB);
    const raw = rawClient(server!.address);
    try {
      // Known digests on the server: the first download's info carries the
      // digest into the task map, and the resume below is judged by digest
      // (refused) instead of by reading the partial's prefix.
      await rawStat(raw, 'p.bin');
      const partial = await interruptedDownload(server!.address, out, 'p.bin', 200_000);
      expect((await readTaskMap(out)).tasks['p.bin']).to.include({ status: 'incomplete', sha256: sha256(first) });
      const added = randomBytes(100_000);
      await appendFile(path.join(root, 'p.bin'), added);
      await rawStat(raw, 'p.bin');
      const before = server!.calls(undefined, 'p.bin').length;

      const run = await get('p.bin');
      expect(run.code, run.stderr).to.equal(0);
      const from = Math.floor(partial / BLOCK) * BLOCK;
      await server!.waitForCall((c) => c.method === 'Download' && c.name === 'p.bin' && c.code === 'OK');
      // Our own Stat may reach the log after `before` was taken.
      expect(callsOf('p.bin', before).filter((c) => c !== 'Stat')).to.deep.equal([`Download@${partial}`, 'Blocks', `Download@${from}`]);
      const [refused, resumed] = server!.calls('Download', 'p.bin').slice(-2);
      expect(refused).to.include({ code: 'FAILED_PRECONDITION', bytesSent: 0 });
      expect(resumed).to.include({ code: 'OK', bytesSent: MiB + added.length - from });
      expect(resumed!.bytesSent).to.be.at.most(MiB + added.length - partial + BLOCK);
      expect(await sha256File(path.join(out, 'p.bin'))).to.equal(sha256(Buffer.concat([first, added])));
    } finally {
      raw.close();
    }
  });

  it('a server without Blocks (behind a proxy that does not pass it): verify compares whole, says so, --repair downloads again; a grown file starts from 0', async () => {
    await start();
    const nginxDir = path.join(dir, 'nginx');
    await mkdir(nginxDir);
    nginx = await startNginx([server!.address], nginxDir, { hidden: ['Blocks'] });
    const content = await makeRandomFile(path.join(root, 'o.bin'), 300_000);
    const client = new FileClient({ server: nginx.address, out });
    try {
      await client.download('o.bin');
      await flip(path.join(out, 'o.bin'), 100_000);

      const repair = await runClient(['verify', '--repair', '--server', nginx.address, '--out', out]);
      expect(repair.code, repair.stderr).to.equal(0);
      expect(repair.stderr).to.include(`the server at ${nginx.address} has no Blocks (an older version): files are compared whole, by sha256`);
      expect(repair.stdout).to.match(/^repaired +293\.0 KiB {2}o\.bin \(downloaded again: 293\.0 KiB\)$/m);
      expect(server!.calls('Blocks'), 'nginx answered Blocks itself').to.deep.equal([]);
      expect(await sha256File(path.join(out, 'o.bin'))).to.equal(sha256(content));

      await appendFile(path.join(root, 'o.bin'), randomBytes(1000));
      const grown = await client.download('o.bin');
      expect(grown).to.include({ transferred: true, resumedFrom: 0, bytesReceived: 301_000 });
      expect(await sha256File(path.join(out, 'o.bin'))).to.equal(await sha256File(path.join(root, 'o.bin')));
    } finally {
      await client.close();
    }
  });
});
