// @ts-nocheck
import { debuglog } from 'node:util';

/**
 * Traces of the decisions a user cannot see in the output: which state a
 * file was found in and from where it resumes (plan), why an attempt is
 * retried or given up (retry), who holds a file's lock (lock). Node's own
 * debuglog, switched on per topic: NODE_DEBUG=grpc-file:plan,grpc-file:retry
 * or NODE_DEBUG=grpc-file:* for all; each line goes to stderr.
 */
export const trace = {
  plan: debuglog('grpc-file:plan'),
  retry: debuglog('grpc-file:retry'),
  lock: debuglog('grpc-file:lock'),
};
