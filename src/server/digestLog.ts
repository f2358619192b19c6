import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** The file under --state-dir; one state dir per server process. */
export const DIGEST_LOG_NAME = 'digests.jsonl';

const VERSION = /^[0-9a-f]{1,64}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The digests a log's text holds, latest per version, the `limit` last
 * written kept. A line that does not parse (the torn end of a write cut
 * by a crash, or anything else) is skipped: it costs a rehash, no more.
 */
export function parseDigestLog(text: string, limit: number): Map<string, string> {
  const digests = new Map<string, string>();
  for (const line of text.split('\n')) {
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    const { version, sha256 } = (entry ?? {}) as { version?: unknown; sha256?: unknown };
    if (typeof version !== 'string' || typeof sha256 !== 'string' || !VERSION.test(version) || !SHA256.test(sha256)) continue;
    // Re-inserted so that the order stays that of the latest write.
    digests.delete(version);
    digests.set(version, sha256);
  }
  const excess = digests.size - limit;
  if (excess > 0) for (const version of [...digests.keys()].slice(0, excess)) digests.delete(version);
  return digests;
}

const lineOf = (version: string, sha256: string) => `${JSON.stringify({ version, sha256 })}\n`;

/**
 * Whole-file digests on disk, keyed by the file's version (device, inode,
 * size, mtime, ctime: any change gives a new key), so a restarted server
 * serves a resume without rehashing. Append-only JSON lines; compacted at
 * each start, which also drops a torn last line before anything is
 * appended after it.
 */
export class DigestLog {
  private writes = Promise.resolve();
  private failed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Loads the log under `dir` (created if missing), compacted to `limit` entries. */
  static async open(dir: string, limit: number, onError: (err: Error) => void): Promise<{ log: DigestLog; digests: Map<string, string> }> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, DIGEST_LOG_NAME);
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? '' : Promise.reject(err)));
    const digests = parseDigestLog(text, limit);
    const compacted = `${file}.tmp`;
    const out = await open(compacted, 'w');
    try {
      await out.writeFile([...digests].map(([version, sha256]) => lineOf(version, sha256)).join(''));
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(compacted, file);
    return { log: new DigestLog(await open(file, 'a'), onError), digests };
  }

  /** Appends one digest; a failed write is reported once and costs only a later rehash. */
  append(version: string, sha256: string): void {
    this.writes = this.writes
      .then(() => this.handle.appendFile(lineOf(version, sha256)))
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
