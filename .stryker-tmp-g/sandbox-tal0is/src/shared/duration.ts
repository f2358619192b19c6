// @ts-nocheck
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90s", "2m", "1h", "500ms"; a bare number is seconds. Both CLIs take durations this way. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text.trim());
  const value = match ? Number(match[1]) * DURATION_UNITS[(match[2] ?? 's').toLowerCase()]! : NaN;
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`invalid duration ${JSON.stringify(text)}: use e.g. 500ms, 30s, 2m or 1h`);
  }
  return Math.round(value);
}
