// @ts-nocheck
import type { Found } from '../localFile.js';
import type { TaskRecord } from '../taskMap/taskRecord.js';

/**
 * What `status` says of a record once the disk is looked at: a complete
 * record vouches for a file only while that file is there with the size it
 * was recorded with.
 */
type LocalState = 'complete' | 'incomplete' | 'deleted' | 'damaged';

export interface StatusRow {
  state: LocalState;
  /** Bytes of the final file (complete) or of the partial (incomplete) found. */
  bytesOnDisk: number;
  /** Why a file is damaged; null otherwise. */
  damage: string | null;
}

export function statusRowOf(record: TaskRecord, final: Found, partial: Found): StatusRow {
  if (record.status === 'incomplete') {
    const found = typeof partial === 'object' && 'size' in partial ? partial.size : 0;
    return { state: 'incomplete', bytesOnDisk: record.verifiedBlocks && found > 0 ? verifiedBytes(record) : found, damage: null };
  }
  if (final === 'missing') return { state: 'deleted', bytesOnDisk: 0, damage: null };
  if ('unusable' in final) return { state: 'damaged', bytesOnDisk: 0, damage: final.unusable };
  if (final.size !== record.size) {
    return { state: 'damaged', bytesOnDisk: final.size, damage: `size ${final.size} bytes, recorded ${record.size}` };
  }
  return { state: 'complete', bytesOnDisk: final.size, damage: null };
}

/** The bytes of a sparse partial's verified blocks: its length is the whole file's, holes included. */
function verifiedBytes({ size, verifiedBlocks }: TaskRecord): number {
  const { blockSize, ranges } = verifiedBlocks!;
  return ranges.reduce((sum, [first, end]) => sum + Math.min(size, end * blockSize) - first * blockSize, 0);
}
