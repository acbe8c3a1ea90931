import type { parseArgs } from 'node:util';
import type { Io } from './output';
import type { Target } from './target';

/**
 * One subcommand of `hookgate`: its words, its own flags, and what it does. cli/commands/*.ts
 * each export one or more; cli/main.ts lists them in COMMANDS, parses the global flags
 * (`--local`, `--port`, `--env`, `--stack`, `--profile`, `--region`, `--json`) with the
 * command's own, and turns what `run` throws into one stderr line and an exit code
 * (cli/errors.ts). Adding a subcommand is one file and one line in COMMANDS.
 */

/** A flag definition, as node:util parseArgs takes it. */
export type FlagSpec = Record<string, { readonly type: 'string' | 'boolean'; readonly multiple?: boolean }>;

/** What parseArgs gave: flag values and positionals. */
export type Parsed = Pick<ReturnType<typeof parseArgs>, 'values' | 'positionals'>;

/** What a running command may use. */
export interface CommandContext {
  /** Where it prints. */
  readonly io: Io;
  /** `--json`: print one JSON document instead of tables. */
  readonly json: boolean;
  /** The current time (injectable for tests). */
  now(): Date;
  /** Waits (redrive progress polling; injectable for tests). */
  sleep(ms: number): Promise<void>;
  /** The target environment, resolved on first call from the global flags (a UsageError when none was chosen). */
  target(): Promise<Target>;
  /** Asks a yes/no question on the terminal (a time-range replay); false when stdin is not a terminal. */
  confirm(question: string): Promise<boolean>;
  /** Whether confirm() can ask anyone: stdin is a terminal (or a test answers). */
  readonly interactive: boolean;
  /**
   * Runs `work` with a signal aborted when the user interrupts (SIGINT) meanwhile, so it can stop
   * cleanly and report (a replay); a second interrupt ends the process as usual.
   */
  interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

/** One subcommand. */
export interface Command {
  /** Its words after `hookgate`: `['status']`, `['destinations', 'pause']`. */
  readonly path: readonly string[];
  /** One line for `hookgate --help`. */
  readonly summary: string;
  /** Its synopsis, without the global flags: `destinations pause <source>/<destination> --reason <text>`. */
  readonly usage: string;
  /** Its own flags (the global ones are added). */
  readonly flags: FlagSpec;
  /** Whether it takes positionals (else any is a usage error). */
  readonly positionals: boolean;
  /** Does the work; throws UsageError (exit 2) or anything else (exit 1). */
  run(parsed: Parsed, ctx: CommandContext): Promise<void>;
}

/** A string flag's value, if given. */
export function stringFlag(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}
