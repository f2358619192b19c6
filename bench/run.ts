/**
 * npm run bench: our service against a plain HTTP server (nginx + curl),
 * aria2c and C-core gRPC (python3-grpcio) on this machine, in one run, so
 * the ratios compare like with like. A peer that is not installed is
 * skipped with a note saying how to get it.
 * Writes bench/results/results.{md,json} and ratios.svg.
 */
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile, chmod, copyFile, mkdir, mkdtemp, open, readdir, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileServiceClient } from '../src/generated/filetransfer/v1/FileService.js';
import { FileClient } from '../src/client/fileClient.js';
import { loadFileTransfer } from '../src/shared/proto.js';
import { alternate, median, resetPeak, rssOf, timed, type Run } from './measure.js';
import { binEnv, CLIENT_BIN, have, startFloor, startManyFloor, startNginx, startOurs, type CallLog } from './peers.js';
import { coreCases } from './cores.js';
import { replicaScaling } from './replicas.js';
import { segmentCases } from './segments.js';
import { uploadCases } from './uploads.js';
import { workerCases } from './workers.js';
import { comparison, writeReport, type CaseResult } from './report.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** BENCH_ONLY=3,5 runs those cases only. */
const ONLY = process.env.BENCH_ONLY?.split(',');
const want = (id: string) => !ONLY || ONLY.includes(id);
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

