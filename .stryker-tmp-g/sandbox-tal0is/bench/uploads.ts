/**
 * The upload cases: one 1 GiB upload into tmpfs against curl -T to nginx
 * WebDAV and against our own download of the same file, a resume after
 * kill -9 at half way, and the server's memory while 4 GiB arrive.
 */
// @ts-nocheck

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { chmod, copyFile, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { median, resetPeak, rssOf, timed, type Run } from './measure.js';
import { CLIENT_BIN, have, startNginx, startOurs } from './peers.js';
import type { CaseResult } from './report.js';

const GiB = 1024 ** 3;

/** The file the server stages an upload in (see uploadIdOf in src/server/staging.ts). */
function stagedFileOf(staging: string, name: string, size: number, sha256: string): string {
  return path.join(staging, `${createHash('sha256').update(`${name}\0${size}\0${sha256}`, 'utf8').digest('hex')}.upload`);
}

async function sha256Of(file: string): Promise<string> {
  const { createReadStream } = await import('node:fs');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Runs the cases `want` asks for against `source/big.bin` (1 GiB) and
 * `source/huge.bin` (4 GiB, sparse), each uploaded to a server of its own
 * under `shm`; `runs` alternating runs per comparison, after a warm-up.
 */
export async function uploadCases(shm: string, source: string, runs: number, want: (id: string) => boolean): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const upRoot = path.join(shm, 'up-root');
  const staging = path.join(shm, 'up-staging');
  const maps = path.join(shm, 'up-map');
  const db = path.join(maps, 'uploads.json');
  await mkdir(upRoot, { recursive: true });
  const ours = await startOurs(upRoot, ['--allow-upload', '--upload-staging', staging]);
  const server = `127.0.0.1:${ours.port}`;
  const big = path.join(source, 'big.bin');
  // Each put starts afresh: no published file, no record of one.
  const fresh = async (name: string) => {
    await rm(path.join(upRoot, name), { force: true });
    // The map, its journal and its lock.
    await rm(maps, { recursive: true, force: true });
  };
  const put = (file: string, extra: string[] = []) => timed(CLIENT_BIN, ['put', file, '--server', server, '--db', db, '--quiet', ...extra]);
  try {
    if (want('u1')) {
      process.stderr.write('case u1: 1 GiB upload into tmpfs: ours put vs curl -T to nginx WebDAV, and vs our own get\n');
      const davRoot = path.join(shm, 'dav-root');
      const davWork = path.join(shm, 'dav-work');
      await mkdir(davRoot, { recursive: true });
      await mkdir(davWork, { recursive: true });
      // nginx's workers write the body as their own user.
      await chmod(davRoot, 0o777);
      await chmod(davWork, 0o777);
      const nginx =
        have('nginx') && have('curl')
          ? await startNginx(davRoot, davWork, 'dav_methods PUT; create_full_put_path on; client_max_body_size 0; client_body_buffer_size 1m;')
          : undefined;
      const out = path.join(shm, 'up-out');
      try {
        const runPut = async () => {
          await fresh('big.bin');
          return put(big);
        };
        const runCurl = nginx
          ? async () => {
              await rm(path.join(davRoot, 'big.bin'), { force: true });
              return timed('curl', ['-fsS', '-T', big, `http://127.0.0.1:${nginx.port}/big.bin`]);
            }
          : undefined;
        // Our download of the same bytes from the same server, under a name
        // of its own: the file each put has just published is new to the
        // server, whose first download of it would also hash it (whole and
        // by block), which a download of a served file does not.
        await copyFile(big, path.join(upRoot, 'same.bin'));
        const runGet = async () => {
          await rm(out, { recursive: true, force: true });
          return timed(CLIENT_BIN, ['get', 'same.bin', '--server', server, '--out', out, '--quiet']);
        };
        const all: Run[][] = [[], [], []];
        for (let run = 0; run <= runs; run += 1) {
          for (const [k, runner] of [runPut, runCurl, runGet].entries()) {
            if (!runner) continue;
            const measured = await runner();
            // The first round warms caches and is not counted.
            if (run > 0) all[k]!.push(measured);
          }
        }
        const [puts, curls, gets] = all.map((r) => (r.length > 0 ? median(r.map((x) => x.seconds)) : undefined));
        results.push({
          id: 'u1',
          title: '1 GiB upload into tmpfs: seconds, ours put vs curl -T to nginx WebDAV',
          ours: puts!,
          theirs: curls,
          ratio: curls === undefined ? undefined : puts! / curls,
          extra: {
            oursGet: gets,
            putOverGet: puts! / gets!,
            oursClientPeakRssMiB: Math.max(...all[0]!.map((r) => r.peakRssMiB)),
            oursClientCpu: median(all[0]!.map((r) => r.cpuSeconds)),
            oursGetClientCpu: median(all[2]!.map((r) => r.cpuSeconds)),
          },
          goal: '≤ 1.25× our own get of the same file',
          met: puts! / gets! <= 1.25,
        });
      } finally {
        await nginx?.stop();
        await rm(out, { recursive: true, force: true });
        await rm(davRoot, { recursive: true, force: true });
      }
    }

    if (want('u2')) {
      process.stderr.write('case u2: 1 GiB upload, client killed -9 at 50 %, then run again\n');
      await fresh('big.bin');
      const sha256 = await sha256Of(big);
      const staged = stagedFileOf(staging, 'big.bin', GiB, sha256);
      const before = ours.calls.length;
      const child = spawn(CLIENT_BIN, ['put', big, '--server', server, '--db', db, '--quiet'], { stdio: 'ignore' });
      const exited = once(child, 'exit');
      for (;;) {
        const size = await stat(staged).then(
          (s) => s.size,
          () => 0,
        );
        if (size >= GiB / 2) break;
        if (child.exitCode !== null) throw new Error('put ended before half the file was staged');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      child.kill('SIGKILL');
      await exited;
      const atKill = (await stat(staged)).size;
      await put(big);
      const uploads = ours.calls.slice(before).filter((c) => c.method === 'Upload');
      const received = uploads.reduce((sum, c) => sum + (c.bytesReceived ?? 0), 0);
      results.push({
        id: 'u2',
        title: '1 GiB upload killed -9 at 50 % and resumed: bytes received ÷ size',
        ours: received / GiB,
        extra: { stagedAtKillMiB: atKill / 1024 ** 2, calls: uploads.length },
        goal: '≤ 1.02',
        met: received / GiB <= 1.02,
      });
    }

    if (want('u3')) {
      process.stderr.write('case u3: 4 GiB upload: server peak memory\n');
      await fresh('huge.bin');
      // A server of its own: the one above keeps the read buffers of u1's
      // downloads for reuse (16 MiB), which is download memory, not upload.
      const uploadsOnly = await startOurs(upRoot, ['--allow-upload', '--upload-staging', staging]);
      let serverPeak: number;
      let before: number;
      let run: Run;
      try {
        before = (await rssOf(uploadsOnly.pid)).rss;
        await resetPeak(uploadsOnly.pid);
        run = await timed(CLIENT_BIN, ['put', path.join(source, 'huge.bin'), '--server', `127.0.0.1:${uploadsOnly.port}`, '--db', db, '--quiet']);
        serverPeak = (await rssOf(uploadsOnly.pid)).peak;
      } finally {
        await uploadsOnly.stop();
      }
      await fresh('huge.bin');
      results.push({
        id: 'u3',
        title: '4 GiB upload: server peak RSS (MiB)',
        ours: serverPeak,
        extra: { seconds: run.seconds, serverRssBeforeMiB: before, clientPeakRssMiB: run.peakRssMiB },
        goal: '≤ 128 MiB',
        met: serverPeak <= 128,
      });
    }
  } finally {
    await ours.stop();
    await rm(upRoot, { recursive: true, force: true });
    await rm(staging, { recursive: true, force: true });
    await rm(maps, { recursive: true, force: true });
  }
  return results;
}
