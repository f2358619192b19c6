import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { versionOf } from '../../../src/server/servedFile.js';
import { sha256, sha256File, tempDir } from '../../helpers/files.js';
import { killHard, runClient, spawnClient, startServerProcess, type ServerProcess } from '../../helpers/processes.js';
import { allCallsLogged } from '../../helpers/rawClient.js';

const BLOCK = 64 * 1024;
const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

interface Replica {
  server: ServerProcess;
  address: string;
}

/** One grpc-server per host, each with its own copy of f.bin (contents[i]), blocks of 64 KiB. */
async function startReplicas(dir: string, contents: Buffer[], args: string[]): Promise<Replica[]> {
  return Promise.all(
    contents.map(async (content, index) => {
      const root = path.join(dir, `replica-${index}`);
      await mkdir(root, { recursive: true });
      await writeFile(path.join(root, 'f.bin'), content);
      // Chunks of a block: what was sent past a bad block is counted in blocks.
      const server = await startServerProcess(root, { args: ['--host', HOSTS[index]!, '--block-size', '64k', '--chunk-size', String(BLOCK), ...args] });
      return { server, address: `${HOSTS[index]}:${server.port}` };
    }),
  );
}

/** `content` with one bit of block `block` flipped. */
function flipped(content: Buffer, block: number): Buffer {
  const copy = Buffer.from(content);
  copy[block * BLOCK + 123]! ^= 1;
  return copy;
}

const events = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string; code?: string; replica?: string | null; received?: number; message?: string });

