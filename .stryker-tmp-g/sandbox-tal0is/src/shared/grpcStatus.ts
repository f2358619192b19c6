// @ts-nocheck
// grpc-js's status codes (the very object grpc.status is) from the one file
// that defines them: importing the package's index loads all of grpc-js, about
// 80 ms, which the CLI's --help, status and verify would pay for a table of
// numbers. The version of grpc-js is pinned; a moved file fails every test.
export { Status as status } from '@grpc/grpc-js/build/src/constants.js';