async function main(): Promise<void> {
  const shm = await mkdtemp('/dev/shm/gft-bench-');
  const disk = await mkdtemp(path.join(os.tmpdir(), 'gft-bench-'));
  // Also when the bench dies before its `finally` (its servers are stopped
  // then too, see peers.ts): a run's data is 5 GiB of tmpfs.
  process.once('exit', () => {
    if (!process.env.BENCH_KEEP) rmSync(shm, { recursive: true, force: true });
    rmSync(disk, { recursive: true, force: true });
  });
  const root = path.join(shm, 'root');
  const stoppers: (() => Promise<void>)[] = [];
  try {
    // nginx's workers run as an unprivileged user: let them read the data.
    await chmod(shm, 0o755);
    process.stderr.write(`generating data in ${root}\n`);
    await mkdir(path.join(root, 'many'), { recursive: true });
    await randomFile(path.join(root, 'big.bin'), GiB);
    await randomFile(path.join(root, 'mid.bin'), 64 * MiB);
    await writeFile(path.join(root, 'huge.bin'), '');
    await truncate(path.join(root, 'huge.bin'), 4 * GiB);
    const many: string[] = [];
    const small = Buffer.alloc(16 * 1024);
    for (let i = 0; i < 2000; i += 1) {
      const name = `many/f${String(i).padStart(4, '0')}.bin`;
      await writeFile(path.join(root, name), randomFillSync(small));
      many.push(name);
    }

    const ours = await startOurs(root);
    stoppers.push(() => ours.stop());
    const nginx = have('nginx') ? await startNginx(root, shm) : undefined;
    if (nginx) stoppers.push(() => nginx.stop());
    if (!nginx) process.stderr.write('nginx not installed (apt-get install nginx-light): HTTP cases run ours only\n');
    const server = `127.0.0.1:${ours.port}`;
    const url = (name: string) => `http://127.0.0.1:${nginx!.port}/${name}`;
    const results: CaseResult[] = [];

    const oneFile = async (id: string, title: string, outBase: string, goal: number) => {
      process.stderr.write(`case ${id}: ${title}\n`);
      const out = path.join(outBase, `out-${id}`);
      const runOurs = async () => {
        await rm(out, { recursive: true, force: true });
        return timed(CLIENT_BIN, ['get', 'big.bin', '--server', server, '--out', out, '--quiet']);
      };
      const runCurl = async () => {
        await rm(out, { recursive: true, force: true });
        await mkdir(out, { recursive: true });
        return timed('curl', ['-fsS', '-o', path.join(out, 'big.bin'), url('big.bin')]);
      };
      await resetPeak(ours.pid);
      const [oursRuns, curlRuns] = await alternate(RUNS, runOurs, nginx && have('curl') ? runCurl : undefined);
      await rm(out, { recursive: true, force: true });
      results.push(
        comparison(id, title, { ours: oursRuns!, theirs: curlRuns! }, goal, {
          oursServerPeakRssMiB: (await rssOf(ours.pid)).peak,
          oursClientPeakRssMiB: Math.max(...oursRuns!.map((r) => r.peakRssMiB)),
        }),
      );
    };
    if (want('1')) await oneFile('1', '1 GiB into tmpfs: seconds, ours vs nginx + curl', shm, 1.25);
    if (want('1f')) {
      process.stderr.write('case 1f: 1 GiB over a bare grpc-js stream\n');
      const floor = await startFloor();
      stoppers.push(() => floor.stop());
      await floor.fetch();
      const runs: number[] = [];
      for (let run = 0; run < RUNS; run += 1) runs.push(await floor.fetch());
      const startups: number[] = [];
      for (let run = 0; run < RUNS; run += 1) startups.push((await timed(CLIENT_BIN, ['--version'])).seconds);
      const case1 = results.find((r) => r.id === '1');
      const curl = case1?.theirs;
      const curlBest = case1?.extra['theirsBest'];
      results.push({
        id: '1f',
        title: '1 GiB over a bare grpc-js stream, no file, no hash: seconds from call to last byte, vs case 1 curl',
        ours: median(runs),
        theirs: curl,
        ratio: curl === undefined ? undefined : median(runs) / curl,
        extra: {
          best: Math.min(...runs),
          bestRatio: curlBest === undefined ? undefined : Math.min(...runs) / curlBest,
          clientStartupSeconds: median(startups),
        },
        goal: 'none: what grpc-js alone costs, under case 1',
      });
    }
    if (want('2')) await oneFile('2', '1 GiB onto disk: seconds, ours vs nginx + curl', disk, 1.05);

    if (want('1b')) {
      process.stderr.write('case 1b: 4 GiB into tmpfs, ours: peak memory\n');
      const out = path.join(shm, 'out-huge');
      await resetPeak(ours.pid);
      const run = await timed(CLIENT_BIN, ['get', 'huge.bin', '--server', server, '--out', out, '--quiet']);
      await rm(out, { recursive: true, force: true });
      const serverPeak = (await rssOf(ours.pid)).peak;
      results.push({
        id: '1b',
        title: '4 GiB into tmpfs, ours: peak RSS (MiB)',
        ours: run.seconds,
        extra: { clientPeakRssMiB: run.peakRssMiB, serverPeakRssMiB: serverPeak, seconds: run.seconds },
        goal: 'client and server peak RSS ≤ 128 MiB',
        met: run.peakRssMiB <= 128 && serverPeak <= 128,
      });
    }

    if (want('3')) {
      process.stderr.write('case 3: 2,000 files of 16 KiB, ours get -r -j 8 vs aria2c -j 8\n');
      const out = path.join(shm, 'out-many');
      const list = path.join(shm, 'many.txt');
      await writeFile(list, `${many.join('\n')}\n`);
      const urls = path.join(shm, 'many.urls');
      if (nginx) await writeFile(urls, `${many.map(url).join('\n')}\n`);
      const runOurs = async () => {
        await rm(out, { recursive: true, force: true });
        return timed(CLIENT_BIN, ['get', '-r', 'many', '-j', '8', '--server', server, '--out', out, '--quiet']);
      };
      // The same files named in a list, as `ls -1` prints them: one
      // ListNames call, then the streams get -r uses. A figure beside it.
      const runFromList = async () => {
        await rm(out, { recursive: true, force: true });
        return timed(CLIENT_BIN, ['get', '--from', list, '-j', '8', '--server', server, '--out', out, '--quiet']);
      };
      const runAria = async () => {
        await rm(out, { recursive: true, force: true });
        return timed('aria2c', [
          '-q',
          '-j',
          '8',
          '-i',
          urls,
          '-d',
          path.join(out, 'many'),
          '--allow-overwrite=true',
          '--auto-file-renaming=false',
          `--log=${path.join(shm, 'aria2.log')}`,
          '--log-level=warn',
        ]);
      };
      // The floor: Node and grpc-js alone, a file a message as DownloadMany
      // sends them, and 64 to a message (DownloadManyBatches sends up to 32,
      // a read batch of the server's); no task map, lock or fsync.
      const floor = await startManyFloor(path.join(root, 'many'));
      stoppers.push(() => floor.stop());
      const runFloor = (pack: number) => async () => {
        await rm(out, { recursive: true, force: true });
        return timed(...floor.client(path.join(out, 'many'), pack), binEnv());
      };
      const [oursRuns, ariaRuns, fromListRuns, floorRuns, packedRuns] = await alternate(
        RUNS,
        runOurs,
        nginx && have('aria2c') ? runAria : undefined,
        runFromList,
        runFloor(1),
        runFloor(64),
      );
      await rm(out, { recursive: true, force: true });
      const seconds = (runs: Run[]) => median(runs.map((r) => r.seconds));
      results.push(
        comparison('3', '2,000 × 16 KiB: seconds, ours get -r -j 8 vs aria2c -j 8', { ours: oursRuns!, theirs: ariaRuns! }, 1, {
          oursClientPeakRssMiB: Math.max(...oursRuns!.map((r) => r.peakRssMiB)),
          oursFrom: seconds(fromListRuns!),
          oursFromBest: Math.min(...fromListRuns!.map((r) => r.seconds)),
          grpcFloor: seconds(floorRuns!),
          grpcFloorPacked: seconds(packedRuns!),
        }),
      );
    }

    if (want('3b')) await mirrorTree(server, ours, shm, results);

    if (want('4')) {
      process.stderr.write('case 4: 32 concurrent clients × 64 MiB\n');
      const clients = 32;
      const fleet = async (one: (i: number) => Promise<Run>) => {
        const started = process.hrtime.bigint();
        const runs = await Promise.all(Array.from({ length: clients }, (_, i) => one(i)));
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const rates = runs.map((r) => 64 / r.seconds);
        return { aggregateMiBs: (clients * 64) / seconds, fairness: Math.min(...rates) / Math.max(...rates) };
      };
      const out = path.join(shm, 'out-fleet');
      await resetPeak(ours.pid);
      await rm(out, { recursive: true, force: true });
      const oursFleet = await fleet((i) => timed(CLIENT_BIN, ['get', 'mid.bin', '--server', server, '--out', path.join(out, String(i)), '--quiet']));
      const serverPeak = (await rssOf(ours.pid)).peak;
      await rm(out, { recursive: true, force: true });
      let curlFleet: { aggregateMiBs: number; fairness: number } | undefined;
      if (nginx) {
        await mkdir(out, { recursive: true });
        curlFleet = await fleet((i) => timed('curl', ['-fsS', '-o', path.join(out, `${i}.bin`), url('mid.bin')]));
        await rm(out, { recursive: true, force: true });
      }
      const single = results.find((r) => r.id === '1');
      const singleRate = single ? 1024 / single.ours : NaN;
      results.push({
        id: '4',
        title: '32 clients × 64 MiB: aggregate MiB/s',
        ours: oursFleet.aggregateMiBs,
        theirs: curlFleet?.aggregateMiBs,
        ratio: curlFleet ? oursFleet.aggregateMiBs / curlFleet.aggregateMiBs : undefined,
        extra: {
          oursFairness: oursFleet.fairness,
          theirsFairness: curlFleet?.fairness,
          oursSingleStreamMiBs: singleRate,
          aggregateOverSingle: oursFleet.aggregateMiBs / singleRate,
          serverPeakRssMiB: serverPeak,
        },
        goal: 'aggregate ≥ 80% of one stream; slowest ≥ 50% of fastest',
        met: oursFleet.aggregateMiBs >= 0.8 * singleRate && oursFleet.fairness >= 0.5,
      });
    }

    if (want('4b')) {
      // The same fan-out without 32 Node startups: 32 library clients in this
      // process, each on a connection of its own, so the server sees 32 peers
      // and the clients share one core as a single stream's client does.
      process.stderr.write('case 4b: 32 library clients in one process × 64 MiB\n');
      const out = path.join(shm, 'out-lib');
      const fetch = async (name: string, folder: string) => {
        const client = new FileClient({ server, out: folder, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
        const started = process.hrtime.bigint();
        try {
          await client.download(name);
        } finally {
          await client.close();
        }
        return Number(process.hrtime.bigint() - started) / 1e9;
      };
      const fetchMid = (folder: string) => fetch('mid.bin', folder);
      // One stream's rate from the 1 GiB file, so that connecting and
      // opening the task map weigh as little as in the fleet.
      const singles: number[] = [];
      for (let run = 0; run < RUNS; run += 1) {
        await rm(out, { recursive: true, force: true });
        singles.push(await fetch('big.bin', path.join(out, 'single')));
      }
      const singleRate = 1024 / median(singles);
      await rm(out, { recursive: true, force: true });
      await resetPeak(ours.pid);
      const started = process.hrtime.bigint();
      const seconds = await Promise.all(Array.from({ length: 32 }, (_, i) => fetchMid(path.join(out, String(i)))));
      const aggregate = (32 * 64) / (Number(process.hrtime.bigint() - started) / 1e9);
      const rates = seconds.map((s) => 64 / s);
      const fairness = Math.min(...rates) / Math.max(...rates);
      const serverPeak = (await rssOf(ours.pid)).peak;
      await rm(out, { recursive: true, force: true });
      results.push({
        id: '4b',
        title: '32 library clients in one process × 64 MiB: aggregate MiB/s',
        ours: aggregate,
        extra: { singleStreamMiBs: singleRate, aggregateOverSingle: aggregate / singleRate, fairness, serverPeakRssMiB: serverPeak },
        goal: 'aggregate ≥ 80% of one stream; slowest ≥ 50% of fastest',
        met: aggregate >= 0.8 * singleRate && fairness >= 0.5,
      });
    }

    results.push(...(await workerCases(shm, root, RUNS, want)));

    if (want('5')) {
      process.stderr.write('case 5: resume cost after kill -9 at 50%\n');
      const out = path.join(shm, 'out-resume');
      await rm(out, { recursive: true, force: true });
      const before = ours.calls.length;
      const child = spawn(CLIENT_BIN, ['get', 'big.bin', '--server', server, '--out', out, '--quiet'], { stdio: 'ignore' });
      while (((await stat(path.join(out, 'big.bin.part')).catch(() => undefined))?.size ?? 0) < GiB / 2) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
      const partial = (await stat(path.join(out, 'big.bin.part'))).size;
      await timed(CLIENT_BIN, ['get', 'big.bin', '--server', server, '--out', out, '--quiet']);
      await waitFor(() => ours.calls.slice(before).filter((c) => c.method === 'Download').length >= 2, 'the server to log both Download calls');
      const sent = ours.calls
        .slice(before)
        .filter((c) => c.method === 'Download')
        .reduce((sum, c) => sum + c.bytesSent, 0);
      await rm(out, { recursive: true, force: true });
      results.push({
        id: '5',
        title: 'resume after kill -9 at 50%: bytes sent ÷ file size',
        ours: sent / GiB,
        extra: { partialAtKillMiB: partial / MiB, bytesSentMiB: sent / MiB },
        goal: '≤ 1.01',
        met: sent / GiB <= 1.01,
      });
    }

    if (want('6')) {
      process.stderr.write('case 6: a reader that stops for 10 s\n');
      const growth = await pausedReader(server, ours.pid);
      results.push({
        id: '6',
        title: 'reader paused 10 s mid-stream: server RSS growth (MiB)',
        ours: growth,
        extra: {},
        goal: '< 16 MiB',
        met: growth < 16,
      });
    }

    if (want('7')) {
      process.stderr.write('case 7: first byte of a 1 GiB file whose digest is not cached\n');
      const touched = new Date();
      await utimes(path.join(root, 'big.bin'), touched, touched);
      const ms = await firstByteMs(server);
      results.push({ id: '7', title: 'first data byte of 1 GiB, digest not cached (ms)', ours: ms, extra: {}, goal: '< 100 ms', met: ms < 100 });
    }

    if (want('8')) results.push(await replicaScaling(shm, path.join(root, 'mid.bin'), RUNS));
    if (want('9') || want('9b')) results.push(...(await segmentCases(shm, path.join(root, 'big.bin'), RUNS, want)));

    if (want('11') || want('10')) await blockCases(server, ours, shm, results);
    results.push(...(await uploadCases(shm, root, RUNS, want)));
    results.push(...(await coreCases(shm, root, RUNS, want)));

    await writeReport(RESULTS, results, {
      runs: RUNS,
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / GiB).toFixed(0)} GiB, Node ${process.version}`,
      partial: ONLY !== undefined,
    });
    process.stderr.write(`results in ${RESULTS}\n`);
  } finally {
    for (const stop of stoppers) await stop().catch(() => undefined);
    if (!process.env.BENCH_KEEP) await rm(shm, { recursive: true, force: true });
    await rm(disk, { recursive: true, force: true });
  }
}

/** Case 3b's trees: 1,000 files a folder in both, so per-file costs compare like with like. */
const TREE_PER_FOLDER = 1000;
const TREE_FILES = 100_000;
const BASELINE_FILES = 2000;
/**
 * First and second mirrors of the 100,000 files, from an empty folder. One
 * pair takes 1-3 minutes on two cores; CPU time, the figure that matters
 * most here, varies less between runs than wall time.
 */
const TREE_RUNS = 1;

/**
 * Case 3b: a tree of 100,000 files of 1 KiB mirrored with get -r, and 2,000
 * of the same shape as the baseline. Client CPU per file must not grow with
 * the tree, the client's memory must stay bounded, and a second run with
 * nothing changed must cost a fraction of the first.
 */
async function mirrorTree(server: string, ours: { pid: number; calls: CallLog[] }, shm: string, results: CaseResult[]): Promise<void> {
  const [treeLabel, baselineLabel] = [TREE_FILES, BASELINE_FILES].map((n) => n.toLocaleString('en'));
  process.stderr.write(`case 3b: ${treeLabel} files of 1 KiB mirrored with get -r, ${baselineLabel} for the baseline\n`);
  const started = process.hrtime.bigint();
  const root = path.join(shm, 'root');
  // Neither name is a prefix of the other: List takes prefixes of names.
  writeTree(path.join(root, 'tree-2k'), BASELINE_FILES, KiB);
  writeTree(path.join(root, 'tree-100k'), TREE_FILES, KiB);
  process.stderr.write(`  trees written in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s\n`);
  const out = path.join(shm, 'out-tree');
  const mirror = (prefix: string) => timed(CLIENT_BIN, ['get', '-r', prefix, '-j', '8', '--server', server, '--out', out, '--quiet']);
  const fresh = async (prefix: string) => {
    await rm(out, { recursive: true, force: true });
    return mirror(prefix);
  };

  await fresh('tree-2k');
  const baseline: Run[] = [];
  // Starting Node and loading the client, a fixed cost inside every run's CPU.
  const startup: Run[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    baseline.push(await fresh('tree-2k'));
    startup.push(await timed(CLIENT_BIN, ['--version']));
  }
  await resetPeak(ours.pid);
  const first: Run[] = [];
  const again: Run[] = [];
  const resent: { files: number; bytes: number }[] = [];
  for (let run = 0; run < TREE_RUNS; run += 1) {
    first.push(await fresh('tree-100k'));
    const mirrored = (await readdir(path.join(out, 'tree-100k'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
    if (mirrored !== TREE_FILES) throw new Error(`get -r tree-100k left ${mirrored} files, expected ${TREE_FILES}`);
    const before = ours.calls.length;
    again.push(await mirror('tree-100k'));
    await logBarrier(server, ours.calls);
    const transfers = ours.calls.slice(before).filter((c) => c.method === 'Download' || c.method.startsWith('DownloadMany'));
    resent.push({
      files: transfers.reduce((sum, c) => sum + (c.method === 'Download' ? 1 : (c.files ?? 0)), 0),
      bytes: transfers.reduce((sum, c) => sum + (c.bytesSent || 0), 0),
    });
  }
  const serverPeak = (await rssOf(ours.pid)).peak;
  await rm(out, { recursive: true, force: true });
  const caseSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stderr.write(`  case 3b took ${caseSeconds.toFixed(0)} s\n`);

  const cpu = (runs: Run[]) => median(runs.map((r) => r.cpuSeconds));
  const seconds = (runs: Run[]) => median(runs.map((r) => r.seconds));
  const startupCpu = cpu(startup);
  const perFile = cpu(first) / TREE_FILES;
  const basePerFile = cpu(baseline) / BASELINE_FILES;
  results.push(
    {
      id: '3b',
      title: `${treeLabel} × 1 KiB, get -r -j 8: client CPU per file ÷ the same at ${baselineLabel}`,
      ours: perFile / basePerFile,
      extra: {
        cpuMsPerFile: perFile * 1000,
        baselineCpuMsPerFile: basePerFile * 1000,
        // The same ratio without the fixed cost, which flatters the small run.
        ratioLessStartup: (cpu(first) - startupCpu) / TREE_FILES / ((cpu(baseline) - startupCpu) / BASELINE_FILES),
        startupCpuSeconds: startupCpu,
        seconds: seconds(first),
        baselineSeconds: seconds(baseline),
        caseSeconds,
      },
      goal: '≤ 1.2',
      met: perFile / basePerFile <= 1.2,
    },
    {
      id: '3b-rss',
      title: `${treeLabel} × 1 KiB, get -r: client peak RSS (MiB)`,
      ours: Math.max(...first.map((r) => r.peakRssMiB), ...again.map((r) => r.peakRssMiB)),
      extra: { baselinePeakRssMiB: Math.max(...baseline.map((r) => r.peakRssMiB)), serverPeakRssMiB: serverPeak },
      goal: '≤ 160 MiB',
      met: Math.max(...first.map((r) => r.peakRssMiB), ...again.map((r) => r.peakRssMiB)) <= 160,
    },
    {
      id: '3b-again',
      title: `${treeLabel} × 1 KiB, get -r again with nothing changed: seconds ÷ the first run's`,
      ours: seconds(again) / seconds(first),
      extra: {
        firstSeconds: seconds(first),
        againSeconds: seconds(again),
        againCpuSeconds: cpu(again),
        againFilesSent: Math.max(...resent.map((r) => r.files)),
        againBytesSent: Math.max(...resent.map((r) => r.bytes)),
      },
      goal: '≤ 0.10',
      met: seconds(again) / seconds(first) <= 0.1,
    },
  );
}

/** The server's block size: startOurs passes no --block-size. */
const SERVER_BLOCK = 4 * MiB;

/**
 * Cases 11 and 10, on a complete 1 GiB copy: the server's file grows by
 * 10 MiB, and `get` brings the copy up to date (11); three spots of the
 * copy are damaged, and `verify --repair` mends them (10). Bytes sent are
 * the server's own count of file data (Download's bytesSent); the block
 * lists are counted apart, 32 bytes a block.
 */
async function blockCases(server: string, ours: { calls: CallLog[] }, shm: string, results: CaseResult[]): Promise<void> {
  const source = path.join(shm, 'root', 'grow.bin');
  const out = path.join(shm, 'out-blocks');
  const args = ['--server', server, '--out', out, '--quiet'];
  await copyFile(path.join(shm, 'root', 'big.bin'), source);
  await rm(out, { recursive: true, force: true });
  await timed(CLIENT_BIN, ['get', 'grow.bin', ...args]);
  /** File data and block lists the server sent for grow.bin since call `before`. */
  const sentSince = async (before: number) => {
    await logBarrier(server, ours.calls);
    const calls = ours.calls.slice(before).filter((c) => c.name === 'grow.bin');
    return {
      data: calls.filter((c) => c.method === 'Download').reduce((sum, c) => sum + c.bytesSent, 0),
      lists: calls.filter((c) => c.method === 'Blocks').reduce((sum, c) => sum + (c.blocks ?? 0) * 32, 0),
    };
  };
  try {
    if (want('11')) {
      process.stderr.write('case 11: a complete 1 GiB copy, 10 MiB appended on the server\n');
      await appendFile(source, randomFillSync(Buffer.alloc(10 * MiB)));
      const before = ours.calls.length;
      const run = await timed(CLIENT_BIN, ['get', 'grow.bin', ...args]);
      const sent = await sentSince(before);
      results.push({
        id: '11',
        title: 'complete 1 GiB copy, 10 MiB appended on the server, get again: MiB of file data sent',
        ours: sent.data / MiB,
        extra: { blockListKiB: sent.lists / KiB, seconds: run.seconds, clientPeakRssMiB: run.peakRssMiB },
        goal: '≤ 10 MiB + 1 block (4 MiB), plus the block list',
        met: sent.data <= 10 * MiB + SERVER_BLOCK,
      });
    }
    if (want('10')) {
      process.stderr.write('case 10: 3 damaged spots in a complete 1 GiB copy, verify --repair\n');
      const copy = await open(path.join(out, 'grow.bin'), 'r+');
      for (const at of [100 * MiB + 5, 500 * MiB + 7, 900 * MiB + 11]) await copy.write(Buffer.from([0x5a]), 0, 1, at);
      await copy.close();
      const before = ours.calls.length;
      const run = await timed(CLIENT_BIN, ['verify', '--repair', 'grow.bin', '--server', server, '--out', out]);
      const sent = await sentSince(before);
      results.push({
        id: '10',
        title: '3 damaged spots in a complete 1 GiB copy, verify --repair: MiB of file data sent',
        ours: sent.data / MiB,
        extra: { blockListKiB: sent.lists / KiB, seconds: run.seconds, clientPeakRssMiB: run.peakRssMiB },
        goal: '≤ 3 blocks (12 MiB), plus the block list',
        met: sent.data <= 3 * SERVER_BLOCK,
      });
    }
  } finally {
    await rm(out, { recursive: true, force: true });
    await rm(source, { force: true });
  }
}

/** `files` random files of `size` bytes under `top`, TREE_PER_FOLDER a folder; sync calls, the quickest way to make many small files. */
function writeTree(top: string, files: number, size: number): void {
  const content = Buffer.alloc(size);
  for (let i = 0; i < files; i += 1) {
    const folder = path.join(top, `d${String(Math.floor(i / TREE_PER_FOLDER)).padStart(3, '0')}`);
    if (i % TREE_PER_FOLDER === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, `f${String(i % TREE_PER_FOLDER).padStart(4, '0')}.bin`), randomFillSync(content));
  }
}

