// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import type { Chunk } from '../generated/filetransfer/v1/Chunk.js';
import type { ChunkBatch } from '../generated/filetransfer/v1/ChunkBatch.js';
import { sealChunk, WireChunk } from '../shared/chunkCodec.js';
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
export const CHUNK_A_MESSAGE: ManyFraming<Chunk> = stryMutAct_9fa48("0") ? {} : (stryCov_9fa48("0"), {
  whole: stryMutAct_9fa48("1") ? () => undefined : (stryCov_9fa48("1"), files => files.map(stryMutAct_9fa48("2") ? () => undefined : (stryCov_9fa48("2"), file => stryMutAct_9fa48("3") ? {} : (stryCov_9fa48("3"), {
    files: stryMutAct_9fa48("4") ? [] : (stryCov_9fa48("4"), [file]),
    message: new WireChunk(file.frame!)
  })))),
  alone: stryMutAct_9fa48("5") ? () => undefined : (stryCov_9fa48("5"), chunk => chunk),
  sealed: stryMutAct_9fa48("6") ? () => undefined : (stryCov_9fa48("6"), (frame, offset, length) => sealChunk(frame, offset, length))
});

/**
 * Batches of at most `maxBytes` (the server's chunk size): the writer's
 * bound on messages in flight and the rate limiter's pace, both counted in
 * messages of about a chunk, then hold as they do for DownloadMany.
 */
export function chunkBatches(maxBytes: number): ManyFraming<ChunkBatch> {
  if (stryMutAct_9fa48("7")) {
    {}
  } else {
    stryCov_9fa48("7");
    const limits = stryMutAct_9fa48("8") ? {} : (stryCov_9fa48("8"), {
      maxChunks: MAX_CHUNKS,
      maxBytes
    });
    return stryMutAct_9fa48("9") ? {} : (stryCov_9fa48("9"), {
      whole: stryMutAct_9fa48("10") ? () => undefined : (stryCov_9fa48("10"), files => groupAdjacent(files, limits).map(group => {
        if (stryMutAct_9fa48("11")) {
          {}
        } else {
          stryCov_9fa48("11");
          const first = group[0]!.entry!;
          const last = group[stryMutAct_9fa48("12") ? group.length + 1 : (stryCov_9fa48("12"), group.length - 1)]!.entry!;
          return stryMutAct_9fa48("13") ? {} : (stryCov_9fa48("13"), {
            files: group,
            message: new WireChunk(Buffer.from(first.buffer, first.byteOffset, stryMutAct_9fa48("14") ? last.byteOffset + last.length + first.byteOffset : (stryCov_9fa48("14"), (stryMutAct_9fa48("15") ? last.byteOffset - last.length : (stryCov_9fa48("15"), last.byteOffset + last.length)) - first.byteOffset)))
          });
        }
      })),
      alone: stryMutAct_9fa48("16") ? () => undefined : (stryCov_9fa48("16"), chunk => stryMutAct_9fa48("17") ? {} : (stryCov_9fa48("17"), {
        chunks: stryMutAct_9fa48("18") ? [] : (stryCov_9fa48("18"), [chunk])
      })),
      sealed: stryMutAct_9fa48("19") ? () => undefined : (stryCov_9fa48("19"), (frame, offset, length) => sealChunk(frame, offset, length, stryMutAct_9fa48("20") ? false : (stryCov_9fa48("20"), true)))
    });
  }
}

/**
 * Files grouped, in order, so that each group's entries lie side by side
 * in one buffer (the file-system thread writes a batch's entries so) and
 * stay within `limits`; an entry over them alone is a group of its own.
 * Grouping costs no copy: a group's message is a view of that buffer.
 */
