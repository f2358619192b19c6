// @ts-nocheck
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
 * skipped. A name that would not read back as itself that way (one that
 * ends in whitespace and digits, has spaces at either end, starts with '#'
 * or '"', or holds a line break) is written as a JSON string, as `ls -1`
 * prints it.
 */
export function parseList(text: string): BatchItem[] {
  const items: BatchItem[] = [];
  // Split on \n only: a quoted name may hold any other line break.
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const quoted = /^("(?:[^"\\]|\\.)*")(?:\s+(-?\d+))?$/s.exec(line);
    if (quoted) {
      items.push(withPriority(JSON.parse(quoted[1]!) as string, quoted[2]));
      continue;
    }
    // `s`: a name may hold a carriage return or a line separator, which `.`
    // alone would not cross, silently dropping the priority after it.
    const match = /^(.*\S)\s+(-?\d+)$/s.exec(line);
    items.push(match ? withPriority(match[1]!, match[2]) : { name: line });
  }
  return items;
}

const withPriority = (name: string, priority: string | undefined): BatchItem => (priority === undefined ? { name } : { name, priority: Number(priority) });

/** `name` as a line of a --from list: as it is when parseList reads it back so, else as a JSON string. */
export function listLineOf(name: string): string {
  const plain = name !== '' && name === name.trim() && !/^[#"]/.test(name) && !/\s-?\d+$/.test(name) && !/[\r\n\u2028\u2029]/.test(name);
  return plain ? name : JSON.stringify(name);
}
