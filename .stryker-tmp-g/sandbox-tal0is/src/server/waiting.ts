// @ts-nocheck
const HEARTBEAT_MS = 5000;

/**
 * Sends an empty message every HEARTBEAT_MS until `work` settles: hashing a
 * large file can take longer than a client waits for a message before it
 * calls the stream stalled.
 */
export async function withHeartbeat<T>(work: Promise<T>, beat: () => Promise<void>): Promise<T> {
  const done = work.then(() => true);
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const tick = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), HEARTBEAT_MS)));
    const finished = await Promise.race([done, tick]).finally(() => clearTimeout(timer));
    if (finished) return work;
    await beat();
  }
}
