// @ts-nocheck
import { status } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { mkdir, readdir, realpath, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { isInside } from '../shared/names.js';
import { StatusError } from '../shared/statusError.js';

/** A staged upload's file: its upload id, then this suffix; nothing else in the folder is ours to touch. */
const STAGED_FILE = /^([0-9a-f]{64})\.upload$/;

export interface StagingOptions {
  /** The folder, outside the served root and on its file system. */
  dir: string;
  /** Staged bytes no call touched for this long are deleted. */
  ttlMs: number;
  /** Bytes the staging area may hold, counting each running upload at its declared size. */
  quotaBytes: number;
  /** Names taken across processes, for workers of one server sharing the folder (see workers.ts). */
  names?: NameTurns;
}

/** Upload names held across processes; within one process the running uploads are known already. */
export interface NameTurns {
  /** Takes `name`, unless another process runs an upload of it. */
  take(name: string): Promise<boolean>;
  give(name: string): void;
}

/**
 * The id of the upload that writes `size` bytes with digest `sha256` to
 * `name`: a client that knows what it uploads can always find its bytes
 * again (QueryUpload), without an id to remember, and two uploads of other
 * content never share a staged file.
 */
export function uploadIdOf(name: string, size: number, sha256: string): string {
  return createHash('sha256').update(`${name}\0${size}\0${sha256}`, 'utf8').digest('hex');
}

/**
 * Why a staging folder cannot be used with `root` (both real paths, `dev`
 * their devices), or undefined: it must lie outside the served tree, so
 * nothing staged is ever listed or served, and on the same file system, so
 * publishing is one rename.
 */
export function stagingProblem(root: string, dir: string, devices: { root: number; dir: number }): string | undefined {
  if (dir === root || isInside(root, dir))
    return `the upload staging folder ${dir} is inside the served root ${root}: staged bytes would be served; choose one outside it`;
  if (isInside(dir, root)) return `the upload staging folder ${dir} contains the served root ${root}; choose a folder beside it`;
  if (devices.root !== devices.dir) {
    return `the upload staging folder ${dir} is on another file system than the root ${root}: uploads could not be published by a rename; choose one on the same file system`;
  }
  return undefined;
}

/**
 * Whether one more upload of `size` bytes fits the quota, given the bytes
 * the others hold; undefined when it does, else why not.
 */
export function quotaProblem(heldByOthers: number, size: number, quota: number): string | undefined {
  if (heldByOthers + size <= quota) return undefined;
  return `the upload staging area holds ${heldByOthers} bytes of its ${quota}-byte quota; ${size} more do not fit: try again once other uploads have finished`;
}

/** A running upload's hold on its name and its staged file; given back once. */
export interface StagingClaim {
  id: string;
  /** Path of the staged file. */
  file: string;
  /** The staged file now holds `bytes`. */
  holds(bytes: number): void;
  /** Deletes the staged bytes (published elsewhere, or found wrong). */
  discard(): Promise<void>;
  release(): void;
}

/**
 * The folder where uploads are staged, one file per upload id, and the
 * bookkeeping around it: one running upload per name, the quota on staged
 * bytes, and the sweep that deletes uploads abandoned for longer than the
 * TTL. Staged files survive a restart: a new server finds them and a
 * client continues where the bytes end. One server per staging folder
 * (its workers take names through their primary).
 */
export class Staging {
  /** Bytes on disk per upload id. */
  private readonly held = new Map<string, number>();
  /** Running uploads: name → id and the declared size it reserves. */
  private readonly running = new Map<string, { id: string; size: number }>();
  /** Upload ids whose expired file is being deleted: not to be claimed meanwhile. */
  private readonly expiring = new Set<string>();
  private readonly sweeper: NodeJS.Timeout;

  private constructor(
    readonly dir: string,
    private readonly options: StagingOptions,
    private readonly logger: Logger,
  ) {
    // Often enough that an abandoned upload is gone soon after its TTL,
    // rarely enough to cost nothing.
    this.sweeper = setInterval(() => void this.sweep(), Math.min(10 * 60_000, Math.max(100, Math.floor(options.ttlMs / 2))));
    this.sweeper.unref();
  }

  /** Creates the folder if needed (readable by this user only), checks it against `root`, and takes stock of what it holds. */
  static async open(root: string, options: StagingOptions, logger: Logger): Promise<Staging> {
    try {
      await mkdir(options.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new Error(`cannot create the upload staging folder ${options.dir}: ${(err as Error).message}; choose another with --upload-staging`, {
        cause: err,
      });
    }
    const dir = await realpath(options.dir);
    const [rootStat, dirStat] = await Promise.all([stat(root), stat(dir)]);
    const problem = stagingProblem(root, dir, { root: rootStat.dev, dir: dirStat.dev });
    if (problem !== undefined) throw new Error(problem);
    const staging = new Staging(dir, options, logger);
    await staging.sweep();
    logger.info({ dir, uploads: staging.held.size, bytes: staging.heldBytes() }, 'upload staging');
    return staging;
  }

  /** Bytes staged over all uploads, as the quota counts them. */
  heldBytes(except?: string): number {
    let total = 0;
    const reserved = new Map([...this.running.values()].map((upload) => [upload.id, upload.size]));
    for (const [id, bytes] of this.held) if (id !== except && !reserved.has(id)) total += bytes;
    for (const [id, size] of reserved) if (id !== except) total += size;
    return total;
  }

  /** Bytes staged for `id` (0 for none): where its next call continues. */
  async committed(id: string): Promise<number> {
    try {
      const found = await stat(this.fileOf(id));
      this.held.set(id, found.size);
      return found.size;
    } catch {
      this.held.delete(id);
      return 0;
    }
  }

  /**
   * Takes `name` for the upload `id` of `size` bytes: ABORTED while
   * another upload of the name runs, RESOURCE_EXHAUSTED when it would not
   * fit the quota.
   */
  async claim(name: string, id: string, size: number): Promise<StagingClaim> {
    const busy = () => new StatusError(status.ABORTED, `another upload of ${name} is in progress; try again once it has ended`);
    if (this.running.has(name) || this.expiring.has(id)) throw busy();
    const problem = quotaProblem(this.heldBytes(id), size, this.options.quotaBytes);
    if (problem !== undefined) throw new StatusError(status.RESOURCE_EXHAUSTED, problem);
    const entry = { id, size };
    this.running.set(name, entry);
    // Another worker's upload of the name would write the same staged file,
    // or replace what this one's precondition checked.
    if (this.options.names && !(await this.options.names.take(name))) {
      this.running.delete(name);
      throw busy();
    }
    let released = false;
    return {
      id,
      file: this.fileOf(id),
      holds: (bytes) => this.held.set(id, bytes),
      discard: async () => {
        this.held.delete(id);
        await unlink(this.fileOf(id)).catch(() => undefined);
      },
      release: () => {
        if (released) return;
        released = true;
        if (this.running.get(name) === entry) this.running.delete(name);
        this.options.names?.give(name);
      },
    };
  }

  /** Deletes staged files no call touched for the TTL, and recounts what stays. */
  async sweep(): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (err) {
      this.logger.warn({ dir: this.dir, err: (err as Error).message }, 'cannot read the upload staging folder');
      return;
    }
    const busy = () => new Set([...this.running.values()].map((upload) => upload.id));
    const oldest = Date.now() - this.options.ttlMs;
    const seen = new Set<string>();
    for (const entry of entries) {
      const id = STAGED_FILE.exec(entry)?.[1];
      if (id === undefined) continue;
      seen.add(id);
      const file = path.join(this.dir, entry);
      const found = await stat(file).catch(() => undefined);
      if (!found) continue;
      // Asked again now: an upload may have begun while we looked.
      if (!busy().has(id) && found.mtimeMs < oldest) {
        this.expiring.add(id);
        await unlink(file)
          .catch(() => undefined)
          .finally(() => this.expiring.delete(id));
        this.held.delete(id);
        this.logger.info({ upload: id, bytes: found.size }, 'abandoned upload expired');
        continue;
      }
      this.held.set(id, found.size);
    }
    const running = busy();
    for (const id of this.held.keys()) if (!seen.has(id) && !running.has(id)) this.held.delete(id);
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private fileOf(id: string): string {
    return path.join(this.dir, `${id}.upload`);
  }
}
