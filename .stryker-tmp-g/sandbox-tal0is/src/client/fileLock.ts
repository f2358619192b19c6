// @ts-nocheck
import { constants, readlinkSync } from 'node:fs';
import { rmdir, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { pinFolder, type PinnedFolder } from './pinnedFolder.js';
import { trace } from './trace.js';

/**
 * A lock not refreshed for this long is taken over: the wait after a kill -9
 * of a holder we cannot prove dead (another host, or a pid we cannot see).
 * The holder refreshes it every half of this; proper-lockfile allows no
 * less than 2 s.
 */
export const STALE_MS = 3000;

/** Polls (20, 40, 80 ms) a waiter gives a new holder to write its record before it reports the wait without a pid. */
const UNNAMED_POLLS = 3;

export interface HeldLock {
  release(): Promise<void>;
}

export interface LockWaitOptions {
  /** Real path of --out: the lock and its holder file are made only under it. */
  inside: string;
  signal?: AbortSignal;
  /** Called once when another process holds the lock and we start waiting. */
  onWait?: (holderPid: number | undefined) => void;
  /** Called if the lock is lost while held (its folder removed, the disk gone). */
  onCompromised?: (err: Error) => void;
  /** Longest pause between attempts. */
  maxPollMs?: number;
}

/** Where a process runs: a pid means something only there. */
export interface Place {
  host: string;
  /** The pid namespace, from /proc/self/ns/pid: containers on one host may share a hostname. */
  pidNamespace: string;
}

/** Who holds a lock, as its holder file says. */
export interface LockHolder {
  pid: number;
  host?: string;
  pidNamespace?: string;
}

/**
 * Locks `target` against other processes (proper-lockfile: a folder created
 * atomically, kept fresh while held, taken over once stale after a crash)
 * and records who we are beside it, so that a waiting process can say who
 * holds it and take it over at once when that holder is provably gone.
 * Waits for a lock held by another process until it is released or stale.
 * The folder of `lockPath` is pinned (see PinnedFolder): a symlink swapped
 * in on the way cannot move the lock or its holder file outside `inside`.
 */
export async function acquireLock(target: string, lockPath: string, options: LockWaitOptions): Promise<HeldLock> {
  const folder = await pinFolder(options.inside, path.dirname(lockPath));
  try {
    return await lockIn(folder, target, path.basename(lockPath), options);
  } catch (err) {
    await folder.close();
    throw err;
  }
}

async function lockIn(folder: PinnedFolder, target: string, lockName: string, options: LockWaitOptions): Promise<HeldLock> {
  const lockfilePath = folder.at(lockName);
  const holderName = holderFileOf(lockName);
  let waited = false;
  let unnamedPolls = 0;
  let pollMs = 20;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const release = await lockfile.lock(target, {
        realpath: false,
        lockfilePath,
        stale: STALE_MS,
        retries: 0,
        onCompromised: options.onCompromised ?? (() => undefined),
      });
      await writeHolder(folder, holderName).catch(() => undefined);
      return {
        release: async () => {
          // Only our own record: after a takeover the file is the new holder's.
          if ((await readHolder(folder, holderName))?.pid === process.pid) await unlink(folder.at(holderName)).catch(() => undefined);
          await release().catch(() => undefined);
          await folder.close();
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      const holder = await readHolder(folder, holderName);
      // Two processes may both find the holder gone and both take over; the
      // loser's lock is then compromised at its next refresh and it stops,
      // as after proper-lockfile's own takeover of a stale lock.
      if (holderIsGone(holder, HERE, isAlive)) {
        trace.lock('%s: the holder, pid %d on this host, is gone; taking the lock over', target, holder!.pid);
        await rmdir(lockfilePath).catch(() => undefined);
        continue;
      }
      // A holder writes its record just after it takes the lock: one met
      // in between is named once its record is there, or as unknown after
      // a few polls (an older client, or a record that cannot be read).
      if (!waited && (holder !== undefined || ++unnamedPolls > UNNAMED_POLLS)) {
        waited = true;
        options.onWait?.(holder?.pid);
      }
      await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {});
      pollMs = Math.min(options.maxPollMs ?? 500, pollMs * 2);
    }
  }
}

/**
 * Whether the holder of a lock is provably dead: it ran on this host in
 * this pid namespace and its pid is no longer there. Anything less (another
 * host, an old record without host, a pid reused by a live process) is left
 * to the stale timeout.
 */
export function holderIsGone(holder: LockHolder | undefined, self: Place | undefined, alive: (pid: number) => boolean): boolean {
  if (!holder || !self || holder.host !== self.host || holder.pidNamespace !== self.pidNamespace) return false;
  return !alive(holder.pid);
}

/** A holder file's text as a holder; older clients wrote the bare pid. */
export function parseHolder(text: string): LockHolder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value === 'number') value = { pid: value };
  if (typeof value !== 'object' || value === null) return undefined;
  const { pid, host, pidNamespace } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
  return {
    pid,
    ...(typeof host === 'string' ? { host } : {}),
    ...(typeof pidNamespace === 'string' ? { pidNamespace } : {}),
  };
}

/** This process's host and pid namespace; undefined where /proc cannot tell the namespace. */
const HERE: Place | undefined = (() => {
  try {
    return { host: os.hostname(), pidNamespace: readlinkSync('/proc/self/ns/pid') };
  } catch {
    return undefined;
  }
})();

/** Whether a process of this pid runs here (EPERM: it does, as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const holderFileOf = (lockName: string) => `${lockName}.pid`;

/**
 * Replaces the holder file, never writing through a symlink put in its
 * place (O_EXCL after unlink, O_NOFOLLOW, checked descriptor).
 */
async function writeHolder(folder: PinnedFolder, holderName: string): Promise<void> {
  await unlink(folder.at(holderName)).catch(() => undefined);
  const file = await folder.open(holderName, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    await file.writeFile(JSON.stringify({ pid: process.pid, ...HERE }));
  } finally {
    await file.close();
  }
}

async function readHolder(folder: PinnedFolder, holderName: string): Promise<LockHolder | undefined> {
  try {
    // O_NONBLOCK: a FIFO put in its place must not park a threadpool thread.
    const file = await folder.open(holderName, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      return parseHolder(await file.readFile('utf8'));
    } finally {
      await file.close();
    }
  } catch {
    return undefined;
  }
}
