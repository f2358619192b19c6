/** Where an attempt starts: from `offset` bytes of the partial, of `expectedVersion`. */
// @ts-nocheck

export interface ResumePoint {
  offset: number;
  /** The server's version the partial's bytes belong to; undefined from 0, or when unknown. */
  expectedVersion: string | undefined;
}

/**
 * Where the attempt after a failed one starts. From 0 when the policy says
 * so (the remote file changed, or the digest failed); otherwise from what is
 * on disk, asking for the version those bytes came from, so the server
 * refuses to splice another version onto them.
 */
export function nextResumePoint(fromZero: boolean, partSize: number | null, lastVersion: string | undefined): ResumePoint {
  if (fromZero) return { offset: 0, expectedVersion: undefined };
  const offset = partSize ?? 0;
  return { offset, expectedVersion: offset > 0 ? lastVersion : undefined };
}

/**
 * A retry that resumes exactly where the last attempt's hashes stopped
 * continues them instead of reading the whole partial again.
 */
export function reusableHash<T extends { length: number }>(carried: T | undefined, offset: number): T | undefined {
  return carried !== undefined && carried.length === offset ? carried : undefined;
}
