const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * "16M" → 16 MiB, "512k" → 512 KiB, "1.5G", "100" (bytes); binary units as
 * curl's --limit-rate uses them, with an optional trailing "B" or "/s".
 */
export function parseByteSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?$/i.exec(text.trim());
  const value = match ? Math.floor(Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!) : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`invalid size ${JSON.stringify(text)}: use a positive number with an optional k, M or G suffix, e.g. 16M`);
  }
  return value;
}

/** "90s", "2m", "1h", "500ms"; a bare number is seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text.trim());
  const value = match ? Number(match[1]) * DURATION_UNITS[(match[2] ?? 's').toLowerCase()]! : NaN;
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`invalid duration ${JSON.stringify(text)}: use e.g. 500ms, 30s, 2m or 1h`);
  }
  return Math.round(value);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
