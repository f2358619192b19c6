/**
 * Cases 9 and 9b: one 96 MiB file from three replicas on 127.0.0.1–3, each
 * capped at 24 MiB/s (grpc-server --limit-rate), so that the replicas, not
 * this machine's two cores, bound the transfer.
 * - 9: `--segments 3` from all three against one stream from one replica.
 * - 9b: the third replica's copy has one flipped bit; how much it sent
 *   past the end of the bad block before the client stopped it.
 */
// @ts-nocheck

import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileClient } from '../src/client/fileClient.js';
import { median } from './measure.js';
import { startOurs, type CallLog, type Started } from './peers.js';
import type { CaseResult } from './report.js';

const MiB = 1024 * 1024;
const FILE_MiB = 96;
const RATE = '24M';
/** The servers' default block size. */
const BLOCK = 4 * MiB;
/** In the third replica's third of the file. */
const BAD_BLOCK = 20;

type Replica = Started & { calls: CallLog[]; address: string };

async function replicasOf(shm: string, label: string, contents: Buffer[]): Promise<Replica[]> {
  const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
  return Promise.all(
    contents.map(async (content, i) => {
      const root = path.join(shm, `${label}-${i}`);
      await mkdir(root, { recursive: true });
      await writeFile(path.join(root, 'seg.bin'), content);
      const started = await startOurs(root, ['--host', hosts[i]!, '--limit-rate', RATE]);
      return { ...started, address: `${hosts[i]}:${started.port}` };
    }),
  );
}

/** Seconds to fetch seg.bin through a library client of `server`. */
async function fetchOnce(server: string, out: string, segments: number): Promise<{ seconds: number; retries: { replica?: string; message: string }[] }> {
  await rm(out, { recursive: true, force: true });
  const client = new FileClient({ server, out, segments, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
  const retries: { replica?: string; message: string }[] = [];
  const started = process.hrtime.bigint();
  try {
    await client.download('seg.bin', { onRetry: (notice) => retries.push({ replica: notice.replica, message: notice.error.message }) });
  } finally {
    await client.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await rm(out, { recursive: true, force: true });
  return { seconds, retries };
}

export async function segmentCases(shm: string, source: string, runs: number, want: (id: string) => boolean): Promise<CaseResult[]> {
  const handle = await open(source, 'r');
  const content = Buffer.alloc(FILE_MiB * MiB);
  await handle.read(content, 0, content.length, 0);
  await handle.close();
  const out = path.join(shm, 'out-segments');
  const results: CaseResult[] = [];

  if (want('9')) {
    process.stderr.write(`case 9: ${FILE_MiB} MiB, --segments 3 from 3 replicas at ${RATE}/s each vs one stream from one\n`);
    const replicas = await replicasOf(shm, 'seg', [content, content, content]);
    try {
      const all = replicas.map((r) => r.address).join(',');
      const one = replicas[0]!.address;
      // Warm-up: each replica hashes the file once (its block list).
      await fetchOnce(all, out, 3);
      await fetchOnce(one, out, 1);
      const segmented: number[] = [];
      const single: number[] = [];
      for (let run = 0; run < runs; run += 1) {
        segmented.push((await fetchOnce(all, out, 3)).seconds);
        single.push((await fetchOnce(one, out, 1)).seconds);
      }
      const ratio = median(segmented) / median(single);
      results.push({
        id: '9',
        title: `${FILE_MiB} MiB from 3 replicas capped at ${RATE}/s, --segments 3: seconds, ÷ one stream from one replica`,
        ours: median(segmented),
        theirs: median(single),
        ratio,
        extra: { segmentedBest: Math.min(...segmented), singleBest: Math.min(...single), ideal: 1 / 3 },
        goal: 'ours ÷ one replica ≤ 0.4',
        met: ratio <= 0.4,
      });
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  }

  if (want('9b')) {
    process.stderr.write(`case 9b: the same with one flipped bit in the third replica's block ${BAD_BLOCK}\n`);
    const bad = Buffer.from(content);
    bad[BAD_BLOCK * BLOCK + 4321]! ^= 1;
    const replicas = await replicasOf(shm, 'rot', [content, content, bad]);
    try {
      const sentPast: number[] = [];
      const seconds: number[] = [];
      let named = true;
      for (let run = 0; run < runs; run += 1) {
        const before = replicas[2]!.calls.length;
        const { seconds: took, retries } = await fetchOnce(replicas.map((r) => r.address).join(','), out, 3);
        seconds.push(took);
        named &&= retries.length === 1 && retries[0]!.replica === replicas[2]!.address;
        // The call ends (cancelled) just after the client stops it; its log line follows.
        const deadline = Date.now() + 5000;
        while (replicas[2]!.calls.length === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        const call = replicas[2]!.calls.slice(before).find((c) => c.method === 'Download');
        if (!call) throw new Error('the third replica logged no Download');
        sentPast.push(Number(call.offset) + call.bytesSent - (BAD_BLOCK + 1) * BLOCK);
      }
      const worst = Math.max(...sentPast);
      results.push({
        id: '9b',
        title: `a replica with one flipped bit: bytes it sent past the end of the bad ${BLOCK / MiB} MiB block before the client stopped it (MiB)`,
        ours: worst / MiB,
        extra: { medianMiB: median(sentPast) / MiB, blockMiB: BLOCK / MiB, seconds: median(seconds), replicaNamed: named ? 1 : 0 },
        goal: '≤ one block, the replica named',
        met: worst <= BLOCK && named,
      });
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  }
  return results;
}
