// @ts-nocheck
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { readTaskMapFile } from '../../src/client/taskMap/taskJournal.js';
import { killHard, pollUntil, spawnClient, waitForSize, type Watched } from './processes.js';

export const taskMapOf = (out: string) => path.join(out, '.grpc-client-tasks.json');

/** The task map of `out` as the client reads it: the snapshot and its journal. */
export async function readTaskMap(out: string): Promise<{ tasks: Record<string, { status: string; size: number; version: string; sha256: string | null }> }> {
  const read = await readTaskMapFile(taskMapOf(out));
  if (!read) throw new Error(`no task map in ${out}`);
  return { tasks: read.records };
}

/**
 * Starts `grpc-client get` paced by --limit-rate, kills it with SIGKILL once
 * the partial holds at least `atLeast` bytes, and returns the partial's
 * length: a real interrupted download.
 */
export async function interruptedDownload(server: string, out: string, name: string, atLeast: number, rate = '2M'): Promise<number> {
  const client = spawnClient(['get', name, '--server', server, '--out', out, '--limit-rate', rate]);
  try {
    await waitForSize(path.join(out, `${name}.part`), atLeast, client);
    await waitForRecord(out, name, client);
  } finally {
    await killHard(client.process);
  }
  const { size } = await stat(path.join(out, `${name}.part`));
  return size;
}

/**
 * Polls the task map until it records `name`: records are written shortly
 * after a transfer starts, not before its first bytes, so a test of the
 * "incomplete" state waits for both.
 */
export async function waitForRecord(out: string, name: string, writer: Watched, ms?: number): Promise<void> {
  await pollUntil(
    `the task map in ${out} to record ${name}`,
    async () => ((await readTaskMap(out).catch(() => undefined))?.tasks[name] ? true : undefined),
    [writer],
    ms,
  );
}
