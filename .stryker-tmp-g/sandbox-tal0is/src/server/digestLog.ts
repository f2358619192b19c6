// @ts-nocheck
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DIGEST_BYTES } from '../shared/blockHasher.js';

/** The file under --state-dir; one state dir per server (its workers share it through their primary). */
export const DIGEST_LOG_NAME = 'digests.jsonl';

const VERSION = /^[0-9a-f]{1,64}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What the log knows of one version: its whole digest, and its block digests when they were computed. */
export interface LoggedDigests {
  sha256: string;
  /** 32 bytes a block, of blocks of the log's `blockSize`. */
  blocks?: Buffer;
}

export interface LogBounds {
  /** Versions kept, the last written. */
  limit: number;
  /** Lists of another block size (a restart with another --block-size) are dropped. */
  blockSize: number;
  /** Bytes of block digests kept, those of the last written versions; older versions keep their whole digest only. */
  blockBytes: number;
}

interface Entry {
  version?: unknown;
  sha256?: unknown;
  blockSize?: unknown;
  blocks?: unknown;
}

/**
 * The digests of a log's lines, fed one at a time so that a large log is
 * never one string: latest per version, the `limit` last written kept,
 * block lists within `blockBytes`. A line that does not parse (the torn end
 * of a write cut by a crash, or anything else) is skipped: it costs a
 * rehash, no more. A line without blocks after one with them, for the same
 * version and digest, keeps them.
 */
class DigestLogReader {
  private readonly digests = new Map<string, LoggedDigests>();
  /** Versions that have blocks, oldest write first. */
  private readonly withBlocks = new Set<string>();
  private blockBytes = 0;

  constructor(private readonly bounds: LogBounds) {}

  add(line: string): void {
    let entry: Entry;
    try {
      entry = (JSON.parse(line) ?? {}) as Entry;
    } catch {
      return;
    }
    const { version, sha256 } = entry;
    if (typeof version !== 'string' || typeof sha256 !== 'string' || !VERSION.test(version) || !SHA256.test(sha256)) return;
    const before = this.digests.get(version);
    const blocks = this.blocksOf(entry) ?? (before?.sha256 === sha256 ? before.blocks : undefined);
    this.drop(version);
    // Re-inserted so that the order stays that of the latest write.
    this.digests.set(version, blocks ? { sha256, blocks } : { sha256 });
    if (blocks) {
      this.withBlocks.add(version);
      this.blockBytes += blocks.length;
    }
    if (this.digests.size > this.bounds.limit) this.drop(this.digests.keys().next().value!);
    for (const oldest of this.withBlocks) {
      if (this.blockBytes <= this.bounds.blockBytes) break;
      const kept = this.digests.get(oldest)!;
      this.blockBytes -= kept.blocks!.length;
      this.digests.set(oldest, { sha256: kept.sha256 });
      this.withBlocks.delete(oldest);
    }
  }

  /** The digests, in the order last written. */
  result(): Map<string, LoggedDigests> {
    return this.digests;
  }

  private blocksOf({ blockSize, blocks }: Entry): Buffer | undefined {
    if (blockSize !== this.bounds.blockSize || typeof blocks !== 'string' || !BASE64.test(blocks)) return undefined;
    const bytes = Buffer.from(blocks, 'base64');
    return bytes.length % DIGEST_BYTES === 0 && bytes.length <= this.bounds.blockBytes ? bytes : undefined;
  }

  private drop(version: string): void {
    const blocks = this.digests.get(version)?.blocks;
    if (blocks) this.blockBytes -= blocks.length;
    this.withBlocks.delete(version);
    this.digests.delete(version);
  }
}

/** The digests a log's whole text holds (see DigestLogReader). */
export function parseDigestLog(text: string, bounds: LogBounds): Map<string, LoggedDigests> {
  const reader = new DigestLogReader(bounds);
  for (const line of text.split('\n')) reader.add(line);
  return reader.result();
}

const COMPACT_PART = 1 << 20;

function lineOf(version: string, { sha256, blocks }: LoggedDigests, blockSize: number): string {
  const entry = blocks ? { version, sha256, blockSize, blocks: blocks.toString('base64') } : { version, sha256 };
  return `${JSON.stringify(entry)}\n`;
}

/**
 * Digests on disk, keyed by the file's version (device, inode, size,
 * mtime, ctime: any change gives a new key), so a restarted server serves a
 * resume or a block list without rehashing. Append-only JSON lines, one per
 * hash, its block digests in base64 (about 11 KiB per GiB hashed with 4 MiB
 * blocks); compacted at each start to the bounds, which also drops a torn
 * last line before anything is appended after it. Lines of older servers
 * (whole digest only) are read as they are: such a file's blocks are
 * hashed when first asked for.
 */
export class DigestLog {
  private writes = Promise.resolve();
  private failed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly blockSize: number,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Loads the log under `dir` (created if missing), compacted to `bounds`. */
  static async open(dir: string, bounds: LogBounds, onError: (err: Error) => void): Promise<{ log: DigestLog; digests: Map<string, LoggedDigests> }> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, DIGEST_LOG_NAME);
    const digests = await DigestLog.read(dir, bounds);
    const compacted = `${file}.tmp`;
    const out = await open(compacted, 'w');
    try {
      // In parts of about a megabyte rather than one more copy of it all.
      let part = '';
      for (const [version, known] of digests) {
        part += lineOf(version, known, bounds.blockSize);
        if (part.length >= COMPACT_PART) {
          await out.write(part);
          part = '';
        }
      }
      await out.write(part);
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(compacted, file);
    return { log: new DigestLog(await open(file, 'a'), bounds.blockSize, onError), digests };
  }

  /**
   * The digests of the log under `dir`, read without compacting or writing
   * it: for a worker of several, whose primary alone writes the log.
   */
  static async read(dir: string, bounds: LogBounds): Promise<Map<string, LoggedDigests>> {
    const reader = new DigestLogReader(bounds);
    const input = await open(path.join(dir, DIGEST_LOG_NAME), 'r').catch((err: NodeJS.ErrnoException) =>
      err.code === 'ENOENT' ? undefined : Promise.reject(err),
    );
    if (input) {
      try {
        for await (const line of input.readLines()) reader.add(line);
      } finally {
        await input.close();
      }
    }
    return reader.result();
  }

  /** Appends one version's digests; a failed write is reported once and costs only a later rehash. */
  append(version: string, digests: LoggedDigests): void {
    this.writes = this.writes
      .then(() => this.handle.appendFile(lineOf(version, digests, this.blockSize)))
      .then(undefined, (err: Error) => {
        if (!this.failed) this.onError(err);
        this.failed = true;
      });
  }

  async close(): Promise<void> {
    await this.writes;
    await this.handle.close().catch(() => undefined);
  }
}
