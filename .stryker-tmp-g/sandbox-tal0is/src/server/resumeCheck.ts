/** What a Download request says about the bytes the client already holds. */
// @ts-nocheck

export interface ResumeClaim {
  offset: bigint;
  expectedVersion: string;
  prefixSha256: string;
  expectedSha256: string;
}

/** What the server knows of its file without reading it. */
export interface ServedFacts {
  version: string;
  /** The whole file's digest, when cached or persisted. */
  digest: string | undefined;
}

export type ResumeVerdict = { action: 'accept' } | { action: 'refuse'; why: 'changed' | 'other-content' } | { action: 'hash-prefix' };

/**
 * Whether the client's bytes may be continued with this file's (the rule
 * documented on DownloadRequest). The cheapest proof wins: the same
 * version, then the whole file's digest if both sides know it, and only
 * then a hash of the prefix (an empty prefix proves nothing, so from
 * offset 0 the version rule applies).
 */
export function resumeVerdict(claim: ResumeClaim, file: ServedFacts): ResumeVerdict {
  if (claim.expectedVersion !== '' && claim.expectedVersion === file.version) return { action: 'accept' };
  if (claim.expectedSha256 !== '' && file.digest !== undefined) {
    return claim.expectedSha256 === file.digest ? { action: 'accept' } : { action: 'refuse', why: 'other-content' };
  }
  if (claim.prefixSha256 !== '' && claim.offset > 0n) return { action: 'hash-prefix' };
  if (claim.expectedVersion !== '') return { action: 'refuse', why: 'changed' };
  return { action: 'accept' };
}

/**
 * Where a requested range ends, and whether it gets the whole file's digest
 * as a call without `limit` does: not a range that stops short of the end
 * or starts past 0 with `limit` set, which only gets a digest already known
 * (see the proto).
 */
export function rangeOf(offset: bigint, limit: bigint, size: bigint): { end: bigint; partial: boolean } {
  const end = limit > 0n && offset + limit < size ? offset + limit : size;
  return { end, partial: limit > 0n && (offset > 0n || end < size) };
}
