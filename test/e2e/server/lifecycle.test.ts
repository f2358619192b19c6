import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MiB, makeRandomFile, sha256, tempDir } from '../../helpers/files.js';
import { bounded, startServerProcess } from '../../helpers/processes.js';
import { rawClient, rawDownload } from '../../helpers/rawClient.js';

const SERVER_BIN = fileURLToPath(new URL('../../../dist/server/cli.js', import.meta.url));

describe('grpc-server: start and stop', function () {
  this.timeout(30_000);

  it('stops gracefully (exit 0) on a SIGTERM sent the moment it says it listens, every time', async () => {
    // A supervisor may signal as soon as it reads the line: the handler must
    // be in place by then. Before it was, 2 runs in 3 died of the signal.
    const { dir, cleanup } = await tempDir();
    try {
      for (let run = 0; run < 5; run += 1) {
        const server = await startServerProcess(dir, { args: ['--log-level', 'silent'] });
        server.process.kill('SIGTERM');
        const [code, signal] = (await bounded('the server to exit after SIGTERM', once(server.process, 'exit'), [])) as [number | null, NodeJS.Signals | null];
        expect({ run, code, signal }).to.deep.equal({ run, code: 0, signal: null });
      }
    } finally {
      await cleanup();
    }
  });

  it('lets a running download finish on SIGTERM, then exits 0', async () => {
    const { dir, cleanup } = await tempDir();
    const size = 32 * MiB;
    const content = await makeRandomFile(path.join(dir, 'f.bin'), size);
    const server = await startServerProcess(dir);
    // A plain client with grpc-js's 64 KiB window that stops reading after
    // its first chunk: the server cannot get more than its own few MiB of
    // buffers ahead, so the call is provably still running when SIGTERM
    // lands, however fast the machine.
    const client = rawClient(server.address);
    try {
      const call = client.download({ name: 'f.bin', offset: 0 });
      const received: Buffer[] = [];
      const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
      call.on('error', () => undefined);
      let paused = false;
      const firstData = new Promise<void>((resolve) =>
        call.on('data', (message: { data: Buffer }) => {
          received.push(message.data);
          if (paused || message.data.length === 0) return;
          paused = true;
          call.pause();
          resolve();
        }),
      );
      await bounded('the first chunk of f.bin', firstData, [server]);

      const exited = once(server.process, 'exit');
      const draining = server.waitForLog('shutting down: no new calls, running ones get the grace period');
      server.process.kill('SIGTERM');
      await draining;
      expect(server.calls('Download'), 'the download is still running after SIGTERM').to.deep.equal([]);
      expect(server.process.exitCode, 'the server waits for it').to.equal(null);

      call.resume();
      const ended = await bounded('the download to end', status, [server]);
      expect(ended.code, ended.details).to.equal(grpc.status.OK);
      const data = Buffer.concat(received);
      expect(data.length).to.equal(size);
      expect(sha256(data)).to.equal(sha256(content));
      const [code] = await bounded('the server to exit', exited);
      expect(code).to.equal(0);
      expect(server.calls('Download')).to.have.length(1);
      expect(server.calls('Download')[0]).to.include({ name: 'f.bin', code: 'OK', bytesSent: size });
    } finally {
      client.close();
      await server.kill();
      await cleanup();
    }
  });

  it("runs as an executable: its launcher lines exec node in the same pid, with the malloc thresholds and the small young generation, and leave a user's own alone", async () => {
    const { dir, cleanup } = await tempDir();
    const launch = async (env: NodeJS.ProcessEnv) => {
      const child = spawn(SERVER_BIN, ['--root', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
      try {
        const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
        expect(line).to.match(/^grpc-server listening on /);
        // The pid we started is node itself, not a shell waiting on it.
        const cmdline = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0');
        const environ = await readFile(`/proc/${child.pid}/environ`, 'utf8');
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        const [, signal] = await exited;
        expect(signal).to.equal('SIGKILL');
        return { cmdline, environ };
      } finally {
        child.kill('SIGKILL');
      }
    };
    try {
      const plain = await launch({ NODE_OPTIONS: '' });
      expect(path.basename(plain.cmdline[0]!)).to.equal('node');
      expect(plain.cmdline.slice(1, 3)).to.deep.equal(['--max-semi-space-size=1', SERVER_BIN]);
      expect(plain.environ).to.include('glibc.malloc.trim_threshold=');
      const own = await launch({ NODE_OPTIONS: '--max-semi-space-size=4' });
      expect(own.cmdline[1]).to.equal(SERVER_BIN);
    } finally {
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

  /** Runs grpc-server to its exit: its code and every stderr line. */
  async function serverExit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [SERVER_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await bounded('grpc-server to exit', once(child, 'close'))) as [number];
    return { code, stdout, stderr };
  }

  it('says only "port … is in use" when the port is taken, and exits 1', async () => {
    const { dir, cleanup } = await tempDir();
    const first = await startServerProcess(dir);
    try {
      const run = await serverExit(['--root', dir, '--port', String(first.port)]);
      expect(run.stderr).to.equal(`grpc-server: port ${first.port} is in use; choose another with --port\n`);
      expect(run.stdout).to.equal('');
      expect(run.code).to.equal(1);
    } finally {
      await first.kill();
      await cleanup();
    }
  });

  it('names --metrics-port when that port is taken, with or without --workers, and exits 1', async () => {
    const { dir, cleanup } = await tempDir();
    const taken = net.createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as AddressInfo).port;
    try {
      for (const workers of ['1', '2']) {
        const run = await serverExit(['--root', dir, '--port', '0', '--metrics-port', String(port), '--workers', workers]);
        // Log lines (JSON) aside, the reason alone, in the words of its flag.
        const said = run.stderr.split('\n').filter((line) => line && !line.startsWith('{'));
        expect(said, `--workers ${workers}`).to.deep.equal([`grpc-server: --metrics-port ${port} is in use; choose another`]);
        expect(run.stdout).to.equal('');
        expect(run.code).to.equal(1);
      }
    } finally {
      taken.close();
      await cleanup();
    }
  });

  it('names --token-file when its file does not exist', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const run = await serverExit(['--root', dir, '--port', '0', '--token-file', path.join(dir, 'missing.txt')]);
      expect(run.stderr).to.equal(`grpc-server: --token-file ${path.join(dir, 'missing.txt')}: no such file\n`);
      expect(run.code).to.equal(1);
    } finally {
      await cleanup();
    }
  });

  it("takes --chunk-size with the suffixes of the client's --limit-rate", async () => {
    const { dir, cleanup } = await tempDir();
    const content = await makeRandomFile(path.join(dir, 'f.bin'), 200 * 1024);
    const server = await startServerProcess(dir, { args: ['--chunk-size', '64k'] });
    const client = rawClient(server.address);
    try {
      const outcome = await rawDownload(client, { name: 'f.bin', offset: 0 });
      expect(sha256(outcome.data)).to.equal(sha256(content));
      const sizes = outcome.messages.map((m) => m.data.length).filter((n) => n > 0);
      expect(sizes.slice(0, 3)).to.deep.equal([65536, 65536, 65536]);
    } finally {
      client.close();
      await server.kill();
      await cleanup();
    }
  });

  it('refuses a --chunk-size above 1M, a --block-size off the 64k grid and an unknown flag in one line each, exit 2', async () => {
    const big = await serverExit(['--chunk-size', '2M']);
    expect(big.stderr).to.equal(
      "grpc-server: option '--chunk-size <size>' argument '2M' is invalid. expected a size from 1 byte to 1M, not 2M; try 'grpc-server --help'\n",
    );
    expect(big.code).to.equal(2);
    const block = await serverExit(['--block-size', '100k']);
    expect(block.stderr).to.equal(
      "grpc-server: option '--block-size <size>' argument '100k' is invalid. expected a multiple of 64k up to 1G (e.g. 64k, 1M, 4M), not 100k; try 'grpc-server --help'\n",
    );
    expect(block.code).to.equal(2);
    const typo = await serverExit(['--chunk-sise', '1M']);
    expect(typo.stderr).to.equal("grpc-server: unknown option '--chunk-sise' (Did you mean --chunk-size?); try 'grpc-server --help'\n");
    expect(typo.code).to.equal(2);
  });
});
