/**
 * Case 4w: case 4b's fleet (32 library clients in one process, each on a
 * connection of its own, × 64 MiB) against a server started with
 * --workers 1 and one with --workers 2, alternating, in one run: the
 * aggregate each gives, their ratio, and each worker's peak RSS.
 */
// @ts-nocheck

import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { FileClient } from '../src/client/fileClient.js';
import { median, resetPeak, rssOf } from './measure.js';
import { startOurs } from './peers.js';
import type { CaseResult } from './report.js';

const CLIENTS = 32;
const FILE_MiB = 64;

/** The processes that serve calls: the server itself, or the workers of a primary. */
async function servingPids(pid: number, workers: number): Promise<number[]> {
  if (workers === 1) return [pid];
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  return children.split(' ').filter(Boolean).map(Number);
}

/** 32 downloads of `name` (64 MiB) at once from the server on `port`; aggregate MiB/s. */
async function fleet(port: number, name: string, out: string): Promise<number> {
  await rm(out, { recursive: true, force: true });
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const client = new FileClient({ server: `127.0.0.1:${port}`, out: path.join(out, String(i)), channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
      try {
        await client.download(name);
      } finally {
        await client.close();
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await rm(out, { recursive: true, force: true });
  return (CLIENTS * FILE_MiB) / seconds;
}

/** Runs case 4w when `want` asks for it, on `root`'s mid.bin (64 MiB), `runs` fleets per server. */
export async function workerCases(shm: string, root: string, runs: number, want: (id: string) => boolean): Promise<CaseResult[]> {
  if (!want('4w')) return [];
  process.stderr.write('case 4w: 32 library clients × 64 MiB, --workers 1 against --workers 2\n');
  const servers = await Promise.all([1, 2].map(async (workers) => ({ workers, ...(await startOurs(root, ['--workers', String(workers)])) })));
  try {
    const pids = await Promise.all(servers.map((server) => servingPids(server.pid, server.workers)));
    for (const pid of pids.flat()) await resetPeak(pid);
    const rates: number[][] = [[], []];
    for (let run = 0; run < runs; run += 1) {
      // Alternating, so that a busy moment of a shared machine falls on both.
      for (const [i, server] of servers.entries()) rates[i]!.push(await fleet(server.port, 'mid.bin', path.join(shm, 'out-workers')));
    }
    const peaks = await Promise.all(pids.map((serving) => Promise.all(serving.map(async (pid) => (await rssOf(pid)).peak))));
    const [one, two] = rates.map(median) as [number, number];
    const largest = Math.max(...peaks.flat());
    return [
      {
        id: '4w',
        title: '32 library clients × 64 MiB: aggregate MiB/s with --workers 2, vs --workers 1',
        ours: two,
        theirs: one,
        ratio: two / one,
        extra: {
          workers1PeakRssMiB: peaks[0]![0],
          workers2PeakRssMiB1: peaks[1]![0],
          workers2PeakRssMiB2: peaks[1]![1],
        },
        goal: '--workers 2 ≥ 1.3× --workers 1; each worker ≤ 128 MiB RSS',
        met: two >= 1.3 * one && largest <= 128,
      },
    ];
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}
