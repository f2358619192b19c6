import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../helpers/files.js';

const SERVER_BIN = fileURLToPath(new URL('../../../dist/server/cli.js', import.meta.url));

/** Runs grpc-server to its exit; for arguments it must refuse before listening. */
async function runServer(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SERVER_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const listening = new Promise<never>((_, reject) =>
    child.stdout.on('data', () => {
      child.kill('SIGKILL');
      reject(new Error(`grpc-server started with ${args.join(' ')}: ${stdout}`));
    }),
  );
  const [code] = (await Promise.race([once(child, 'exit'), listening])) as [number | null];
  return { code, stdout, stderr };
}

describe('grpc-server hardening', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  it('refuses an unknown --log-level with one usage line and exit 2, no stack trace', async () => {
    const run = await runServer(['--root', dir, '--port', '0', '--log-level', 'verbose']);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/^error: option '--log-level <level>' argument 'verbose' is invalid\. Allowed choices are fatal, error, warn, info, debug, trace, silent\.\n$/);
  });
});
