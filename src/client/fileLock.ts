import { readFile, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';

/**
 * A lock not refreshed for this long belongs to a dead process and is taken
 * over: the wait after a kill -9. The holder refreshes it every half of
 * this; proper-lockfile allows no less than 2 s.
 */
export const STALE_MS = 3000;

export interface HeldLock {
  release(): Promise<void>;
}

export interface LockWaitOptions {
  signal?: AbortSignal;
  /** Called once when another process holds the lock and we start waiting. */
  onWait?: (holderPid: number | undefined) => void;
  /** Called if the lock is lost while held (its folder removed, the disk gone). */
  onCompromised?: (err: Error) => void;
  /** Longest pause between attempts. */
  maxPollMs?: number;
}

/**
 * Locks `target` against other processes (proper-lockfile: a folder created
 * atomically, kept fresh while held, taken over once stale after a crash)
 * and records our pid in it so that a waiting process can say who holds it.
 * Waits for a lock held by another process until it is released or stale.
 */
export async function acquireLock(target: string, lockPath: string, options: LockWaitOptions = {}): Promise<HeldLock> {
  let waited = false;
  let pollMs = 20;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const release = await lockfile.lock(target, {
        realpath: false,
        lockfilePath: lockPath,
        stale: STALE_MS,
        retries: 0,
        onCompromised: options.onCompromised ?? (() => undefined),
      });
      // Beside the lock, not in it: proper-lockfile removes the lock folder
      // with rmdir, which refuses a folder that holds a file.
      await writeFile(ownerFileOf(lockPath), String(process.pid)).catch(() => undefined);
      return {
        release: async () => {
          // Only our own pid: after a takeover the file is the new holder's.
          if ((await lockHolder(lockPath)) === process.pid) await unlink(ownerFileOf(lockPath)).catch(() => undefined);
          await release().catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      if (!waited) {
        waited = true;
        options.onWait?.(await lockHolder(lockPath));
      }
      await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {});
      pollMs = Math.min(options.maxPollMs ?? 500, pollMs * 2);
    }
  }
}

const ownerFileOf = (lockPath: string) => `${lockPath}.pid`;

export async function lockHolder(lockPath: string): Promise<number | undefined> {
  const text = await readFile(ownerFileOf(lockPath), 'utf8').catch(() => '');
  const pid = Number(text);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
