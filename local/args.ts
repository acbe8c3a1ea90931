import { parseArgs } from 'node:util';

/**
 * Flag parsing shared by the local-mode scripts (`npm start`, `npm run send`, ...) and the
 * `hookgate` command. It imports nothing but node: the command ships in the npm package with it
 * (package.json `files`), so it must load where no devDependency is installed.
 */

/**
 * A mistake in how a command was called or configured: printed as is, never with a stack. The
 * local-mode scripts exit 1 on it, the `hookgate` command 2 (cli/errors.ts).
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses a command's flags strictly; a mistake becomes a UsageError naming the flag. */
export function parse(args: readonly string[], options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>, positionals: boolean): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: positionals });
  } catch (err) {
    // parseArgs messages name the flag ("Unknown option '--prot'"); no stack needed.
    throw new UsageError((err as Error).message);
  }
}

/** A `--port` value: 0 to 65535. */
export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new UsageError(`--port must be a port number from 0 to 65535 (0 picks a free one), not ${JSON.stringify(value)}`);
  return n;
}
