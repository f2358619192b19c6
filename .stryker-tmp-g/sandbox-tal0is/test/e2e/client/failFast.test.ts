// @ts-nocheck
import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { exists, makeRandomFile, tempDir } from '../../helpers/files.js';
import { runClient, startServerProcess, type ServerProcess } from '../../helpers/processes.js';

/** A port on 127.0.0.1 that nothing listens on: bound by the kernel, then closed. */
async function closedPort(): Promise<number> {
  const listener = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  const { port } = listener.address() as { port: number };
  await new Promise((resolve) => listener.close(resolve));
  return port;
}

const lines = (text: string) => text.split('\n').filter(Boolean);

describe('grpc-client: failing fast and usage errors, as curl and wget do', function () {
  // Far below the --retry-for 60s the runs are given: a run that waited out
  // its retries instead of failing fast fails the test by this timeout.
  this.timeout(15_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  const outDir = () => path.join(dir, `out${(n += 1)}`);

  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  describe('a server never reached in this run', () => {
    it('fails at once with one line and exit 4, not after --retry-for of retry lines', async () => {
      const port = await closedPort();
      const out = outDir();
      const run = await runClient(['get', 'f.bin', '--server', `127.0.0.1:${port}`, '--out', out, '--retry-for', '60s']);
      expect(run.stderr).to.equal(`grpc-client: cannot connect to 127.0.0.1:${port}: connection refused; is grpc-server running there?\n`);
      expect(run.stdout).to.equal('');
      expect(run.code).to.equal(4);
      expect(await exists(path.join(out, 'f.bin.part'))).to.equal(false);
    });

    it('says it once for a whole batch', async () => {
      const port = await closedPort();
      const run = await runClient(['get', 'a.bin', 'b.bin', 'c.bin', '--server', `127.0.0.1:${port}`, '--out', outDir(), '--retry-for', '60s']);
      expect(lines(run.stderr)).to.deep.equal([`grpc-client: cannot connect to 127.0.0.1:${port}: connection refused; is grpc-server running there?`]);
      const failed = /^3 files: 0 downloaded, 0 already complete, 3 failed .*; failed: (.*)\n$/.exec(run.stdout)?.[1];
      expect(failed?.split(', ').sort(), run.stdout).to.deep.equal(['a.bin', 'b.bin', 'c.bin']);
      expect(run.code).to.equal(4);
    });

    it('says so for ls too, with the same exit code', async () => {
      const port = await closedPort();
      const run = await runClient(['ls', '--server', `127.0.0.1:${port}`]);
      expect(run.stderr).to.equal(`grpc-client: cannot connect to 127.0.0.1:${port}: connection refused; is grpc-server running there?\n`);
      expect(run.code).to.equal(4);
    });

    it('dials port 50051 for a host given without one, not 443', async () => {
      const run = await runClient(['get', 'f.bin', '--server', 'localhost', '--out', outDir(), '--retry-for', '60s'], { GRPC_FILE_SERVER: '' });
      // Whatever listens on 50051 on this machine, it is the port dialled.
      expect(run.stderr).to.not.include(':443');
      if (run.code === 4) expect(run.stderr).to.match(/^grpc-client: cannot connect to localhost:50051: /);
    });
  });

  describe('usage errors: one line, a pointer to --help, exit 2, nothing done', () => {
    const usage = async (args: string[], expected: RegExp) => {
      const out = outDir();
      const run = await runClient(['get', 'f.bin', '--out', out, ...args]);
      expect(lines(run.stderr), run.stderr).to.have.length(1);
      expect(run.stderr).to.match(expected);
      expect(run.stderr).to.match(/; try 'grpc-client get --help'\n$/);
      expect(run.stdout).to.equal('');
      expect(run.code).to.equal(2);
      expect(await exists(out), 'nothing created').to.equal(false);
    };

    it('refuses a URL as --server, naming the host:port to give', () =>
      usage(
        ['-s', 'http://127.0.0.1:50051'],
        /^grpc-client: option '-s, --server <host:port>' argument 'http:\/\/127\.0\.0\.1:50051' is invalid\. Give host:port, not a URL, e\.g\. 127\.0\.0\.1:50051;/,
      ));

    it('refuses a --server with a trailing slash instead of retrying its name resolution', () =>
      usage(['-s', '127.0.0.1:50051/'], /^grpc-client: option '-s, --server <host:port>' argument '127\.0\.0\.1:50051\/' is invalid\. Give host:port/));

    it('refuses a GRPC_FILE_SERVER that is a URL, naming the variable', async () => {
      const run = await runClient(['get', 'f.bin', '--out', outDir()], { GRPC_FILE_SERVER: 'https://files.example' });
      expect(run.stderr).to.match(
        /^grpc-client: .*from env 'GRPC_FILE_SERVER' is invalid\. Give host:port, not a URL, e\.g\. files\.example:50051; try 'grpc-client get --help'\n$/,
      );
      expect(run.code).to.equal(2);
    });

    it('refuses an unknown flag with a suggestion, not the whole help', () =>
      usage(['--ot', 'x'], /^grpc-client: unknown option '--ot' \(Did you mean --out\?\);/));

    it('refuses an --out that is a file, naming --out, before contacting anyone or reading a task map', async () => {
      const file = path.join(dir, 'a-file.txt');
      await writeFile(file, 'not a folder\n');
      const port = await closedPort();
      const run = await runClient(['get', 'f.bin', '--out', file, '--server', `127.0.0.1:${port}`]);
      expect(run.stderr).to.equal(`grpc-client: --out ${file} is a file, not a folder; try 'grpc-client get --help'\n`);
      expect(run.code).to.equal(2);
      // status and verify, which read the task map there, say the same.
      for (const command of ['status', 'verify']) {
        const offline = await runClient([command, '--out', file]);
        expect(offline.stderr, command).to.equal(`grpc-client: --out ${file} is a file, not a folder; try 'grpc-client ${command} --help'\n`);
        expect(offline.code, command).to.equal(2);
      }
    });
  });

  it('documents units, exit codes and the environment in --help', async () => {
    const run = await runClient(['get', '--help']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/--retry-for <duration>[^]*a bare number is\s+seconds\)\s+\(default: 60s\)\n {2}--stall-timeout/);
    expect(run.stdout).to.match(/--stall-timeout <duration>[^]*a bare number is\s+seconds\)\s+\(default: 30s\)\n {2}--retry-connrefused/);
    expect(run.stdout).to.match(/-o, --out <folder>/);
    expect(run.stdout).to.match(/Examples:\n {2}\$ grpc-client get /);
    for (const line of [/^ {4}4 {2}server unreachable/m, /^ {4}8 {2}not found on the server/m, /^ {2}130 {2}interrupted/m]) expect(run.stdout).to.match(line);
    for (const name of ['GRPC_FILE_SERVER', 'GRPC_FILE_TOKEN', 'NODE_DEBUG=grpc-file:*']) expect(run.stdout).to.include(name);
  });

  describe('a server that was reached', () => {
    let server: ServerProcess;
    let root: string;
    before(async () => {
      root = path.join(dir, 'root');
      await mkdir(root);
      await makeRandomFile(path.join(root, 'f.bin'), 1024);
      server = await startServerProcess(root);
    });
    after(() => server.kill());

    it('exits 0 when all is well and 8 for a name it does not have', async () => {
      expect((await runClient(['get', 'f.bin', '--server', server.address, '--out', outDir()])).code).to.equal(0);
      const missing = await runClient(['get', 'nope.bin', '--server', server.address, '--out', outDir()]);
      expect(missing.stderr).to.equal('grpc-client: not found on server: nope.bin\n');
      expect(missing.code).to.equal(8);
    });

    it('exits 1 for a batch whose failures differ in class', async () => {
      const run = await runClient(['get', 'nope.bin', '../bad', '--server', server.address, '--out', outDir()]);
      expect(lines(run.stderr)).to.have.length(2);
      expect(run.code).to.equal(1);
    });
  });
});
