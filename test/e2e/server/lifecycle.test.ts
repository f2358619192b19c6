import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MiB, makeRandomFile, sha256, sha256File, tempDir } from '../../helpers/files.js';
import { spawnClient, startServerProcess, waitForSize } from '../../helpers/processes.js';

const SERVER_BIN = fileURLToPath(new URL('../../../dist/server/cli.js', import.meta.url));

describe('grpc-server: start and stop', function () {
  this.timeout(30_000);

  it('lets a running download finish on SIGTERM, then exits 0', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const root = path.join(dir, 'root');
      await mkdir(root);
      const content = await makeRandomFile(path.join(root, 'f.bin'), 6 * MiB);
      const server = await startServerProcess(root);
      const out = path.join(dir, 'out');
      const client = spawnClient(['get', 'f.bin', '--server', server.address, '--out', out, '--limit-rate', '3M']);
      await waitForSize(path.join(out, 'f.bin.part'), 256 * 1024);
      const exited = once(server.process, 'exit');
      server.process.kill('SIGTERM');
      const run = await client.done;
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.not.include('retrying', 'the call was not cut');
      expect(await sha256File(path.join(out, 'f.bin'))).to.equal(sha256(content));
      const [code] = await exited;
      expect(code).to.equal(0);
      const order = server.logs.map((entry) => entry.method ?? entry.msg);
      expect(order.indexOf('Download')).to.be.greaterThan(order.findIndex((msg) => msg.startsWith('shutting down')), 'the download was still running at SIGTERM');
    } finally {
      await cleanup();
    }
  });

  it('runs as an executable: its launcher lines exec node in the same pid, with the malloc thresholds', async () => {
    const { dir, cleanup } = await tempDir();
    const child = spawn(SERVER_BIN, ['--root', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      expect(line).to.match(/^grpc-server listening on /);
      // The pid we started is node itself, not a shell waiting on it.
      const cmdline = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0');
      expect(path.basename(cmdline[0]!)).to.equal('node');
      expect(cmdline[1]).to.equal(SERVER_BIN);
      const environ = await readFile(`/proc/${child.pid}/environ`, 'utf8');
      expect(environ).to.include('glibc.malloc.trim_threshold=');
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      const [, signal] = await exited;
      expect(signal).to.equal('SIGKILL');
    } finally {
      child.kill('SIGKILL');
      await cleanup();
    }
  });

  it('refuses a root that does not exist, in one line, with exit 1', async () => {
    const child = spawn(process.execPath, [SERVER_BIN, '--root', '/nonexistent/root', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).to.equal(1);
    expect(stderr).to.equal('grpc-server: root folder /nonexistent/root does not exist\n');
  });
});
