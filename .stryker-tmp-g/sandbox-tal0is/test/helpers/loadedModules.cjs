// @ts-nocheck
// Preloaded into a CLI under test (NODE_OPTIONS=--require): on exit, writes
// the CommonJS files the process loaded, one a line, to $LOADED_MODULES_FILE,
// then Node's own modules it loaded as node:NAME. grpc-js, protobufjs and
// proper-lockfile are CommonJS, so they show here even when ES modules
// import them; inside grpc-client's bundle, which has no files of theirs,
// grpc-js shows by the node:http2 it loads.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const builtins = process.moduleLoadList.filter((entry) => entry.startsWith('NativeModule ')).map((entry) => `node:${entry.slice('NativeModule '.length)}`);
  writeFileSync(process.env.LOADED_MODULES_FILE, `${[...Object.keys(require.cache), ...builtins].join('\n')}\n`);
});