/**
 * The server logs each call synchronously as it ends: once a call made now
 * shows in the log, so does every call that ended before it.
 */
async function logBarrier(server: string, calls: CallLog[]): Promise<void> {
  const { FileService } = loadFileTransfer();
  const client = new FileService(server, grpc.credentials.createInsecure()) as FileServiceClient;
  const name = `bench-barrier-${calls.length}`;
  await new Promise<void>((resolve) => client.stat({ name }, () => resolve()));
  client.close();
  await waitFor(() => calls.some((c) => c.name === name), 'the server to log the barrier call');
}

async function randomFile(file: string, size: number): Promise<void> {
  const handle = await open(file, 'w');
  const buffer = Buffer.alloc(64 * MiB);
  for (let written = 0; written < size; written += buffer.length) {
    await handle.write(randomFillSync(buffer), 0, Math.min(buffer.length, size - written));
  }
  await handle.close();
}

async function waitFor(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Time from starting a Download until its first data message arrives. */
async function firstByteMs(server: string): Promise<number> {
  const { FileService } = loadFileTransfer();
  const client = new FileService(server, grpc.credentials.createInsecure()) as FileServiceClient;
  await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())));
  const started = process.hrtime.bigint();
  const call = client.download({ name: 'big.bin', offset: 0 });
  await new Promise<void>((resolve) => {
    call.on('data', (message: { data: Buffer }) => message.data.length > 0 && resolve());
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  call.on('error', () => undefined);
  call.cancel();
  client.close();
  return ms;
}

/** Reads one data message of a 1 GiB stream, then nothing for 10 s. */
async function pausedReader(server: string, serverPid: number): Promise<number> {
  const { FileService } = loadFileTransfer();
  const client = new FileService(server, grpc.credentials.createInsecure()) as FileServiceClient;
  const call = client.download({ name: 'big.bin', offset: 0 });
  await new Promise<void>((resolve) => {
    const onData = (message: { data: Buffer }) => {
      if (message.data.length === 0) return;
      call.pause();
      call.off('data', onData);
      resolve();
    };
    call.on('data', onData);
  });
  const baseline = (await rssOf(serverPid)).rss;
  let peak = baseline;
  for (let i = 0; i < 40; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    peak = Math.max(peak, (await rssOf(serverPid)).rss);
  }
  call.on('error', () => undefined);
  call.cancel();
  client.close();
  return peak - baseline;
}

await main();
