// @ts-nocheck
import type { BlockRange } from './blockSet.js';

/** Work for one lane of a segmented download: blocks [next, end), `next` the one it fetches now. */
export interface Piece {
  next: number;
  end: number;
}

/** More segments than blocks would leave lanes with nothing to do. */
export function clampSegments(requested: number, blocks: number): number {
  return Math.max(1, Math.min(requested, blocks));
}

/**
 * The blocks still missing, cut into about `segments` pieces of nearly
 * equal length, in file order. A piece never spans a gap (blocks already
 * verified are not fetched again), so many gaps make more pieces, which
 * lanes then take in turn.
 */
export function planPieces(missing: readonly BlockRange[], segments: number): Piece[] {
  const total = missing.reduce((sum, [start, end]) => sum + end - start, 0);
  if (total === 0) return [];
  const target = Math.ceil(total / segments);
  const pieces: Piece[] = [];
  for (const [start, end] of missing) {
    const parts = Math.ceil((end - start) / target);
    for (let k = 0; k < parts; k += 1) {
      pieces.push({ next: start + Math.floor(((end - start) * k) / parts), end: start + Math.floor(((end - start) * (k + 1)) / parts) });
    }
  }
  return pieces;
}

/**
 * Work for a lane that ran out: the back half of the running piece with the
 * most blocks not yet started (the one under way stays with its lane).
 * Returns the piece to shorten and where, or undefined when none has
 * `minLeft` (at least two) such blocks: the server of a piece has sent
 * ahead what the connection's window holds, which a split would only
 * fetch twice.
 */
export function stealFrom(running: readonly Piece[], minLeft = 2): { piece: Piece; cut: number } | undefined {
  let best: Piece | undefined;
  let bestLeft = Math.max(2, minLeft) - 1;
  for (const piece of running) {
    const left = piece.end - piece.next - 1;
    if (left > bestLeft) {
      best = piece;
      bestLeft = left;
    }
  }
  if (!best) return undefined;
  return { piece: best, cut: best.end - Math.ceil(bestLeft / 2) };
}

/** One replica's answer to Blocks: the whole digest its list belongs to. */
export interface ListAnswer {
  entry: string;
  sha256: string;
}

/**
 * Which content the replicas asked agree on: the digest two or more of
 * them gave, more often than any other, or the one digest when only one
 * replica answered; `odd` are the replicas that gave another. Undefined
 * when two or more answered and no digest leads (no two agree, or two
 * contents tie): ask another, or give up.
 * A replica's own list describes its own copy, so one replica with a
 * damaged copy must not set what the others are checked against.
 */
export function agreedDigest(answers: readonly ListAnswer[]): { sha256: string; odd: string[] } | undefined {
  const counts = new Map<string, number>();
  for (const { sha256 } of answers) counts.set(sha256, (counts.get(sha256) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  let tied = false;
  for (const [sha256, count] of counts) {
    if (count > bestCount) {
      best = sha256;
      bestCount = count;
      tied = false;
    } else if (count === bestCount) tied = true;
  }
  // Replicas that each gave another digest tie at one apiece.
  if (best === undefined || tied) return undefined;
  return { sha256: best, odd: answers.filter((answer) => answer.sha256 !== best).map((answer) => answer.entry) };
}
