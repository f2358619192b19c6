import type { Chunk } from '../generated/filetransfer/v1/Chunk.js';
import type { ChunkBatch } from '../generated/filetransfer/v1/ChunkBatch.js';
import { chunkOfEntry, sealChunk, WireChunk } from '../shared/chunkCodec.js';
import type { ReadSmallFile } from './fsThread.js';

/** Chunks one ChunkBatch message may hold (see DownloadManyBatches in the proto). */
const MAX_CHUNKS = 1000;

/** A message of whole small files, and the files it carries. */
interface WholeFiles {
  files: ReadSmallFile[];
  message: WireChunk;
}

/**
 * How the Chunks of a DownloadMany stream become messages of type `T`: one
 * each (DownloadMany), or several to a ChunkBatch (DownloadManyBatches).
 * The Chunks themselves, and their order, are the same either way.
 */
export interface ManyFraming<T> {
  /** Small files read whole (not 'large'), in order, as messages. */
  whole(files: ReadSmallFile[]): WholeFiles[];
  /** A Chunk that goes alone: a large file's info, digest or error. */
  alone(chunk: Chunk): T;
  /** A large file's data chunk, sealed in its pool buffer (see sealChunk). */
  sealed(frame: Buffer, offset: number, length: number): WireChunk;
}

export const CHUNK_A_MESSAGE: ManyFraming<Chunk> = {
  whole: (files) => files.map((file) => ({ files: [file], message: new WireChunk(chunkOfEntry(file.entry!)) })),
  alone: (chunk) => chunk,
  sealed: (frame, offset, length) => sealChunk(frame, offset, length),
};

/**
 * Batches of at most `maxBytes` (the server's chunk size): the writer's
 * bound on messages in flight and the rate limiter's pace, both counted in
 * messages of about a chunk, then hold as they do for DownloadMany.
 */
export function chunkBatches(maxBytes: number): ManyFraming<ChunkBatch> {
  const limits = { maxChunks: MAX_CHUNKS, maxBytes };
  return {
    whole: (files) =>
      groupAdjacent(files, limits).map((group) => {
        const first = group[0]!.entry!;
        const last = group[group.length - 1]!.entry!;
        return { files: group, message: new WireChunk(Buffer.from(first.buffer, first.byteOffset, last.byteOffset + last.length - first.byteOffset)) };
      }),
    alone: (chunk) => ({ chunks: [chunk] }),
    sealed: (frame, offset, length) => sealChunk(frame, offset, length, true),
  };
}

/**
 * Files grouped, in order, so that each group's entries lie side by side
 * in one buffer (the file-system thread writes a batch's entries so) and
 * stay within `limits`; an entry over them alone is a group of its own.
 * Grouping costs no copy: a group's message is a view of that buffer.
 */
export function groupAdjacent<T extends { entry: Buffer | undefined }>(files: readonly T[], limits: { maxChunks: number; maxBytes: number }): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let start = 0;
  let end = 0;
  for (const file of files) {
    const entry = file.entry!;
    const follows = group.length > 0 && entry.buffer === group[0]!.entry!.buffer && entry.byteOffset === end;
    if (follows && group.length < limits.maxChunks && end + entry.length - start <= limits.maxBytes) {
      group.push(file);
    } else {
      if (group.length > 0) groups.push(group);
      group = [file];
      start = entry.byteOffset;
    }
    end = entry.byteOffset + entry.length;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
