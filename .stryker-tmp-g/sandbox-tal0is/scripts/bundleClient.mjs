// @ts-nocheck
// Bundles the grpc-client command into one file, dist/bin/grpc-client.js,
// after tsc has built dist/. Node 20 resolves, reads and compiles each ES
// module on its own: the command's 150 files with grpc-js and protobufjs
// cost CPU at every start (measured: `get` of one small file 0.77 s of CPU
// from dist/, 0.48 bundled; see docs/performance.md). The library
// (dist/index.js) stays as tsc built it, for bundlers of its users.
import { build } from 'esbuild';
import { chmod, readFile } from 'node:fs/promises';

const entry = 'dist/client/cli/cli.js';
const outfile = 'dist/bin/grpc-client.js';
// The entry starts with the sh launcher (see src/client/cli/cli.ts): esbuild
// keeps its #! line but drops the second, a comment to JavaScript.
const launcher = (await readFile(entry, 'utf8')).split('\n')[1];
if (!launcher?.startsWith('//bin/true;')) throw new Error(`${entry} does not start with the launcher lines`);

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Bundled CommonJS (grpc-js, protobufjs) calls require for Node's own
  // modules, which an ES module has not got.
  banner: { js: `${launcher}\nimport { createRequire as bundleRequire } from 'node:module';\nconst require = bundleRequire(import.meta.url);` },
  // Progress bars are loaded only for a terminal, from node_modules, where
  // the start-up test sees whether they were; grpc-health-check, only for
  // `health`, finds its .proto beside its own files (__dirname).
  external: ['cli-progress', 'grpc-health-check'],
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
