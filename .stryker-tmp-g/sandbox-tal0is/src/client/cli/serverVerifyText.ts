// @ts-nocheck
import type { ByteRange } from '../blocks/blockRanges.js';
import type { ServerVerifyResult } from '../blocks/serverVerify.js';
import { describeFailure } from './describeFailure.js';
import { batchExitCode, EXIT, exitCodeOf } from './exitCodes.js';
import { formatBytes } from './parseUnits.js';

/** Ranges a line names before it only counts the rest; --json has them all. */
const RANGES_SHOWN = 8;

/** Byte ranges as HTTP and dd count them: first-last, both included. */
export function rangesText(ranges: readonly ByteRange[]): string {
  const shown = ranges.slice(0, RANGES_SHOWN).map((range) => `${range.start}-${range.end - 1}`);
  const more = ranges.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more ${more === 1 ? 'range' : 'ranges'}` : ''}`;
}

/** One line per file of `verify` against a server, like the offline verify's: verdict, size, name, and why. */
export function serverVerifyLine(result: ServerVerifyResult, server: string, secure: boolean): string {
  // describeFailure's advice is about downloads; a local failure reads best as it is.
  const why = result.error && result.error.kind !== 'local-io' ? describeFailure(result.name, result.error, server, secure) : result.problem;
  const differs = result.blockSize === null ? "its sha256 differs from the server's" : `bytes ${rangesText(result.damaged)} differ from the server's`;
  const notRepaired = why === undefined ? '' : `; not repaired: ${why}`;
  const notes: Record<ServerVerifyResult['verdict'], string> = {
    ok: '',
    damaged: ` (${differs}${notRepaired})`,
    outdated: ` (changed on the server since it was fetched: ${differs}${notRepaired})`,
    repaired:
      result.blockSize === null || result.size === null
        ? ` (downloaded again: ${formatBytes(result.bytesReceived)})`
        : ` (${formatBytes(result.bytesReceived)} fetched again for bytes ${rangesText(result.damaged)})`,
    missing: why === undefined ? ' (the next get fetches it)' : ` (not repaired: ${why})`,
    unreadable: ` (${why})`,
    unchecked: ` (${why})`,
  };
  const size = result.expectedSize ?? result.size;
  return `${result.verdict.padEnd(12)} ${size === null ? ''.padStart(10) : formatBytes(size).padStart(10)}  ${result.name}${notes[result.verdict]}`;
}

/** 0 when every file is the server's (repaired ones included); else the class of what failed, 1 for files that differ. */
export function serverVerifyExitCode(results: readonly ServerVerifyResult[]): number {
  return batchExitCode(results.filter((r) => r.verdict !== 'ok' && r.verdict !== 'repaired').map((r) => (r.error ? exitCodeOf(r.error) : EXIT.failed)));
}
