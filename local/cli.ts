import type { EnvironmentConfig } from '../lambda/config/schema';
import { ConfigError, loadConfig } from '../lib/config-file';
import { parse, port, UsageError } from './args';

// The flag parsing lives in ./args (the shipped `hookgate` command uses it too); its error is
// re-exported for the local-mode scripts.
export { UsageError };

/** Options of `npm start`. */
export interface StartOptions {
  readonly config: string;
  readonly port: number;
  readonly sink?: string;
}

/** Options of `npm run send`. */
export interface SendOptions {
  readonly source: string;
  readonly config: string;
  readonly url: string;
  readonly file?: string;
}

export const DEFAULT_CONFIG = 'config/local.json';
export const DEFAULT_PORT = 3000;

/** Parses `npm start -- [--config F] [--port N] [--sink FILE]`. */
export function parseStartArgs(args: readonly string[]): StartOptions {
  const { values } = parse(args, { config: { type: 'string' }, port: { type: 'string' }, sink: { type: 'string' } }, false);
  const sink = values.sink as string | undefined;
  return {
    config: (values.config as string | undefined) ?? DEFAULT_CONFIG,
    port: values.port === undefined ? DEFAULT_PORT : port(values.port as string),
    ...(sink !== undefined ? { sink } : {}),
  };
}

/** Parses `npm run send -- <source> [--file F] [--config F] [--url U]`. */
export function parseSendArgs(args: readonly string[]): SendOptions {
  const { values, positionals } = parse(args, { file: { type: 'string' }, config: { type: 'string' }, url: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new UsageError('usage: npm run send -- <source> [--file body.json] [--config config/local.json] [--url http://127.0.0.1:3000]');
  const url = (values.url as string | undefined) ?? `http://127.0.0.1:${DEFAULT_PORT}`;
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url must be an absolute URL such as http://127.0.0.1:3000, not ${JSON.stringify(url)}`);
  }
  const file = values.file as string | undefined;
  return {
    source: positionals[0] as string,
    config: (values.config as string | undefined) ?? DEFAULT_CONFIG,
    url,
    ...(file !== undefined ? { file } : {}),
  };
}

/** Loads and validates a local config; problems become one UsageError naming each field. */
export function loadLocalConfig(path: string): EnvironmentConfig {
  try {
    return loadConfig(path, 'local');
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`${path} is invalid:\n  - ${err.problems.join('\n  - ')}`);
    throw err;
  }
}

/**
 * Runs a command's main: a UsageError prints its message and exits 1; anything else prints its
 * name and message (never a stack, never a payload: our errors carry none) and exits 1.
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const message = err instanceof UsageError ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    process.stderr.write(`${message}\n`);
    process.exit(1);
  });
}
