// Preloaded into a CLI under test (NODE_OPTIONS=--require): on exit, writes
// the CommonJS files the process loaded, one a line, to $LOADED_MODULES_FILE.
// grpc-js, protobufjs and proper-lockfile are CommonJS, so they show here
// even when ES modules import them.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  writeFileSync(process.env.LOADED_MODULES_FILE, `${Object.keys(require.cache).join('\n')}\n`);
});
