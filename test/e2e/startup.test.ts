import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/files.js';
import { runClient, startServerProcess } from '../helpers/processes.js';

const PROBE = fileURLToPath(new URL('../helpers/loadedModules.cjs', import.meta.url));
const SERVER_BIN = fileURLToPath(new URL('../../dist/server/cli.js', import.meta.url));

/** What loading the gRPC stack looks like: grpc-js's index, the contract's parser, progress bars, metrics. */
const HEAVY = /node_modules\/(@grpc\/grpc-js\/build\/src\/index\.js|protobufjs\/|@grpc\/proto-loader\/|cli-progress\/|prom-client\/)/;

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
    expect(heavy.some((file) => file.includes('@grpc/grpc-js/build/src/index.js'))).to.equal(true);
    expect(heavy.some((file) => file.includes('protobufjs/'))).to.equal(true);
  });

  it('grpc-server --help loads none of it, and a server without --metrics-port no prom-client', async () => {
    const help = await heavyModulesOf((env) =>
      promisify(execFile)(process.execPath, [SERVER_BIN, '--help'], { env: { ...process.env, ...env }, timeout: 20_000 }),
    );
    expect(help).to.deep.equal([]);
    const { dir, cleanup } = await tempDir('gft-startup-root-');
    try {
      const served = await heavyModulesOf(async (env) => {
        const server = await startServerProcess(dir, { env });
        // SIGTERM, not -9: the probe writes its list on a normal exit.
        await server.kill('SIGTERM');
      });
      expect(served.some((file) => file.includes('@grpc/grpc-js/build/src/index.js'))).to.equal(true);
      expect(served.filter((file) => file.includes('prom-client/'))).to.deep.equal([]);
    } finally {
      await cleanup();
    }
  });
});
