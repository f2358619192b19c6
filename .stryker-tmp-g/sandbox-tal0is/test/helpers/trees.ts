// @ts-nocheck
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Writes `files` (name → content) under `root`, creating folders. */
export async function makeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
}

/**
 * Files whose names our client keeps for itself in --out: the task map,
 * its journal and locks, the map's temporary file while it is compacted
 * (`..grpc-client-tasks.json.tmp`, which a library client may still be
 * writing after a call returned), partials.
 */
const OWN = /^\.\.?grpc-client|\.part$/;

/**
 * Every regular file under `dir/sub` as name (relative to `dir`, '/'-separated)
 * → SHA-256, leaving out the client's own files.
 */
export async function treeDigests(dir: string, sub = ''): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const base = path.join(dir, sub);
  let entries: string[];
  try {
    entries = (await readdir(base, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  } catch {
    return found;
  }
  for (const file of entries.sort()) {
    const name = path.relative(dir, file).split(path.sep).join('/');
    if (OWN.test(path.basename(name))) continue;
    found[name] = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
  }
  return found;
}

/** Names of the client's partials left anywhere under `dir`. */
export async function partialsUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.name.endsWith('.part')).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}
