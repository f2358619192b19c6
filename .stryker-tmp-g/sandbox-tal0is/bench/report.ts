// @ts-nocheck
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { median, type Run } from './measure.js';

export interface CaseResult {
  id: string;
  title: string;
  /** Our figure in the case's unit. */
  ours: number;
  theirs?: number;
  /** ours ÷ theirs, where a peer ran. */
  ratio?: number;
  extra: Record<string, number | undefined>;
  goal: string;
  met?: boolean;
  /** When the case ran: a partial run keeps the other cases of an earlier one. */
  date?: string;
}

/**
 * The cases of `earlier` that `latest` did not run, in their places, then
 * `latest`'s: a run of a few cases (BENCH_ONLY) updates the report instead
 * of replacing a full run's.
 */
function mergeResults(earlier: CaseResult[], latest: CaseResult[]): CaseResult[] {
  const byId = new Map(latest.map((r) => [r.id, r]));
  const merged = earlier.map((r) => byId.get(r.id) ?? r);
  const kept = new Set(earlier.map((r) => r.id));
  return [...merged, ...latest.filter((r) => !kept.has(r.id))];
}

async function earlierResults(file: string): Promise<CaseResult[]> {
  try {
    const { date, results } = JSON.parse(await readFile(file, 'utf8')) as { date: string; results: CaseResult[] };
    return results.map((r) => ({ ...r, date: r.date ?? date }));
  } catch {
    return [];
  }
}

export function comparison(
  id: string,
  title: string,
  pair: { ours: Run[]; theirs: Run[] },
  goal: number,
  extra: Record<string, number | undefined>,
): CaseResult {
  const ours = median(pair.ours.map((r) => r.seconds));
  const theirs = pair.theirs.length ? median(pair.theirs.map((r) => r.seconds)) : undefined;
  const ratio = theirs ? ours / theirs : undefined;
  // Noise on a shared machine only ever adds time: the best runs show the
  // cost itself, and their ratio moves less from run to run than the medians'.
  const oursBest = Math.min(...pair.ours.map((r) => r.seconds));
  const theirsBest = pair.theirs.length ? Math.min(...pair.theirs.map((r) => r.seconds)) : undefined;
  return {
    id,
    title,
    ours,
    theirs,
    ratio,
    extra: { ...extra, oursBest, theirsBest, bestRatio: theirsBest ? oursBest / theirsBest : undefined, oursRuns: pair.ours.length },
    goal: `ours ÷ theirs ≤ ${goal}`,
    met: ratio === undefined ? undefined : ratio <= goal,
  };
}

const fmt = (n: number | undefined, digits = 2) => (n === undefined ? '—' : n.toFixed(digits));

/** Writes the report; `partial` (a run of some cases only) merges them into the earlier report. */
export async function writeReport(dir: string, latest: CaseResult[], meta: { runs: number; machine: string; partial: boolean }): Promise<void> {
  await mkdir(dir, { recursive: true });
  const date = new Date().toISOString();
  const file = path.join(dir, 'results.json');
  const dated = latest.map((r) => ({ ...r, date }));
  const results = meta.partial ? mergeResults(await earlierResults(file), dated) : dated;
  await writeFile(file, `${JSON.stringify({ date, runs: meta.runs, machine: meta.machine, results }, null, 2)}\n`);
  const rows = results.map((r) => {
    const extra = Object.entries(r.extra)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ');
    const when = r.date === date ? '' : ` (${r.date?.slice(0, 10)})`;
    return `| ${r.id}${when} | ${r.title} | ${fmt(r.ours)} | ${fmt(r.theirs)} | ${fmt(r.ratio)} | ${r.goal} | ${r.met === undefined ? '—' : r.met ? 'met' : 'not met'} | ${extra} |`;
  });
  const markdown = [
    `Run ${date} on ${meta.machine}; medians of ${meta.runs} runs after a warm-up, ours and theirs alternating.${meta.partial ? ' Cases with a date in brackets are from an earlier run.' : ''}`,
    '',
    '| case | what | ours | theirs | ratio | goal | | details |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'results.md'), markdown);
  await writeFile(path.join(dir, 'ratios.svg'), chart(results.filter((r) => r.ratio !== undefined)));
  process.stdout.write(markdown);
}

/** A bar per compared case: ours ÷ theirs, with the parity line at 1. */
function chart(results: CaseResult[]): string {
  const width = 640;
  const barHeight = 28;
  const left = 260;
  const max = Math.max(2, ...results.map((r) => r.ratio!));
  const scale = (width - left - 60) / max;
  const height = results.length * (barHeight + 12) + 60;
  const bars = results
    .map((r, i) => {
      const y = 30 + i * (barHeight + 12);
      const w = r.ratio! * scale;
      return `<text x="${left - 8}" y="${y + 19}" text-anchor="end" font-size="12">${escape(`${r.id}. ${r.title.split(':')[0]}`)}</text>
<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${r.met ? '#3a7' : '#d64'}"/>
<text x="${(left + w + 6).toFixed(1)}" y="${y + 19}" font-size="12">${r.ratio!.toFixed(2)}</text>`;
    })
    .join('\n');
  const parity = left + scale;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<text x="10" y="18" font-size="14">ours ÷ peer (lower is better; line = parity)</text>
${bars}
<line x1="${parity}" y1="24" x2="${parity}" y2="${height - 20}" stroke="#333" stroke-dasharray="4 3"/>
</svg>
`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
