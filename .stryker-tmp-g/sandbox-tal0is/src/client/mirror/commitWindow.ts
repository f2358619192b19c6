// @ts-nocheck
import { createHash, hash as hashOnce, type Hash } from 'node:crypto';
import { closeSync, constants, fdatasync, openSync, renameSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import PQueue from 'p-queue';
import { DigestMismatchError, LocalIoError, type ClientError } from '../errors.js';
import type { OutputPaths } from '../outputPaths.js';
import { pinFolder, type PinnedFolder } from '../pinnedFolder.js';
import type { RemoteFile } from '../remoteFile.js';
import type { FolderSyncer } from '../download/folderSync.js';
import { writeAt } from '../download/partialFile.js';
import type { TaskRecords } from '../download/taskRecords.js';

const syncData = promisify(fdatasync);
const EMPTY = Buffer.alloc(0);
const PART_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/** A window commits once it holds this many files or bytes, or once its first file waited this long. */
const WINDOW_FILES = 256;
const WINDOW_BYTES = 16 * 1024 * 1024;
const WINDOW_MS = 250;

/**
 * Whether a window of `files` verified files, `bytes` long, whose first
 * file was verified `ageMs` ago, is due to commit: large enough that one
 * group of syncs is worth it, or old enough that its files should not wait
 * any longer for their final names.
 */
export function windowDue(files: number, bytes: number, ageMs: number): boolean {
  return files > 0 && (files >= WINDOW_FILES || bytes >= WINDOW_BYTES || ageMs >= WINDOW_MS);
}

/** Data syncs at once: enough to keep a disk's queue full. */
const PARALLEL_SYNCS = 16;

export type Committed = { name: string; ok: true; remote: RemoteFile; sha256: string } | { name: string; ok: false; error: ClientError };

/** A small file being written to its partial, whole, from one DownloadMany stream. */
export interface WritingFile {
  readonly name: string;
  write(data: Buffer): void;
}

interface Written {
  name: string;
  paths: OutputPaths;
  remote: RemoteFile;
  sha256: string;
  fd: number;
  folder: PinnedFolder;
  /** Lets go of `folder` once the file is published or failed; resolves when a last user's close is done. */
  release: () => Promise<void>;
}

/** A folder pinned for the files being written into it, until the last of them lets go. */
interface Pin {
  folder: Promise<PinnedFolder>;
  users: number;
}

/**
 * The cheap commit path for many small files. Each file is written to its
 * `.part` and hashed as its bytes arrive; verified files wait in a window,
 * which commits as a group: every file's data synced in parallel, then all
 * renamed to their final names, then one fsync per folder, then their
 * records given to the task map, which saves them in one write. Nothing
 * gets its final name before its SHA-256 matched and its bytes are on disk;
 * a kill -9 at any moment leaves partials (fetched again whole next time)
 * and published files whose records may be missing (fetched again too).
 *
 * File operations are synchronous where they only touch the page cache
 * and metadata (open, write, close, rename: microseconds each, less than a
 * trip through libuv's threadpool); the syncs, which wait for a disk, are
 * not.
 */
export class CommitWindow {
  private window: Written[] = [];
  private windowBytes = 0;
  private windowStarted = 0;
  /**
   * Folders pinned by path for the files that begin in the open window. A
   * file keeps its folder's pin from its first byte until it is published,
   * which may be a window later: a file of several messages can still be
   * arriving when the window before it commits, and its folder's
   * descriptor must stay that folder's (a number closed and reused for
   * another folder would rename that one's partial). Files of the next
   * window pin their folders again, checked again.
   */
  private pins = new Map<string, Pin>();
  private commits: Promise<void>[] = [];
  /** Pins let go of by files that never reached a commit, closing; drain waits for them too. */
  private closing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly out: string,
    private readonly store: TaskRecords,
    /** Undefined where syncs make nothing durable (tmpfs): data and folders are not synced. */
    private readonly folderSyncer: FolderSyncer | undefined,
    private readonly onCommitted: (outcome: Committed) => void,
  ) {}

  /** Opens the partial of a file that begins in the stream; it must be written whole, then ended or dropped. */
  async begin(paths: OutputPaths, remote: RemoteFile): Promise<WritingFile & { end(sha256: string): ClientError | undefined; drop(): void }> {
    const name = remote.name;
    const { folder, release } = await this.pin(path.dirname(paths.finalPath));
    const partName = path.basename(paths.partPath);
    let fd: number;
    try {
      fd = openSync(folder.at(partName), PART_FLAGS, 0o644);
    } catch (err) {
      this.letGo(release);
      throw new LocalIoError('open', paths.partPath, err as NodeJS.ErrnoException);
    }
    // Most small files arrive in one piece: hashed in one call when they
    // end, without a Hash object per file (a third of hashing's CPU at
    // 2,000 files of 16 KiB).
    let first: Buffer | undefined;
    let hash: Hash | undefined;
    let length = 0;
    // Twice when a write fails: the write drops the file, then the stream
    // that called it does. A second close could hit a number reused since.
    let dropped = false;
    const drop = () => {
      if (dropped) return;
      dropped = true;
      closeSync(fd);
      try {
        unlinkSync(folder.at(partName));
      } catch {
        // Gone already: nothing to drop.
      }
      this.letGo(release);
    };
    return {
      name,
      write: (data) => {
        try {
          writeAt(fd, data, length);
        } catch (err) {
          drop();
          throw new LocalIoError('write', paths.partPath, err as NodeJS.ErrnoException);
        }
        if (hash !== undefined) hash.update(data);
        else if (first === undefined) first = data;
        else {
          hash = createHash('sha256').update(first).update(data);
          first = undefined;
        }
        length += data.length;
      },
      end: (expected) => {
        const digest = hash?.digest('hex') ?? hashOnce('sha256', first ?? EMPTY);
        if (digest !== expected) {
          drop();
          return new DigestMismatchError(name, digest, expected);
        }
        if (this.window.length === 0) this.windowStarted = Date.now();
        this.window.push({ name, paths, remote, sha256: digest, fd, folder, release });
        this.windowBytes += length;
        return undefined;
      },
      drop,
    };
  }

  /**
   * Starts committing the open window when it is full or old enough (or
   * always, with `force`). Resolves once at most one earlier commit is
   * still running, so a disk slower than the stream holds the stream back.
   */
  async commitIfDue(force = false): Promise<void> {
    if (this.window.length > 0 && (force || windowDue(this.window.length, this.windowBytes, Date.now() - this.windowStarted))) {
      const files = this.window;
      const previous = this.commits.at(-1) ?? Promise.resolve();
      this.window = [];
      this.windowBytes = 0;
      this.pins = new Map();
      // In order: a later window's records never reach the map before an earlier one's.
      this.commits.push(previous.catch(() => undefined).then(() => this.commit(files)));
    }
    while (this.commits.length > 1) await this.commits.shift();
  }

  /** Commits what is verified and waits for every commit, and for every folder let go of to be closed. */
  async drain(): Promise<void> {
    await this.commitIfDue(true);
    while (this.commits.length > 0) await this.commits.shift();
    await this.closing;
  }

  /** Lets go of a pin for a file that never reaches a commit; drain waits for the close. */
  private letGo(release: () => Promise<void>): void {
    this.closing = Promise.all([this.closing, release()]);
  }

  /** The pin of `folder`, shared with the files already in it, and how to let go of it. */
  private async pin(folder: string): Promise<{ folder: PinnedFolder; release: () => Promise<void> }> {
    let pin = this.pins.get(folder);
    if (!pin) {
      pin = { folder: pinFolder(this.out, folder), users: 0 };
      this.pins.set(folder, pin);
    }
    const held = pin;
    held.users += 1;
    // Called once per file: by its drop (itself called once) or by the
    // commit that published or failed it.
    const release = async () => {
      held.users -= 1;
      if (held.users > 0) return;
      if (this.pins.get(folder) === held) this.pins.delete(folder);
      await held.folder.then((pinned) => pinned.close()).catch(() => undefined);
    };
    try {
      return { folder: await held.folder, release };
    } catch (err) {
      void release();
      throw err instanceof LocalIoError ? err : new LocalIoError('open', folder, err as NodeJS.ErrnoException);
    }
  }

  private async commit(files: Written[]): Promise<void> {
    const failed = new Map<string, ClientError>();
    try {
      const folderSyncer = this.folderSyncer;
      if (folderSyncer) {
        const syncs = new PQueue({ concurrency: PARALLEL_SYNCS });
        await Promise.all(
          files.map((file) =>
            syncs.add(() => syncData(file.fd).catch((err: NodeJS.ErrnoException) => failed.set(file.name, new LocalIoError('sync', file.paths.partPath, err)))),
          ),
        );
      }
      const folders = new Set<string>();
      for (const file of files) {
        closeSync(file.fd);
        const from = file.folder.at(path.basename(file.paths.partPath));
        if (failed.has(file.name)) continue;
        try {
          renameSync(from, file.folder.at(path.basename(file.paths.finalPath)));
          folders.add(path.dirname(file.paths.finalPath));
        } catch (err) {
          failed.set(file.name, new LocalIoError('publish', file.paths.finalPath, err as NodeJS.ErrnoException));
        }
      }
      const folderFailures = new Map<string, LocalIoError>();
      await Promise.all(
        [...folders].map((folder) =>
          (folderSyncer?.sync(folder) ?? Promise.resolve()).catch((err: NodeJS.ErrnoException) =>
            folderFailures.set(folder, new LocalIoError('sync', folder, err)),
          ),
        ),
      );
      for (const file of files) {
        const error = failed.get(file.name) ?? folderFailures.get(path.dirname(file.paths.finalPath));
        if (error) {
          this.onCommitted({ name: file.name, ok: false, error });
          continue;
        }
        // Not awaited: the map coalesces a window's records into one write,
        // and a file published whose record a crash lost is fetched again.
        this.store.markComplete(file.name, { size: file.remote.size, version: file.remote.version, sha256: file.sha256 }).catch(() => undefined);
        this.onCommitted({ name: file.name, ok: true, remote: file.remote, sha256: file.sha256 });
      }
    } finally {
      await Promise.all(files.map((file) => file.release()));
    }
  }
}
