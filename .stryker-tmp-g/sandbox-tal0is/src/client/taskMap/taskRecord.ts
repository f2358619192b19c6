// @ts-nocheck
// The shape of the task map's records, apart from the store that keeps them:
// the engine, the journal and the schema all speak of records, and none of
// them needs the store.

export type TaskStatus = 'incomplete' | 'complete';

/** What the task map remembers about one name: enough to resume or to skip. */
export interface TaskRecord {
  name: string;
  status: TaskStatus;
  /** Size of the remote file, in bytes. */
  size: number;
  /** The server's version of the file the partial holds bytes of. */
  version: string;
  /** SHA-256 (hex) of the whole file, once known. */
  sha256: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  /**
   * A partial fetched in segments (sparse: its length says nothing): the
   * blocks of it verified against the block list of `sha256`, as
   * [first, end) ranges of block indexes, in order and apart. Absent for a
   * partial written as one stream, whose length is what it holds.
   */
  verifiedBlocks?: VerifiedBlocks;
}

/** Which blocks of a sparse partial were verified (see TaskRecord.verifiedBlocks). */
export interface VerifiedBlocks {
  blockSize: number;
  ranges: [first: number, end: number][];
}

/** What the remote side of a download tells the task map about a file. */
export interface RemoteFacts {
  size: number;
  version: string;
  sha256: string | null;
}
