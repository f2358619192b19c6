import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFileTransfer } from '../../../src/shared/proto.js';
import { tempDir } from '../../helpers/files.js';
import { startServerProcess } from '../../helpers/processes.js';

const SERVER_BIN = fileURLToPath(new URL('../../../dist/server/cli.js', import.meta.url));

/** Calls any method with an empty request and no token; resolves with the final status code. */
function callWithoutToken(client: grpc.Client, method: grpc.MethodDefinition<object, object>): Promise<grpc.status> {
  return new Promise((resolve) => {
    const settle = (err: grpc.ServiceError | null) => resolve(err ? err.code : grpc.status.OK);
    const { path: rpc, requestSerialize: serialize, responseDeserialize: deserialize } = method;
    if (!method.requestStream && !method.responseStream) {
      client.makeUnaryRequest(rpc, serialize, deserialize, {}, settle);
    } else if (method.requestStream && !method.responseStream) {
      client.makeClientStreamRequest(rpc, serialize, deserialize, settle).end({});
    } else {
      const call = method.requestStream ? client.makeBidiStreamRequest(rpc, serialize, deserialize) : client.makeServerStreamRequest(rpc, serialize, deserialize, {});
      if (method.requestStream) (call as grpc.ClientDuplexStream<object, object>).end({});
      call.on('data', () => undefined);
      call.on('error', (err: grpc.ServiceError) => settle(err));
      call.on('status', (status: grpc.StatusObject) => status.code === grpc.status.OK && settle(null));
    }
  });
}

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

  it('refuses every FileService RPC without a token, taken from the service definition so a new one is covered', async () => {
    const tokens = path.join(dir, 'tokens.txt');
    await writeFile(tokens, 'a-token\n');
    await writeFile(path.join(dir, 'f.txt'), 'content\n');
    const server = await startServerProcess(dir, { args: ['--token-file', tokens] });
    const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
    try {
      const methods = Object.entries(loadFileTransfer().FileService.service);
      expect(methods.map(([name]) => name)).to.include.members(['Download', 'Stat', 'List']);
      for (const [name, method] of methods) {
        expect(await callWithoutToken(client, method), name).to.equal(grpc.status.UNAUTHENTICATED);
        expect((await server.waitForCall((c) => c.method === name)).code, name).to.equal('UNAUTHENTICATED');
      }
    } finally {
      client.close();
      await server.kill();
    }
  });
});
