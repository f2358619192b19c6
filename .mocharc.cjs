// A few tests need root (mknod, mount): as a normal user they report
// themselves as skipped, with the reason in their title, and the rest
// still pass. As root, as in CI, nothing may be skipped.
'use strict';

module.exports = {
  import: 'tsx',
  timeout: 30000,
  reporter: './test/summaryReporter.cjs',
  'forbid-pending': process.getuid?.() === 0,
  exit: true,
};
