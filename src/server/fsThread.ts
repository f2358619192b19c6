import type { BigIntStats } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { VERSION_LENGTH } from './servedFile.js';

export type ThreadRequest = ReadRequest | StatRequest;

interface ReadRequest {
  op: 'read';
  id: number;
  root: string;
  names: string[];
  /** Larger files are left to the caller: 'large'. */
  maxSize: number;
  /** Once the frames reach this many bytes, the rest of `names` is left unread. */
  maxBytes: number;
}

export interface StatRequest {
  op: 'stat';
  id: number;
  root: string;
  /** `/proc/self/fd/<n>` of a folder the caller keeps open until the answer comes. */
  folder: string;
  /** Entries of that folder: files or symlinks as a walk found them, or names asked for (anything). */
  names: string[];
  /** Per name: 0 a file, 1 a symlink, 2 not known (looked at without following it first). */
  symlinks: Uint8Array;
}

/** What a listing needs of a file: what FileInfo reads, and its version (hashed there too). */
export type EntryStat = Pick<BigIntStats, 'size' | 'mtimeNs'> & { version: string };

/**
 * Per entry, in columns: arrays of numbers cross between threads as one
 * copy, where an object per file cost a third of a listing's time.
 */
export interface StatResult {
  id: number;
  /** 1 where the entry is a regular file inside the root, else 0 and the rest is unset. */
  found: Uint8Array;
  sizes: BigInt64Array;
  mtimesNs: BigInt64Array;
  /** The versions of the entries found, VERSION_LENGTH characters each, in order. */
  versions: string;
}

/** One file of a batch; its message, if any, is the next `length` bytes of the batch's frames, as a ChunkBatch entry. */
export type SmallFileResult =
  | { kind: 'sent'; name: string; size: number; version: string; sha256: string; length: number }
  | { kind: 'failed'; name: string; detail: string | undefined; length: number }
  | { kind: 'large'; name: string };

export interface ReadResult {
  id: number;
  /** In the order asked; fewer than asked when the bytes ran out. */
  results: SmallFileResult[];
  frames: ArrayBuffer;
}

/**
 * A file of a batch with its encoded Chunk as an entry of a ChunkBatch, in
 * the memory of the batch's other entries (none for 'large').
 */
export type ReadSmallFile = SmallFileResult & { entry: Buffer | undefined };

/**
 * A worker thread (fsThreadMain.ts) for file-system calls made in batches:
 * small files read whole, a folder's entries stat'ed. Synchronous calls
 * there cost a fraction of the CPU that one promise per call costs here,
 * and stall no event loop; the main thread pays one message per batch.
 * Requests are served in the order given. Started on first use; it does
 * not keep the process alive; a thread that dies fails the batches it
 * held and is replaced on the next one.
 */
export class FsThread {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (answer: ReadResult & StatResult) => void; reject: (err: Error) => void }>();

  async read(root: string, names: string[], maxSize: number, maxBytes: number): Promise<ReadSmallFile[]> {
    return framesOf(await this.ask({ op: 'read', id: this.nextId++, root, names, maxSize, maxBytes }));
  }

  /** Per entry: its stat, or null when it is not a regular file inside the root; `symlink` undefined: not known. */
  async stat(root: string, folder: string, entries: { name: string; symlink: boolean | undefined }[]): Promise<(EntryStat | null)[]> {
    const symlinks = Uint8Array.from(entries, (entry) => (entry.symlink === undefined ? 2 : entry.symlink ? 1 : 0));
    const answer = await this.ask({ op: 'stat', id: this.nextId++, root, folder, names: entries.map((entry) => entry.name), symlinks });
    let at = 0;
    return entries.map((_, i) => {
      if (answer.found[i] !== 1) return null;
      const version = answer.versions.slice(at, at + VERSION_LENGTH);
      at += VERSION_LENGTH;
      return { size: answer.sizes[i]!, mtimeNs: answer.mtimesNs[i]!, version };
    });
  }

  private ask(request: ThreadRequest): Promise<ReadResult & StatResult> {
    const worker = this.started();
    return new Promise((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      worker.postMessage(request);
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker();
    worker.unref();
    worker.on('message', (answer: ReadResult & StatResult) => {
      const waiter = this.waiting.get(answer.id);
      this.waiting.delete(answer.id);
      waiter?.resolve(answer);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of this.waiting.values()) waiter.reject(err);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the small-file reader exited with ${code}`)));
    this.worker = worker;
    return worker;
  }
}

function startWorker(): Worker {
  const compiled = import.meta.url.endsWith('.js');
  const url = new URL(compiled ? './fsThreadMain.js' : './fsThreadMain.ts', import.meta.url);
  if (compiled) return new Worker(url);
  // Run from source, as tests do under tsx: the thread needs its loader too.
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`, { eval: true });
}

function framesOf(answer: ReadResult): ReadSmallFile[] {
  const frames = Buffer.from(answer.frames);
  let at = 0;
  return answer.results.map((result) => {
    if (result.kind === 'large') return { ...result, entry: undefined };
    const entry = frames.subarray(at, at + result.length);
    at += result.length;
    return { ...result, entry };
  });
}
