import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { killHard, spawnClient, waitForSize } from './processes.js';

export const taskMapOf = (out: string) => path.join(out, '.grpc-client-tasks.json');

export async function readTaskMap(out: string): Promise<{ tasks: Record<string, { status: string; size: number; version: string; sha256: string | null }> }> {
  return JSON.parse(await readFile(taskMapOf(out), 'utf8'));
}

/**
 * Starts `grpc-client get` paced by --limit-rate, kills it with SIGKILL once
 * the partial holds at least `atLeast` bytes, and returns the partial's
 * length: a real interrupted download.
 */
export async function interruptedDownload(server: string, out: string, name: string, atLeast: number, rate = '2M'): Promise<number> {
  const client = spawnClient(['get', name, '--server', server, '--out', out, '--limit-rate', rate]);
  await waitForSize(path.join(out, `${name}.part`), atLeast);
  await killHard(client.process);
  const { size } = await stat(path.join(out, `${name}.part`));
  return size;
}
