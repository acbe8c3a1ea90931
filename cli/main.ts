import { createInterface } from 'node:readline/promises';
import { parse, port as portOf } from '../local/args';
import type { Command, CommandContext, FlagSpec, Parsed } from './command';
import { auditListCommand } from './commands/audit';
import { attemptsCommand } from './commands/attempts';
import { eventsListCommand, eventsShowCommand } from './commands/events';
import { pauseCommand, resumeCommand } from './commands/destinations';
import { dlqListCommand, dlqRedriveCommand, dlqShowCommand } from './commands/dlq';
import { replayCommand } from './commands/replay';
import { statusCommand } from './commands/status';
import { failureOf, UsageError } from './errors';
import { type Io, processIo } from './output';
import type { Target } from './target';
import { awsTarget, stackNameOf } from './targets/aws';
import { localTarget, readLocalState } from './targets/local';

/**
 * The `hookgate` command: `hookgate <subcommand> [flags]` (bin/hookgate-cli.ts). Exit codes: 0
 * done (an empty result says so), 1 a runtime failure, 2 a usage error; a failure is one line
 * on stderr, never a stack trace.
 */

/** Every subcommand, in `--help` order. */
export const COMMANDS: readonly Command[] = [statusCommand, eventsListCommand, eventsShowCommand, attemptsCommand, dlqListCommand, dlqShowCommand, dlqRedriveCommand, replayCommand, pauseCommand, resumeCommand, auditListCommand];

/** Flags every subcommand takes: where it runs and how it prints. */
export const GLOBAL_FLAGS: FlagSpec = {
  local: { type: 'boolean' },
  port: { type: 'string' },
  env: { type: 'string' },
  stack: { type: 'string' },
  profile: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
};

const DEFAULT_LOCAL_PORT = 3000;

/** What {@link runCli} uses from the outside world (tests replace parts). */
export interface CliDeps {
  readonly io?: Io;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Where `--local` looks for `.hookgate/`. @default the working directory */
  readonly cwd?: string;
  /** Builds the target from the global flags. @default local state file or CloudFormation outputs */
  readonly resolveTarget?: (flags: Parsed['values'], cwd: string) => Promise<Target>;
  /** Answers yes/no questions. @default the terminal, when stdin is one */
  readonly confirm?: (question: string) => Promise<boolean>;
  /** Whether `confirm` can ask anyone. @default true when `confirm` is given, else whether stdin is a terminal */
  readonly interactive?: boolean;
  /** Stands for the user's interrupt during an interruptible command. @default SIGINT */
  readonly signal?: AbortSignal;
  /** The subcommands. @default COMMANDS */
  readonly commands?: readonly Command[];
}

/** The usage text of every subcommand. */
export function helpText(commands: readonly Command[] = COMMANDS): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  return [
    'usage: hookgate <command> (--local [--port 3000] | --env <name> | --stack <name>) [--profile P] [--region R] [--json]',
    '',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'hookgate <command> --help shows its flags.',
    '',
  ].join('\n');
}

/** The subcommand the words name, and the arguments after them; a UsageError when none. */
export function findCommand(args: readonly string[], commands: readonly Command[]): { command: Command; rest: string[] } {
  const words = args.slice(0, 2);
  const command = commands.find((c) => c.path.length <= words.length && c.path.every((w, i) => words[i] === w));
  if (command === undefined) {
    const given = words.filter((w) => !w.startsWith('-')).join(' ');
    const groups = commands.filter((c) => c.path[0] === words[0] && c.path.length > 1).map((c) => c.path[1]);
    const hint = groups.length > 0 ? `; ${words[0]} takes ${groups.join('|')}` : '; hookgate --help lists the commands';
    throw new UsageError(`unknown command ${JSON.stringify(given || args[0] || '')}${hint}`);
  }
  return { command, rest: args.slice(command.path.length) };
}

/** The target the global flags choose: exactly one of --local, --env, --stack. */
export async function defaultTarget(flags: Parsed['values'], cwd: string): Promise<Target> {
  const { local, env, stack, port, profile, region } = flags as Record<string, string | boolean | undefined>;
  const chosen = [local === true, typeof env === 'string', typeof stack === 'string'].filter(Boolean).length;
  if (chosen !== 1) throw new UsageError('choose where to run: --local [--port N], --env <name> or --stack <name> (exactly one)');
  if (port !== undefined && local !== true) throw new UsageError('--port applies only with --local');
  if (local === true) {
    if (profile !== undefined || region !== undefined) throw new UsageError('--profile and --region apply only to a deployed environment');
    return localTarget(await readLocalState(port === undefined ? DEFAULT_LOCAL_PORT : portOf(port as string), cwd));
  }
  return awsTarget({
    stackName: typeof stack === 'string' ? stack : stackNameOf(env as string),
    ...(typeof profile === 'string' ? { profile } : {}),
    ...(typeof region === 'string' ? { region } : {}),
  });
}

async function terminalConfirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Runs `work` with a signal aborted by the first SIGINT meanwhile (a second one ends the process as usual). */
async function onInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  process.once('SIGINT', abort);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', abort);
  }
}

/** Runs `hookgate <args>`; resolves to the exit code (it never throws). */
export async function runCli(args: readonly string[], deps: CliDeps = {}): Promise<number> {
  const io = deps.io ?? processIo;
  const commands = deps.commands ?? COMMANDS;
  let target: Target | undefined;
  try {
    if (args.length === 0 || args[0] === '--help' || args[0] === 'help') {
      (args.length === 0 ? io.err : io.out)(helpText(commands));
      return args.length === 0 ? 2 : 0;
    }
    const { command, rest } = findCommand(args, commands);
    const parsed = parse(rest, { ...GLOBAL_FLAGS, ...command.flags }, command.positionals);
    if (parsed.values.help === true) {
      io.out(`usage: hookgate ${command.usage} (--local [--port N] | --env <name> | --stack <name>) [--json]\n  ${command.summary}\n`);
      return 0;
    }
    const cwd = deps.cwd ?? process.cwd();
    const resolveTarget = deps.resolveTarget ?? defaultTarget;
    let pending: Promise<Target> | undefined;
    const ctx: CommandContext = {
      io,
      json: parsed.values.json === true,
      now: deps.now ?? (() => new Date()),
      sleep: deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      target: () =>
        (pending ??= resolveTarget(parsed.values, cwd).then((t) => {
          target = t;
          return t;
        })),
      confirm: deps.confirm ?? terminalConfirm,
      interactive: deps.interactive ?? (deps.confirm !== undefined || process.stdin.isTTY === true),
      interruptible: deps.signal === undefined ? onInterrupt : (work) => work(deps.signal as AbortSignal),
    };
    await command.run(parsed, ctx);
    return 0;
  } catch (err) {
    const failure = failureOf(err);
    io.err(`hookgate: ${failure.message}\n`);
    return failure.code;
  } finally {
    target?.close();
  }
}
