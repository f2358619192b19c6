// @ts-nocheck
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sha256File, tempDir } from '../helpers/files.js';
import { CLIENT_BIN, runClient, SERVER_BIN, startServerProcess } from '../helpers/processes.js';

const PROBE = fileURLToPath(new URL('../helpers/loadedModules.cjs', import.meta.url));

/**
 * What loading the gRPC stack looks like: grpc-js's index, the contract's
 * parser, progress bars, metrics; in grpc-client's bundle, where grpc-js
 * has no files, Node's HTTP/2, which grpc-js loads with it.
 */
const HEAVY = /^node:http2$|node_modules\/(@grpc\/grpc-js\/build\/src\/index\.js|protobufjs\/|@grpc\/proto-loader\/|cli-progress\/|prom-client\/)/;

/** The heavy modules a process loaded, run with the probe preloaded through the environment it is given. */
async function heavyModulesOf(run: (env: NodeJS.ProcessEnv) => Promise<unknown>): Promise<string[]> {
  const { dir, cleanup } = await tempDir('gft-startup-');
  try {
    const list = path.join(dir, 'loaded.txt');
    await run({ NODE_OPTIONS: `--require ${JSON.stringify(PROBE)}`, LOADED_MODULES_FILE: list });
    return (await readFile(list, 'utf8')).split('\n').filter((file) => HEAVY.test(file));
  } finally {
    await cleanup();
  }
}

const client = (args: string[]) => async (env: NodeJS.ProcessEnv) => {
  const run = await runClient(args, env);
  expect(run.stderr, 'the probe must not disturb the CLI').not.to.match(/loadedModules|Error:/);
};

// Every run of a CLI pays its start-up (measured: loading grpc-js,
// protobufjs and the contract was ~200 ms of a ~350 ms --help).
describe('start-up of the CLIs', function () {
  this.timeout(30_000);

  it('grpc-client --help, status and verify load no part of the gRPC stack', async () => {
    const { dir, cleanup } = await tempDir('gft-startup-out-');
    try {
      for (const args of [['--help'], ['get', '--help'], ['status', '--out', dir], ['verify', '--out', dir]]) {
        expect(await heavyModulesOf(client(args)), args.join(' ')).to.deep.equal([]);
      }
    } finally {
      await cleanup();
    }
  });

  it('a command that dials loads it, so the probe sees what the other tests rule out', async () => {
    const heavy = await heavyModulesOf(client(['ls', '-s', '127.0.0.1:1']));
    expect(heavy).to.include('node:http2');
  });

  it('grpc-server --help loads none of it, and a server without --metrics-port no prom-client', async () => {
    const help = await heavyModulesOf((env) =>
      promisify(execFile)(process.execPath, [SERVER_BIN, '--help'], { env: { ...process.env, ...env }, timeout: 20_000 }),
    );
    expect(help).to.deep.equal([]);
    // A port in use ends the server by itself once it has loaded all it
    // starts with, so the probe's list is written on a plain exit; a signal
    // right after the readiness line can arrive before its handlers.
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { dir, cleanup } = await tempDir('gft-startup-root-');
    try {
      const port = String((busy.address() as AddressInfo).port);
      const served = await heavyModulesOf(async (env) => {
        const failed = await promisify(execFile)(process.execPath, [SERVER_BIN, '--root', dir, '--port', port], {
          env: { ...process.env, ...env },
          timeout: 20_000,
        }).then(
          () => undefined,
          (err: { code?: number; stderr?: string }) => err,
        );
        expect(failed?.code, 'the server must fail on the busy port').to.equal(1);
        expect(failed?.stderr).to.match(/port \d+ is in use/);
      });
      expect(served.some((file) => file.includes('@grpc/grpc-js/build/src/index.js'))).to.equal(true);
      expect(served.filter((file) => file.includes('prom-client/'))).to.deep.equal([]);
    } finally {
      busy.close();
      await cleanup();
    }
  });

  it('grpc-client get without a terminal loads no progress bars', async () => {
    const { dir, cleanup } = await tempDir('gft-startup-get-');
    const server = await startServerProcess(dir);
    try {
      await writeFile(path.join(dir, 'a.txt'), 'start-up\n');
      const heavy = await heavyModulesOf(client(['get', 'a.txt', '-s', server.address, '-o', path.join(dir, 'out')]));
      expect(await sha256File(path.join(dir, 'out', 'a.txt'))).to.equal(await sha256File(path.join(dir, 'a.txt')));
      expect(heavy).to.include('node:http2');
      expect(heavy.filter((file) => file.includes('cli-progress/'))).to.deep.equal([]);
    } finally {
      await server.kill();
      await cleanup();
    }
  });

  it("grpc-client run as an executable: its launcher line execs node with the smaller young generation, the larger first old-generation limit and the malloc settings, and leaves a user's own alone", async () => {
    const { dir, cleanup } = await tempDir('gft-startup-launcher-');
    try {
      const probe = path.join(dir, 'probe.cjs');
      const seen = path.join(dir, 'seen.json');
      await writeFile(
        probe,
        `require('node:fs').writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ execArgv: process.execArgv, tunables: process.env.GLIBC_TUNABLES }));\n`,
      );
      const launch = async (env: NodeJS.ProcessEnv) => {
        const { stdout } = await promisify(execFile)(CLIENT_BIN, ['--version'], { env: { ...process.env, ...env }, timeout: 20_000 });
        expect(stdout.trim()).to.match(/^\d+\.\d+\.\d+/);
        return JSON.parse(await readFile(seen, 'utf8')) as { execArgv: string[]; tunables: string };
      };
      const require = `--require ${JSON.stringify(probe)}`;
      const plain = await launch({ NODE_OPTIONS: require, GLIBC_TUNABLES: '' });
      expect(plain.execArgv).to.include.members(['--max-semi-space-size=8', '--initial-old-space-size=64']);
      expect(plain.tunables.split(':')).to.include.members(['glibc.malloc.trim_threshold=67108864', 'glibc.malloc.arena_max=2']);
      // glibc keeps the last value of a name: the user's comes last.
      const own = await launch({ NODE_OPTIONS: `${require} --max-semi-space-size=32`, GLIBC_TUNABLES: 'glibc.malloc.arena_max=8' });
      expect(own.execArgv).to.deep.equal(['--initial-old-space-size=64']);
      expect(own.tunables.split(':').filter((tunable) => tunable.startsWith('glibc.malloc.arena_max='))).to.deep.equal([
        'glibc.malloc.arena_max=2',
        'glibc.malloc.arena_max=8',
      ]);
    } finally {
      await cleanup();
    }
  });
});
