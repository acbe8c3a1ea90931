/**
 * What a command prints: a table for people by default, JSON for scripts with `--json`. Both go
 * to stdout; errors go to stderr (cli/main.ts).
 */

/** Where a command writes. */
export interface Io {
  /** One chunk of stdout (the caller adds newlines). */
  out(text: string): void;
  /** One chunk of stderr (progress, notes that are not the result). */
  err(text: string): void;
  /** Bytes to stdout exactly as given (a body). @default out() of their UTF-8 text */
  bytes?(chunk: Uint8Array): void;
  /** Whether stderr is a terminal, so progress may be redrawn in place with `\r`. @default false */
  readonly isTTY?: boolean;
}

/** The process's own streams. */
export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  bytes: (chunk) => void process.stdout.write(chunk),
  get isTTY() {
    return process.stderr.isTTY === true;
  },
};

/** One cell: absent values print as `-`. */
export type Cell = string | number | boolean | undefined;

/** A left-aligned text table with a header row; columns as wide as their widest cell. */
export function table(columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => columns.map((_, i) => cellText(row[i])));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((row) => (row[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...text.map(line)].join('\n') + '\n';
}

function cellText(value: Cell): string {
  return value === undefined || value === '' ? '-' : String(value);
}

/** Prints a result: JSON (two-space indented, one document) or the table/text `human` makes. */
export function print(io: Io, json: boolean, value: unknown, human: () => string): void {
  io.out(json ? `${JSON.stringify(value, null, 2)}\n` : human());
}
