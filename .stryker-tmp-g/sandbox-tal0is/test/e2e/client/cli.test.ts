// @ts-nocheck
import { expect } from 'chai';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MiB, makeRandomFile, sha256, sha256File, tempDir, exists } from '../../helpers/files.js';
import { runClient, spawnClient, startServerProcess, waitForSize, type ServerProcess } from '../../helpers/processes.js';
import { taskMapOf } from '../../helpers/transfers.js';

describe('grpc-client: the command line', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let out: string;
  let cleanup: () => Promise<void>;
  let server: ServerProcess;
  let content: Buffer;

  before(async () => {
    const temp = await tempDir();
    ({ dir, cleanup } = temp);
    root = path.join(dir, 'root');
    await mkdir(path.join(root, 'nested', 'deeper'), { recursive: true });
    content = await makeRandomFile(path.join(root, 'a.bin'), 256 * 1024);
    await writeFile(path.join(root, 'nested', 'deeper', 'b.txt'), 'bee\n');
    await makeRandomFile(path.join(root, 'slow.bin'), 4 * MiB);
    server = await startServerProcess(root);
  });

  after(async () => {
    await server.kill('SIGTERM');
    await cleanup();
  });

  let testNumber = 0;
  beforeEach(() => {
    testNumber += 1;
    out = path.join(dir, `out${testNumber}`);
  });

  const get = (...args: string[]) => runClient(['get', ...args, '--server', server.address, '--out', out]);

  it('creates folders for nested names under --out', async () => {
    const run = await get('nested/deeper/b.txt', 'a.bin');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.equal('', 'no progress bar or noise when stderr is not a TTY');
    expect(await sha256File(path.join(out, 'nested', 'deeper', 'b.txt'))).to.equal(sha256(Buffer.from('bee\n')));
    expect(await sha256File(path.join(out, 'a.bin'))).to.equal(sha256(content));
  });

  it('prints the package version with --version', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const run = await runClient(['--version']);
    expect(run.code).to.equal(0);
    expect(run.stdout.trim()).to.equal(version);
  });

  it('ends quietly when whoever reads its output goes away (ls | head)', async () => {
    const client = spawnClient(['ls', '--server', server.address]);
    // Closed before the listing arrives: every line it prints hits EPIPE.
    client.process.stdout!.destroy();
    const run = await client.done;
    expect(run.stderr).to.not.match(/EPIPE|Error/);
    expect(run.code).to.equal(0);
  });

  it('prints nothing but errors with --quiet', async () => {
    const run = await get('a.bin', '--quiet');
    expect(run.code).to.equal(0);
    expect(run.stdout + run.stderr).to.equal('');
    expect(await sha256File(path.join(out, 'a.bin'))).to.equal(sha256(content));
  });

  it('says "not found on server" in one line, exits 8 and leaves nothing behind', async () => {
    const run = await get('nope.bin');
    expect(run.code).to.equal(8);
    expect(run.stderr).to.equal('grpc-client: not found on server: nope.bin\n');
    expect(await exists(path.join(out, 'nope.bin'))).to.equal(false);
    expect(await exists(path.join(out, 'nope.bin.part'))).to.equal(false);
  });

  it('downloads the good names of a batch and reports the bad one, exiting with its class (8, not found)', async () => {
    const run = await get('a.bin', 'missing.bin', 'nested/deeper/b.txt');
    expect(run.code).to.equal(8);
    expect(run.stderr).to.equal('grpc-client: not found on server: missing.bin\n');
    expect(await sha256File(path.join(out, 'a.bin'))).to.equal(sha256(content));
    expect(await exists(path.join(out, 'nested', 'deeper', 'b.txt'))).to.equal(true);
  });

  it('refuses names that would escape --out before contacting the server', async () => {
    const calls = server.calls().length;
    for (const name of ['../escape.bin', '/etc/passwd', 'a/./b']) {
      const run = await get(name);
      expect(run.code, name).to.equal(2);
      expect(run.stderr).to.match(/^grpc-client: invalid name .*\n$/);
    }
    expect(server.calls().length).to.equal(calls);
    expect(await exists(path.join(dir, 'escape.bin'))).to.equal(false);
  });

  it("refuses names that would collide with another download's partial or the folder's lock", async () => {
    for (const name of ['a.bin.part', '.grpc-client.lock', '.grpc-client.lock.pid']) {
      const run = await get(name);
      expect(run.code, name).to.equal(2);
      expect(run.stderr).to.match(/^grpc-client: invalid name .*(kept for the partials|overwrite the task map or its lock)/);
    }
  });

  it('never writes through a symlinked folder inside --out', async () => {
    const elsewhere = path.join(dir, `elsewhere${testNumber}`);
    await mkdir(elsewhere);
    await mkdir(out);
    await symlink(elsewhere, path.join(out, 'nested'));
    const run = await get('nested/deeper/b.txt');
    expect(run.code).to.equal(3);
    expect(run.stderr).to.include('is a symlink');
    expect(await readdir(elsewhere)).to.deep.equal([]);
  });

  it('with --retry-connrefused, gives up on an unreachable server after --retry-for, saying what to do', async () => {
    const run = await runClient(['get', 'a.bin', '--server', '127.0.0.1:1', '--out', out, '--retry-for', '1s', '--quiet', '--retry-connrefused']);
    expect(run.code).to.equal(4);
    expect(run.stderr).to.match(/^grpc-client: a\.bin: server 127\.0\.0\.1:1 unavailable .*is grpc-server running there\?.*--retry-for\n$/);
    expect(await exists(path.join(out, 'a.bin.part'))).to.equal(false);
  });

  it('refuses a bad --limit-rate with a usage error (exit 2)', async () => {
    const run = await get('a.bin', '--limit-rate', 'fast');
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include('invalid size "fast"');
    expect(await exists(out)).to.equal(false);
  });

  it('never shows a half file under the final name', async () => {
    const client = spawnClient(['get', 'slow.bin', '--server', server.address, '--out', out, '--limit-rate', '4M']);
    await waitForSize(path.join(out, 'slow.bin.part'), 1 * MiB, client);
    expect(await exists(path.join(out, 'slow.bin'))).to.equal(false);
    const run = await client.done;
    expect(run.code, run.stderr).to.equal(0);
    expect(await exists(path.join(out, 'slow.bin.part'))).to.equal(false);
    expect(await sha256File(path.join(out, 'slow.bin'))).to.equal(await sha256File(path.join(root, 'slow.bin')));
  });

  it('status shows the task map, as text and as JSON', async () => {
    expect((await get('a.bin')).code).to.equal(0);
    const text = await runClient(['status', '--out', out]);
    expect(text.code).to.equal(0);
    expect(text.stdout).to.match(/^complete\s+256\.0 KiB {2}a\.bin$/m);
    expect(text.stdout).to.include(`task map: ${taskMapOf(out)}`);
    const json = await runClient(['status', '--out', out, '--json']);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.file).to.equal(taskMapOf(out));
    expect(parsed.tasks[0]).to.include({ name: 'a.bin', status: 'complete', size: content.length, sha256: sha256(content) });
  });

  it('status --db reads a task map kept elsewhere', async () => {
    const db = path.join(dir, `tasks${testNumber}.json`);
    expect((await get('a.bin', '--db', db)).code).to.equal(0);
    expect(await exists(taskMapOf(out))).to.equal(false);
    const json = JSON.parse((await runClient(['status', '--out', out, '--db', db, '--json'])).stdout);
    expect(json.tasks.map((t: { name: string }) => t.name)).to.deep.equal(['a.bin']);
  });

  it('ls lists the server files under a prefix', async () => {
    const all = await runClient(['ls', '--server', server.address]);
    expect(all.code, all.stderr).to.equal(0);
    expect(
      all.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).at(-1)),
    ).to.deep.equal(['a.bin', 'nested/deeper/b.txt', 'slow.bin']);
    const nested = await runClient(['ls', 'nested/', '--server', server.address, '--json']);
    const lines = nested.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ name: 'nested/deeper/b.txt', size: 4 });
  });
});
