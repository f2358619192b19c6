export type Order = 'fifo' | 'lifo' | 'priority';
export const ORDERS: readonly Order[] = ['fifo', 'lifo', 'priority'];
export const DEFAULT_CONCURRENCY = 5;

export interface BatchItem {
  name: string;
  /** Higher runs first with --order priority; ties keep list order. */
  priority?: number;
}

/**
 * The queue priority of the item at `index` (p-queue runs higher first and
 * keeps insertion order among equals, which gives FIFO for free).
 */
export function queuePriority(order: Order, item: BatchItem, index: number): number {
  switch (order) {
    case 'fifo':
      return 0;
    case 'lifo':
      return index;
    case 'priority':
      return item.priority ?? 0;
  }
}

/**
 * Reads a --from list: one name a line, optionally followed by whitespace
 * and an integer priority; blank lines and lines starting with '#' are
 * skipped. A name that itself ends in whitespace and digits needs a
 * priority after it.
 */
export function parseList(text: string): BatchItem[] {
  const items: BatchItem[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    // `s`: a name may hold a carriage return or a line separator, which `.`
    // alone would not cross, silently dropping the priority after it.
    const match = /^(.*\S)\s+(-?\d+)$/s.exec(line);
    items.push(match ? { name: match[1]!, priority: Number(match[2]) } : { name: line });
  }
  return items;
}
