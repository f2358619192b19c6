// @ts-nocheck
import { spawn, spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';

export interface Run {
  seconds: number;
  /** Peak resident set of the measured command, from GNU time. */
  peakRssMiB: number;
  /** User plus system CPU of the measured command, from GNU time (to 10 ms). */
  cpuSeconds: number;
}

/** Runs a command under GNU time and returns its wall time, peak RSS and CPU time; fails loudly on a non-zero exit. */
export async function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const started = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', ['-f', '%M %U %S', command, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`);
  const [kib, user, system] = (stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { seconds, peakRssMiB: kib! / 1024, cpuSeconds: user! + system! };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Current and peak RSS of a process, in MiB. */
export async function rssOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** Resets a process's peak RSS (VmHWM) so the next reading covers one case only. */
export async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => undefined);
}

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * CPU seconds (user + system) a server has used so far: every thread of
 * the process, the children it has reaped, and its live children with
 * theirs (nginx's workers live under the master until it stops, and a
 * process's own figures count them only once reaped). Read before and
 * after a run, the difference is what the run cost that side.
 */
export async function treeCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces: state is [0], utime [11], stime [12], cutime [13], cstime [14].
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  let children = 0;
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const listed = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    for (const child of listed.split(' ').filter(Boolean)) children += await treeCpuSeconds(Number(child)).catch(() => 0);
  }
  return ticks / TICKS_PER_SECOND + children;
}

/** A warm-up of each, then `runs` of each, alternating so drift hits all alike; a missing one gets no runs. */
export async function alternate<R>(runs: number, ...runners: ((() => Promise<R>) | undefined)[]): Promise<R[][]> {
  for (const runner of runners) await runner?.();
  const results = runners.map((): R[] => []);
  for (let i = 0; i < runs; i += 1) {
    for (const [k, runner] of runners.entries()) if (runner) results[k]!.push(await runner());
  }
  return results;
}
