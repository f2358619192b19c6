// @ts-nocheck
import path from 'node:path';
import { ClientError, LocalIoError, LockLostError } from './errors.js';
import { abortedError } from './download/retryLoop.js';
import { acquireLock, type HeldLock } from './fileLock.js';
import { trace } from './trace.js';
import { untilAborted } from '../shared/untilAborted.js';

/** The lock's name in --out; its holder file is this plus `.pid`. */
export const FOLDER_LOCK_NAME = '.grpc-client.lock';

export interface LeaseWaitOptions {
  signal?: AbortSignal;
  /** Another process holds the folder; called once per hold that has to wait. */
  onWait?: (holderPid: number | undefined) => void;
}

/**
 * The right of this process to write into one output folder: one lock per
 * folder and process, taken when the first download starts and let go when
 * the last one ends, instead of a lock and a holder file per file (which cost
 * a tree of small files more than its bytes). Another process that wants the
 * folder waits until we are done, then finds what we fetched recorded in the
 * task map. A lock that is lost (its folder removed, refreshes failing)
 * aborts every download under it with a LockLostError.
 */
export class FolderLease {
  private holders = 0;
  private current: Acquisition | undefined;
  private releasing: Promise<void> = Promise.resolve();
  private readonly waiters = new Set<(pid: number | undefined) => void>();

  constructor(private readonly out: string) {}

  /**
   * Runs `work` while this process holds the folder; `work`'s signal also
   * aborts if the lock is lost. Waiting for another process ends when
   * `options.signal` aborts.
   */
  async hold<T>(name: string, work: (signal: AbortSignal) => Promise<T>, options: LeaseWaitOptions = {}): Promise<T> {
    this.holders += 1;
    const onWait = options.onWait ?? (() => undefined);
    let lost: AbortSignal;
    try {
      const acquisition = this.acquisition();
      if (acquisition.waitingFor) onWait(acquisition.waitingFor.pid);
      this.waiters.add(onWait);
      lost = await untilAborted(acquisition.held, options.signal);
    } catch (err) {
      await this.letGo();
      if (options.signal?.aborted) throw abortedError(name, options.signal, err);
      throw err instanceof ClientError ? err : new LocalIoError('lock', path.join(this.out, FOLDER_LOCK_NAME), err as NodeJS.ErrnoException);
    } finally {
      this.waiters.delete(onWait);
    }
    try {
      return await work(options.signal ? AbortSignal.any([options.signal, lost]) : lost);
    } finally {
      await this.letGo();
    }
  }

  private acquisition(): Acquisition {
    if (this.current) return this.current;
    const lost = new AbortController();
    const giveUp = new AbortController();
    const acquisition: Acquisition = { giveUp, waitingFor: undefined, held: undefined as unknown as Promise<AbortSignal>, lock: undefined };
    acquisition.held = this.releasing.then(async () => {
      const lock = await acquireLock(this.out, path.join(this.out, FOLDER_LOCK_NAME), {
        inside: this.out,
        // Shared by every hold of this process: only the last one to let
        // go gives the wait up.
        signal: giveUp.signal,
        onWait: (pid) => {
          trace.lock('%s: held by pid %s; waiting', this.out, pid);
          acquisition.waitingFor = { pid };
          for (const waiter of this.waiters) waiter(pid);
        },
        onCompromised: (err) => lost.abort(new LockLostError(this.out, err)),
      });
      acquisition.waitingFor = undefined;
      acquisition.lock = lock;
      trace.lock('%s: locked', this.out);
      return lost.signal;
    });
    // Each hold awaits it; this keeps a failure nobody awaits any more quiet.
    acquisition.held.catch(() => undefined);
    this.current = acquisition;
    return acquisition;
  }

  private async letGo(): Promise<void> {
    this.holders -= 1;
    const acquisition = this.current;
    if (this.holders > 0 || !acquisition) return;
    this.current = undefined;
    acquisition.giveUp.abort();
    this.releasing = acquisition.held.then(
      async () => {
        await acquisition.lock?.release();
        trace.lock('%s: released', this.out);
      },
      () => undefined,
    );
    await this.releasing;
  }
}

interface Acquisition {
  /** Resolves with the signal that aborts if the lock is lost. */
  held: Promise<AbortSignal>;
  lock: HeldLock | undefined;
  /** Aborted when no hold wants the lock any more. */
  giveUp: AbortController;
  /** Set while another process holds the folder. */
  waitingFor: { pid: number | undefined } | undefined;
}
