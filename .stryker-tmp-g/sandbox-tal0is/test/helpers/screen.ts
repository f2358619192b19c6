// @ts-nocheck
import { spawn } from 'node:child_process';
import { bounded, CLIENT_BIN, type Watched } from './processes.js';

/**
 * What a terminal shows after `output`: a minimal emulator of the control
 * sequences cli-progress and Node's readline emit (\r, \n, cursor moves,
 * erase in line and display, auto-wrap on/off). Rows never scroll away, so
 * the whole history stays readable; `columns` is the screen's width.
 */
export function renderScreen(output: string, columns: number): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  let autowrap = true;
  let saved = { row: 0, col: 0 };
  const line = () => (rows[row] ??= []);
  const put = (char: string) => {
    if (col >= columns) {
      if (autowrap) {
        row += 1;
        col = 0;
      } else col = columns - 1;
    }
    const cells = line();
    while (cells.length < col) cells.push(' ');
    cells[col] = char;
    col += 1;
  };
  const chars = [...output];
  for (let i = 0; i < chars.length; i += 1) {
    const char = chars[i]!;
    if (char === '\r') col = 0;
    else if (char === '\n') row += 1;
    else if (char === '\b') col = Math.max(0, col - 1);
    else if (char === '\x1b') {
      const next = chars[i + 1];
      if (next === '7') saved = { row, col };
      if (next === '8') ({ row, col } = saved);
      if (next !== '[') {
        i += 1;
        continue;
      }
      let j = i + 2;
      let params = '';
      while (j < chars.length && !/[@-~]/.test(chars[j]!)) params += chars[j++];
      const final = chars[j];
      i = j;
      const n = Number(params.replace('?', '').split(';')[0] || '0');
      const count = Math.max(1, n);
      if (final === 'A') row = Math.max(0, row - count);
      else if (final === 'B') row += count;
      else if (final === 'C') col = Math.min(columns - 1, col + count);
      else if (final === 'D') col = Math.max(0, col - count);
      else if (final === 'G') col = Math.min(columns - 1, count - 1);
      else if (final === 'K') {
        const cells = line();
        if (n === 0) cells.splice(col);
        else if (n === 1) cells.fill(' ', 0, Math.min(col + 1, cells.length));
        else cells.length = 0;
      } else if (final === 'J' && n === 0) {
        line().splice(col);
        rows.splice(row + 1);
      } else if ((final === 'h' || final === 'l') && params === '?7') autowrap = final === 'h';
    } else if (char >= ' ') put(char);
  }
  return Array.from(rows, (cells) => (cells ?? []).join(''));
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the real CLI with stdout and stderr on one pseudo-terminal of
 * `columns` columns (util-linux `script`), as a person at a terminal would,
 * or with stdout through a pipe to that terminal; resolves with everything
 * the terminal received.
 */
export function runInTerminal(
  args: string[],
  options: { cwd: string; columns: number; stdoutThroughPipe?: boolean },
): Promise<{ code: number | null; output: string }> {
  const client = [process.execPath, CLIENT_BIN, ...args].map(quote).join(' ');
  // `| cat` is `| tee`: stdout reaches the same screen through a pipe.
  const command = `stty cols ${options.columns} rows 24; export COLUMNS=${options.columns}; ${options.stdoutThroughPipe ? `${client} | cat` : `exec ${client}`}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.on('close', (code) => resolve({ code, output })));
  const watched: Watched = {
    ended: new Promise(() => undefined),
    describe: () => `grpc-client ${args[0]} in a terminal; output so far:\n${output.slice(-2000)}`,
  };
  return bounded(`grpc-client ${args[0]} in a terminal to finish`, done, [watched]).finally(() => child.kill('SIGKILL'));
}
