/**
 * Case 8: 32 clients spread over 1, 2 and 3 replicas on 127.0.0.1–3, each
 * replica serving its own copy of the file. On this machine all of them
 * share its cores, so the aggregate cannot grow with replicas; the server's
 * CPU seconds per GiB say what each replica would add on a machine of its own.
 */
// @ts-nocheck

import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { FileClient } from '../src/client/fileClient.js';
import { median } from './measure.js';
import { startOurs, type CallLog, type Started } from './peers.js';
import type { CaseResult } from './report.js';

const CLIENTS = 32;
const FILE_MiB = 64;
/** /proc reports CPU time in USER_HZ ticks, 100 a second on Linux. */
const TICKS_PER_SECOND = 100;

/** User plus system CPU seconds a process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

interface Measured {
  aggregateMiBs: number;
  serverCpuPerGiB: number;
  clientCpuPerGiB: number;
  /** Smallest share of the downloads one replica served. */
  minShare: number;
}

export async function replicaScaling(shm: string, source: string, runs: number): Promise<CaseResult> {
  const replicas: (Started & { calls: CallLog[]; host: string })[] = [];
  try {
    for (const host of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) {
      const root = path.join(shm, `replica-${host}`);
      await mkdir(root, { recursive: true });
      await copyFile(source, path.join(root, 'mid.bin'));
      replicas.push({ ...(await startOurs(root, ['--host', host])), host });
    }
    const out = path.join(shm, 'out-replicas');
    const once = async (count: number): Promise<Measured> => {
      const serving = replicas.slice(0, count);
      // The form users give: a comma list, spread by round_robin.
      const server = serving.map((r) => `${r.host}:${r.port}`).join(',');
      const callsBefore = serving.map((r) => r.calls.length);
      const cpuBefore = await Promise.all(serving.map((r) => cpuSeconds(r.pid)));
      const clientBefore = process.cpuUsage();
      const started = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, i) => {
          // A connection of its own per client, as 32 separate clients have;
          // each channel starts its round_robin at a random replica.
          const client = new FileClient({ server, out: path.join(out, String(i)), channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
          try {
            await client.download('mid.bin');
          } finally {
            await client.close();
          }
        }),
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const client = process.cpuUsage(clientBefore);
      const cpuAfter = await Promise.all(serving.map((r) => cpuSeconds(r.pid)));
      await rm(out, { recursive: true, force: true });
      const gib = (CLIENTS * FILE_MiB) / 1024;
      const served = serving.map((r, i) => r.calls.slice(callsBefore[i]).filter((c) => c.method === 'Download').length);
      return {
        aggregateMiBs: (CLIENTS * FILE_MiB) / seconds,
        serverCpuPerGiB: cpuAfter.reduce((sum, cpu, i) => sum + cpu - cpuBefore[i]!, 0) / gib,
        clientCpuPerGiB: (client.user + client.system) / 1e6 / gib,
        minShare: Math.min(...served) / CLIENTS,
      };
    };
    const byCount: Measured[] = [];
    for (const count of [1, 2, 3]) {
      process.stderr.write(`case 8: ${CLIENTS} clients over ${count} replica(s)\n`);
      await once(count); // warm-up
      const measured: Measured[] = [];
      for (let run = 0; run < runs; run += 1) measured.push(await once(count));
      const mid = (pick: (m: Measured) => number) => median(measured.map(pick));
      byCount.push({
        aggregateMiBs: mid((m) => m.aggregateMiBs),
        serverCpuPerGiB: mid((m) => m.serverCpuPerGiB),
        clientCpuPerGiB: mid((m) => m.clientCpuPerGiB),
        minShare: mid((m) => m.minShare),
      });
    }
    const [one, two, three] = byCount as [Measured, Measured, Measured];
    return {
      id: '8',
      title: `${CLIENTS} library clients × ${FILE_MiB} MiB over 1, 2, 3 replicas on this machine: aggregate MiB/s with 3`,
      ours: three.aggregateMiBs,
      extra: {
        oneReplicaMiBs: one.aggregateMiBs,
        twoReplicasMiBs: two.aggregateMiBs,
        threeReplicasMiBs: three.aggregateMiBs,
        serverCpuSecondsPerGiB1: one.serverCpuPerGiB,
        serverCpuSecondsPerGiB3: three.serverCpuPerGiB,
        clientCpuSecondsPerGiB: three.clientCpuPerGiB,
        // What one replica with a core of its own could send: the aggregate
        // of n replicas on n machines is n times this, until the clients or
        // the network are the limit.
        perReplicaCoreMiBs: 1024 / one.serverCpuPerGiB,
        smallestShareOf3: three.minShare,
      },
      goal: 'none here (2 cores shared by clients and replicas); on separate machines n × perReplicaCoreMiBs',
    };
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
  }
}
