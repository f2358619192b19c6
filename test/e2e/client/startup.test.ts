import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../helpers/files.js';
import { runClient } from '../../helpers/processes.js';

const PROBE = fileURLToPath(new URL('../../helpers/loadedModules.cjs', import.meta.url));

/** What loading the gRPC stack looks like: grpc-js's index, the contract's parser, the progress bars. */
const HEAVY = /node_modules\/(@grpc\/grpc-js\/build\/src\/index\.js|protobufjs\/|@grpc\/proto-loader\/|cli-progress\/)/;

async function heavyModulesOf(args: string[]): Promise<string[]> {
  const { dir, cleanup } = await tempDir('gft-startup-');
  try {
    const list = path.join(dir, 'loaded.txt');
    const run = await runClient(args, { NODE_OPTIONS: `--require ${JSON.stringify(PROBE)}`, LOADED_MODULES_FILE: list });
    expect(run.stderr, 'the probe must not disturb the CLI').not.to.match(/loadedModules|Error:/);
    return (await readFile(list, 'utf8')).split('\n').filter((file) => HEAVY.test(file));
  } finally {
    await cleanup();
  }
}

// Every run of the CLI pays its start-up (measured: loading grpc-js,
// protobufjs and the contract was ~200 ms of a ~350 ms --help).
describe('grpc-client: start-up', function () {
  this.timeout(30_000);

  it('--help, status and verify load no part of the gRPC stack', async () => {
    const { dir, cleanup } = await tempDir('gft-startup-out-');
    try {
      for (const args of [['--help'], ['get', '--help'], ['status', '--out', dir], ['verify', '--out', dir]]) {
        expect(await heavyModulesOf(args), args.join(' ')).to.deep.equal([]);
      }
    } finally {
      await cleanup();
    }
  });

  it('a command that dials loads it, so the probe sees what the other test rules out', async () => {
    const heavy = await heavyModulesOf(['ls', '-s', '127.0.0.1:1']);
    expect(heavy.some((file) => file.includes('@grpc/grpc-js/build/src/index.js'))).to.equal(true);
    expect(heavy.some((file) => file.includes('protobufjs/'))).to.equal(true);
  });
});
