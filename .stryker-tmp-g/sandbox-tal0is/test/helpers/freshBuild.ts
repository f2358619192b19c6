// @ts-nocheck
// A mocha root hook for the end-to-end tests, which run the built CLIs in
// dist/: a stale build would test yesterday's code and pass or fail for
// reasons nobody can see in src/. Fail the run at once instead.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function newestMtime(dir: string, keep: (file: string) => boolean): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (keep(file)) newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

export const mochaHooks = {
  beforeAll(): void {
    const source = newestMtime(path.join(root, 'src'), (file) => file.endsWith('.ts'));
    let built = 0;
    try {
      // grpc-client's bundle is made from tsc's output, after it: a bundle
      // left from before would run yesterday's client.
      built = Math.min(
        newestMtime(path.join(root, 'dist'), (file) => file.endsWith('.js')),
        statSync(path.join(root, 'dist', 'bin', 'grpc-client.js')).mtimeMs,
      );
    } catch {
      // No dist/ (or no bundle) at all: reported below like a stale one.
    }
    if (built < source) {
      throw new Error('dist/ is older than src/: run `npm run build` (npm test does) before the end-to-end tests');
    }
  },
};