describe('grpc-client: blocks checked as they arrive, and segments', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let servers: ServerProcess[] = [];

  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.kill()));
    servers = [];
    await cleanup();
  });

  it('--segments 3 from three replicas, one with a flipped bit: exact, that replica named, its block fetched elsewhere within a block', async () => {
    const content = randomBytes(48 * BLOCK);
    // The third replica's copy is bad in the third of the file it is given.
    // Paced so that two blocks take the bad replica 250 ms: the client's
    // check and cancel fit in that even on a loaded machine.
    const replicas = await startReplicas(dir, [content, content, flipped(content, 40)], ['--limit-rate', '512k']);
    servers = replicas.map((r) => r.server);
    const out = path.join(dir, 'out');
    const run = await runClient(['get', 'f.bin', '--server', replicas.map((r) => r.address).join(','), '--out', out, '--segments', '3', '--json']);
    expect(run.code, run.stderr).to.equal(0);
    expect(await sha256File(path.join(out, 'f.bin'))).to.equal(sha256(content));

    const [good1, good2, bad] = replicas as [Replica, Replica, Replica];
    const retries = events(run.stdout).filter((e) => e.event === 'retry');
    expect(
      retries.map((e) => [e.code, e.replica]),
      run.stdout,
    ).to.deep.equal([['DATA_LOSS', bad.address]]);
    expect(retries[0]!.message).to.match(new RegExp(`block 40 of f.bin .* from ${bad.address.replace(/\./g, '\\.')} does not match`));
    await Promise.all(replicas.map((replica) => allCallsLogged(replica.server, replica.address)));
    // Found within a block of its arrival: what the bad replica sent past the bad block's end.
    const badCalls = bad.server.calls('Download', 'f.bin');
    expect(badCalls, JSON.stringify(badCalls)).to.have.length(1);
    const sentPast = Number(badCalls[0]!.offset) + badCalls[0]!.bytesSent! - 41 * BLOCK;
    expect(sentPast, `bytes sent past the bad block: ${sentPast}`).to.be.at.most(2 * BLOCK);
    // Never asked again; the block itself came from a good replica.
    const refetched = [good1, good2].flatMap((r) => r.server.calls('Download', 'f.bin')).filter((c) => c.offset === String(40 * BLOCK));
    expect(refetched.map((c) => c.code)).to.deep.equal(['OK']);
  });

  it('kill -9 mid-segmented download: the resume fetches only the blocks that were not verified, plus those in flight', async () => {
    const content = randomBytes(48 * BLOCK);
    const replicas = await startReplicas(dir, [content, content, content], ['--limit-rate', '512k']);
    servers = replicas.map((r) => r.server);
    const out = path.join(dir, 'out');
    const args = ['get', 'f.bin', '--server', replicas.map((r) => r.address).join(','), '--out', out, '--segments', '3', '--json'];
    const first = spawnClient(args);
    try {
      await first.waitForStdout(/"event":"progress".*"received":\d{7}/);
    } finally {
      await killHard(first.process);
    }
    const killedAt = Date.now();
    // Blocks on disk that hold their bytes, whether or not the map had them yet.
    const partial = await readFile(path.join(out, 'f.bin.part'));
    let present = 0;
    for (let at = 0; at < content.length; at += BLOCK) if (partial.subarray(at, at + BLOCK).equals(content.subarray(at, at + BLOCK))) present += 1;
    expect(present, 'blocks on disk at the kill').to.be.within(8, 47);

    const resumed = await runClient(args);
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(await sha256File(path.join(out, 'f.bin'))).to.equal(sha256(content));
    await Promise.all(replicas.map((replica) => allCallsLogged(replica.server, replica.address)));
    const lines = replicas.flatMap((r) => r.server.logs as unknown as { msg: string; method?: string; time: number; durationMs: number; bytesSent: number }[]);
    const sent = lines.filter((l) => l.msg === 'call' && l.method === 'Download' && l.time - l.durationMs > killedAt).reduce((sum, l) => sum + l.bytesSent, 0);
    const missing = (48 - present) * BLOCK;
    expect(sent, `sent ${sent} on the resume; ${missing} were missing`).to.be.at.least(missing);
    // In flight at the kill: a block under way per lane, and one past it.
    expect(sent, `sent ${sent} on the resume; ${missing} were missing`).to.be.at.most(missing + 3 * 2 * BLOCK);
  });

  it('a single stream stops at a bad block within a block, keeps the blocks before it, and resumes there from a good server', async () => {
    // Larger than the default block size: a smaller file is taken as one block until a list says otherwise.
    const content = randomBytes(80 * BLOCK);
    const rotten = flipped(content, 12);
    // A server whose copy rotted after it was hashed: its recorded digests
    // (--state-dir) are of the good bytes, the bytes it reads are not.
    const root = path.join(dir, 'rotten');
    const state = path.join(dir, 'state');
    await mkdir(root);
    await mkdir(state);
    const file = path.join(root, 'f.bin');
    await writeFile(file, rotten);
    const blocks = Buffer.concat(
      Array.from({ length: 80 }, (_, i) =>
        createHash('sha256')
          .update(content.subarray(i * BLOCK, (i + 1) * BLOCK))
          .digest(),
      ),
    );
    const version = versionOf(await stat(file, { bigint: true }));
    await writeFile(
      path.join(state, 'digests.jsonl'),
      `${JSON.stringify({ version, sha256: sha256(content), blockSize: BLOCK, blocks: blocks.toString('base64') })}\n`,
    );
    const server = await startServerProcess(root, {
      args: ['--block-size', '64k', '--chunk-size', String(BLOCK), '--state-dir', state, '--limit-rate', '512k'],
    });
    servers.push(server);
    const out = path.join(dir, 'out');
    const run = await runClient(['get', 'f.bin', '--server', server.address, '--out', out, '--json']);
    expect(run.code, run.stdout).to.equal(9);
    const retries = events(run.stdout).filter((e) => e.event === 'retry');
    expect(retries.length, run.stdout).to.be.at.least(1);
    expect(
      retries.every((e) => e.code === 'DATA_LOSS' && e.replica === server.address && /block 12 of f\.bin/.test(e.message!)),
      run.stdout,
    ).to.equal(true);
    // The verified blocks before the bad one stay.
    expect((await stat(path.join(out, 'f.bin.part'))).size).to.equal(12 * BLOCK);
    await allCallsLogged(server);
    for (const call of server.calls('Download', 'f.bin')) {
      const sentPast = Number(call.offset) + call.bytesSent! - 13 * BLOCK;
      expect(sentPast, JSON.stringify(call)).to.be.at.most(2 * BLOCK);
    }

    const goodRoot = path.join(dir, 'good');
    await mkdir(goodRoot);
    await writeFile(path.join(goodRoot, 'f.bin'), content);
    // Another copy: another version, as on another machine.
    await utimes(path.join(goodRoot, 'f.bin'), new Date(1e12), new Date(1e12));
    const good = await startServerProcess(goodRoot, { args: ['--block-size', '64k'] });
    servers.push(good);
    const again = await runClient(['get', 'f.bin', '--server', good.address, '--out', out, '--json']);
    expect(again.code, again.stderr).to.equal(0);
    expect(await sha256File(path.join(out, 'f.bin'))).to.equal(sha256(content));
    await allCallsLogged(good);
    expect(good.calls('Download', 'f.bin').map((c) => [c.offset, c.bytesSent, c.code])).to.deep.equal([[String(12 * BLOCK), 68 * BLOCK, 'OK']]);
  });
});