export function groupAdjacent<T extends {
  entry: Buffer | undefined;
}>(files: readonly T[], limits: {
  maxChunks: number;
  maxBytes: number;
}): T[][] {
  if (stryMutAct_9fa48("21")) {
    {}
  } else {
    stryCov_9fa48("21");
    const groups: T[][] = stryMutAct_9fa48("22") ? ["Stryker was here"] : (stryCov_9fa48("22"), []);
    let group: T[] = stryMutAct_9fa48("23") ? ["Stryker was here"] : (stryCov_9fa48("23"), []);
    let start = 0;
    let end = 0;
    for (const file of files) {
      if (stryMutAct_9fa48("24")) {
        {}
      } else {
        stryCov_9fa48("24");
        const entry = file.entry!;
        const follows = stryMutAct_9fa48("27") ? group.length > 0 && entry.buffer === group[0]!.entry!.buffer || entry.byteOffset === end : stryMutAct_9fa48("26") ? false : stryMutAct_9fa48("25") ? true : (stryCov_9fa48("25", "26", "27"), (stryMutAct_9fa48("29") ? group.length > 0 || entry.buffer === group[0]!.entry!.buffer : stryMutAct_9fa48("28") ? true : (stryCov_9fa48("28", "29"), (stryMutAct_9fa48("32") ? group.length <= 0 : stryMutAct_9fa48("31") ? group.length >= 0 : stryMutAct_9fa48("30") ? true : (stryCov_9fa48("30", "31", "32"), group.length > 0)) && (stryMutAct_9fa48("34") ? entry.buffer !== group[0]!.entry!.buffer : stryMutAct_9fa48("33") ? true : (stryCov_9fa48("33", "34"), entry.buffer === group[0]!.entry!.buffer)))) && (stryMutAct_9fa48("36") ? entry.byteOffset !== end : stryMutAct_9fa48("35") ? true : (stryCov_9fa48("35", "36"), entry.byteOffset === end)));
        if (stryMutAct_9fa48("39") ? follows && group.length < limits.maxChunks || end + entry.length - start <= limits.maxBytes : stryMutAct_9fa48("38") ? false : stryMutAct_9fa48("37") ? true : (stryCov_9fa48("37", "38", "39"), (stryMutAct_9fa48("41") ? follows || group.length < limits.maxChunks : stryMutAct_9fa48("40") ? true : (stryCov_9fa48("40", "41"), follows && (stryMutAct_9fa48("44") ? group.length >= limits.maxChunks : stryMutAct_9fa48("43") ? group.length <= limits.maxChunks : stryMutAct_9fa48("42") ? true : (stryCov_9fa48("42", "43", "44"), group.length < limits.maxChunks)))) && (stryMutAct_9fa48("47") ? end + entry.length - start > limits.maxBytes : stryMutAct_9fa48("46") ? end + entry.length - start < limits.maxBytes : stryMutAct_9fa48("45") ? true : (stryCov_9fa48("45", "46", "47"), (stryMutAct_9fa48("48") ? end + entry.length + start : (stryCov_9fa48("48"), (stryMutAct_9fa48("49") ? end - entry.length : (stryCov_9fa48("49"), end + entry.length)) - start)) <= limits.maxBytes)))) {
          if (stryMutAct_9fa48("50")) {
            {}
          } else {
            stryCov_9fa48("50");
            group.push(file);
          }
        } else {
          if (stryMutAct_9fa48("51")) {
            {}
          } else {
            stryCov_9fa48("51");
            if (stryMutAct_9fa48("55") ? group.length <= 0 : stryMutAct_9fa48("54") ? group.length >= 0 : stryMutAct_9fa48("53") ? false : stryMutAct_9fa48("52") ? true : (stryCov_9fa48("52", "53", "54", "55"), group.length > 0)) groups.push(group);
            group = stryMutAct_9fa48("56") ? [] : (stryCov_9fa48("56"), [file]);
            start = entry.byteOffset;
          }
        }
        end = stryMutAct_9fa48("57") ? entry.byteOffset - entry.length : (stryCov_9fa48("57"), entry.byteOffset + entry.length);
      }
    }
    if (stryMutAct_9fa48("61") ? group.length <= 0 : stryMutAct_9fa48("60") ? group.length >= 0 : stryMutAct_9fa48("59") ? false : stryMutAct_9fa48("58") ? true : (stryCov_9fa48("58", "59", "60", "61"), group.length > 0)) groups.push(group);
    return groups;
  }
}