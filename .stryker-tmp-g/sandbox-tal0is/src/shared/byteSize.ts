// @ts-nocheck
const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

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
