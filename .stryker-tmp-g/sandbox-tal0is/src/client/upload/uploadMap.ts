// @ts-nocheck
import os from 'node:os';
import path from 'node:path';

/**
 * Where the upload map of `server` lives: `db` when given, else one file
 * per server in the user's state folder ($XDG_STATE_HOME, or
 * ~/.local/state), as gsutil keeps its resumable-upload trackers: the files
 * uploaded may lie anywhere, in folders that may be read-only, and one name
 * on two servers is two uploads.
 */
export function uploadMapFileOf(server: string, db?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (db !== undefined) return path.resolve(db);
  const stateHome = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(stateHome, 'grpc-client', 'uploads', `${server.replace(/[^\w.-]/g, '_')}.json`);
}
