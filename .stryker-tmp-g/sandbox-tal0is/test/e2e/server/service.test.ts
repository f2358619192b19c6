// @ts-nocheck
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { mkdir, readdir, truncate, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FileClient } from '../../../src/client/fileClient.js';
import { rawClient } from '../../helpers/rawClient.js';
import { MiB, makeRandomFile, sha256, sha256File, tempDir, exists } from '../../helpers/files.js';
import { sigtermWhenServing } from '../../helpers/healthWatch.js';
import { runClient, spawnClient, startServerProcess, waitForSize, type ServerProcess } from '../../helpers/processes.js';

const reflectionProto = path.join(path.dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '../proto/grpc/reflection/v1/reflection.proto');

type Ctor = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & Record<string, (...args: unknown[]) => unknown>;
// Stubs of services we have no generated types for: their methods return
// whatever grpc-js makes of each call, which each test uses as it knows.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function stub(protoFile: string, dotted: string, address: string): grpc.Client & Record<string, (...args: unknown[]) => any> {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(protoFile, { enums: String, defaults: true, keepCase: true })) as Record<string, unknown>;
  const Service = dotted.split('.').reduce((node: Record<string, unknown>, key) => node[key] as Record<string, unknown>, loaded) as unknown as Ctor;
  return new Service(address, grpc.credentials.createInsecure());
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(dir: string): void {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  for (const who of ['server', 'client']) {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who}`, '-keyout', `${who}.key`, '-out', `${who}.csr`);
    writeFileSync(path.join(dir, `${who}.ext`), who === 'server' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' : 'extendedKeyUsage=clientAuth\n');
    run(
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      `${who}.ext`,
      '-out',
      `${who}.pem`,
    );
  }
}

describe('grpc-server as a service: health, reflection, TLS, tokens, logs, metrics', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let certs: string;
  let cleanup: () => Promise<void>;
  let content: Buffer;
  let n = 0;
  const outDir = () => path.join(dir, `out${(n += 1)}`);

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    root = path.join(dir, 'root');
    certs = path.join(dir, 'certs');
    await mkdir(root);
    await mkdir(certs);
    content = await makeRandomFile(path.join(root, 'f.bin'), 300_000);
    await makeRandomFile(path.join(root, 'slow.bin'), 4 * MiB);
    makeCertificates(certs);
  });
  after(() => cleanup());

  it('reports SERVING once listening and NOT_SERVING while draining on SIGTERM', async () => {
    const server = await startServerProcess(root);
    try {
      const health = await runClient(['health', '--server', server.address]);
      expect(health.stdout).to.equal('SERVING\n');
      expect(health.code).to.equal(0);
      expect((await runClient(['health', 'filetransfer.v1.FileService', '--server', server.address])).stdout).to.equal('SERVING\n');

      const out = outDir();
      const download = spawnClient(['get', 'slow.bin', '--server', server.address, '--out', out, '--limit-rate', '2M']);
      await waitForSize(path.join(out, 'slow.bin.part'), 256 * 1024, download);
      expect(await sigtermWhenServing(server)).to.deep.equal(['SERVING', 'NOT_SERVING']);
      expect((await download.done).code).to.equal(0);
    } finally {
      await server.kill();
    }
  });

  it('honours a client deadline: the call ends DEADLINE_EXCEEDED and the server lets go of it', async () => {
    const server = await startServerProcess(root);
    const client = rawClient(server.address);
    try {
      await writeFile(path.join(root, 'large.bin'), '');
      await truncate(path.join(root, 'large.bin'), 64 * MiB);
      const call = client.download({ name: 'large.bin', offset: 0 }, { deadline: Date.now() + 500 });
      call.on('data', () => call.pause());
      const [err] = (await once(call, 'error')) as [grpc.ServiceError];
      expect(err.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
      const logged = await server.waitForCall((c) => c.method === 'Download' && c.name === 'large.bin');
      expect(logged.code).to.equal('CANCELLED');
      expect(logged.bytesSent).to.be.below(16 * MiB);
    } finally {
      client.close();
      await server.kill();
    }
  });

  it('answers reflection, so generic tools can list the service', async () => {
    const server = await startServerProcess(root);
    try {
      const client = stub(reflectionProto, 'grpc.reflection.v1.ServerReflection', server.address);
      const call = client.ServerReflectionInfo() as grpc.ClientDuplexStream<unknown, { list_services_response: { service: { name: string }[] } }>;
      const replied = once(call, 'data');
      call.write({ list_services: '' });
      const [reply] = (await replied) as [{ list_services_response: { service: { name: string }[] } }];
      call.on('error', () => undefined);
      call.cancel();
      client.close();
      expect(reply.list_services_response.service.map((s) => s.name)).to.include('filetransfer.v1.FileService');
    } finally {
      await server.kill();
    }
  });

  it('serves TLS: a download verified against the CA is byte-identical, and so is an upload', async () => {
    const server = await startServerProcess(root, {
      args: ['--tls-cert', path.join(certs, 'server.pem'), '--tls-key', path.join(certs, 'server.key'), '--allow-upload'],
    });
    try {
      const out = outDir();
      const run = await runClient(['get', 'f.bin', '--server', server.address, '--out', out, '--tls-ca', path.join(certs, 'ca.pem')]);
      expect(run.code, run.stderr).to.equal(0);
      expect(await sha256File(path.join(out, 'f.bin'))).to.equal(sha256(content));
      const pushed = await runClient([
        'put',
        path.join(out, 'f.bin'),
        '--as',
        'over-tls.bin',
        '--server',
        server.address,
        '--tls-ca',
        path.join(certs, 'ca.pem'),
      ]);
      expect(pushed.code, pushed.stderr).to.equal(0);
      expect(await sha256File(path.join(root, 'over-tls.bin'))).to.equal(sha256(content));
      // --retry-for 60s: the one line comes at once, not when the retries run out.
      const plain = await runClient(['get', 'f.bin', '--server', server.address, '--out', outDir(), '--retry-for', '60s']);
      expect(plain.code).to.equal(4);
      expect(plain.stderr).to.equal(
        `grpc-client: cannot connect to ${server.address}: the server closed the connection before gRPC started; if it serves TLS, give --tls-ca (the CA that signed its certificate)\n`,
      );
    } finally {
      await server.kill();
    }
  });

  it('with mTLS, refuses a client without a certificate and serves one with', async () => {
    const server = await startServerProcess(root, {
      args: ['--tls-cert', path.join(certs, 'server.pem'), '--tls-key', path.join(certs, 'server.key'), '--tls-client-ca', path.join(certs, 'ca.pem')],
    });
    try {
      const refusedOut = outDir();
      const refused = await runClient(['get', 'f.bin', '--server', server.address, '--out', refusedOut, '--tls-ca', path.join(certs, 'ca.pem')]);
      expect(refused.code).to.equal(5);
      expect(refused.stderr).to.match(/^grpc-client: f\.bin: TLS handshake failed: .*certificate required.*; check --tls-ca .* --tls-cert and --tls-key\n$/);
      expect(await exists(path.join(refusedOut, 'f.bin'))).to.equal(false);
      const out = outDir();
      const run = await runClient([
        'get',
        'f.bin',
        '--server',
        server.address,
        '--out',
        out,
        '--tls-ca',
        path.join(certs, 'ca.pem'),
        '--tls-cert',
        path.join(certs, 'client.pem'),
        '--tls-key',
        path.join(certs, 'client.key'),
      ]);
      expect(run.code, run.stderr).to.equal(0);
      expect(await sha256File(path.join(out, 'f.bin'))).to.equal(sha256(content));
    } finally {
      await server.kill();
    }
  });

  describe('token auth', () => {
    // Each test gets its own server and token file, so that none depends on
    // calls, counters or a reloaded token file another left behind.
    let server: ServerProcess;
    let tokens: string;
    beforeEach(async () => {
      tokens = path.join(dir, `tokens${(n += 1)}.txt`);
      await writeFile(tokens, '# accepted tokens\nfirst-secret-token\n');
      await writeFile(path.join(dir, 'first.token'), 'first-secret-token\n');
      await writeFile(path.join(dir, 'second.token'), 'second-secret-token\n');
      server = await startServerProcess(root, { args: ['--token-file', tokens, '--metrics-port', '0'] });
    });
    afterEach(() => server.kill());

    it('answers a missing or wrong token with UNAUTHENTICATED: one clear line, nothing written', async () => {
      for (const env of [{}, { GRPC_FILE_TOKEN: 'wrong' }]) {
        const out = outDir();
        const run = await runClient(['get', 'f.bin', '--server', server.address, '--out', out], env);
        expect(run.code).to.equal(6);
        expect(run.stderr).to.match(/^grpc-client: f\.bin: the server refused the call \(.*\); give a token with --token-file or GRPC_FILE_TOKEN\n$/);
        expect(await readdir(out).catch(() => [])).to.not.include('f.bin');
        expect(await readdir(out).catch(() => [])).to.not.include('f.bin.part');
      }
      expect(server.calls('Download', 'f.bin').map((c) => c.code)).to.deep.equal(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    });

    it('keeps health open without a token', async () => {
      expect((await runClient(['health', '--server', server.address])).stdout).to.equal('SERVING\n');
    });

    it('serves a good token, from --token-file or GRPC_FILE_TOKEN', async () => {
      const out = outDir();
      const run = await runClient(['get', 'f.bin', '--server', server.address, '--out', out, '--token-file', path.join(dir, 'first.token')]);
      expect(run.code, run.stderr).to.equal(0);
      expect(await sha256File(path.join(out, 'f.bin'))).to.equal(sha256(content));
      const viaEnv = await runClient(['ls', '--server', server.address], { GRPC_FILE_TOKEN: 'first-secret-token' });
      expect(viaEnv.code, viaEnv.stderr).to.equal(0);
    });

    it('sends the token beside interceptor providers a library caller brings', async () => {
      let seen = 0;
      const counting: grpc.InterceptorProvider = () => (options, nextCall) => {
        seen += 1;
        return new grpc.InterceptingCall(nextCall(options));
      };
      const client = new FileClient({
        server: server.address,
        out: outDir(),
        token: 'first-secret-token',
        channelOptions: { interceptor_providers: [counting] },
      });
      try {
        expect((await client.list('')).map((file) => file.name)).to.include('f.bin');
        expect(seen).to.equal(1);
      } finally {
        await client.close();
      }
    });

    it('counts the bytes of a download on /metrics', async () => {
      for (const env of [{}, { GRPC_FILE_TOKEN: 'wrong' }]) expect((await runClient(['ls', '--server', server.address], env)).code).to.equal(6);
      const run = await runClient(['get', 'f.bin', '--server', server.address, '--out', outDir()], { GRPC_FILE_TOKEN: 'first-secret-token' });
      expect(run.code, run.stderr).to.equal(0);
      const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
      expect(Number(/^filetransfer_bytes_sent_total (\d+)$/m.exec(text)?.[1])).to.equal(content.length);
      expect(text).to.match(/^grpc_server_handled_total\{grpc_method="Download",grpc_code="OK"\} 1$/m);
      expect(text).to.match(/^grpc_server_handled_total\{grpc_method="ListBatches",grpc_code="UNAUTHENTICATED"\} 2$/m);
    });

    it('reloads the token file on SIGHUP', async () => {
      await writeFile(tokens, 'second-secret-token\n');
      const reloaded = server.waitForLog('token file reloaded');
      server.process.kill('SIGHUP');
      await reloaded;
      const old = await runClient(['get', 'f.bin', '--server', server.address, '--out', outDir(), '--token-file', path.join(dir, 'first.token')]);
      expect(old.code).to.equal(6);
      const fresh = await runClient(['get', 'f.bin', '--server', server.address, '--out', outDir(), '--token-file', path.join(dir, 'second.token')]);
      expect(fresh.code, fresh.stderr).to.equal(0);
    });

    it('logs one JSON line per call, never a token', async () => {
      const tokenFile = path.join(dir, 'first.token');
      expect((await runClient(['get', 'f.bin', '--server', server.address, '--out', outDir(), '--token-file', tokenFile])).code).to.equal(0);
      expect((await runClient(['get', 'f.bin', '--server', server.address, '--out', outDir()], { GRPC_FILE_TOKEN: 'refused-secret-token' })).code).to.equal(6);
      expect((await runClient(['ls', '--server', server.address], { GRPC_FILE_TOKEN: 'first-secret-token' })).code).to.equal(0);
      expect((await runClient(['get', 'nope.bin', '--server', server.address, '--out', outDir(), '--token-file', tokenFile])).code).to.equal(8);

      const callLines = server.stderrLines.filter((line) => line.includes('"call"'));
      const entries = callLines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(entries.map((e) => [e.method, e.name, e.code])).to.deep.equal([
        ['Download', 'f.bin', 'OK'],
        ['Download', 'f.bin', 'UNAUTHENTICATED'],
        ['ListBatches', undefined, 'OK'],
        ['Download', 'nope.bin', 'NOT_FOUND'],
      ]);
      for (const entry of entries) {
        expect(entry).to.include({ msg: 'call' });
        expect(entry.durationMs).to.be.a('number');
        expect(entry.peer)
          .to.be.a('string')
          .and.match(/127\.0\.0\.1/);
      }
      const all = server.stderrLines.join('\n');
      for (const secret of ['first-secret-token', 'refused-secret-token', 'Bearer']) expect(all).to.not.include(secret);
    });
  });
});
