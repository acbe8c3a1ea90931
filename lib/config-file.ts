import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as z from 'zod/mini';
import { configSchema, configSchemaFor, type EnvironmentConfig, PROVIDER_FIELDS } from '../lambda/config/schema';

/**
 * Config files on disk: reading `config/<env>.json`, turning schema issues into problems that
 * name the field, listing the environments of a folder, and the JSON Schema editors read.
 */

/** The JSON Schema of the config files, beside them; never an environment. */
export const SCHEMA_FILE = 'schema.json';

/** Thrown when a config is invalid; lists every problem found, each naming its field. */
export class ConfigError extends Error {
  constructor(
    readonly environment: string,
    readonly problems: readonly string[],
    /** The file the config came from. */
    readonly file = `config/${environment}.json`,
  ) {
    super(`${file} is invalid (environment ${environment}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** `sources.a.secrets[0]`: keys joined with dots, list indexes in brackets. */
function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out.length === 0 ? String(key) : `.${String(key)}`;
  return out;
}

/** Messages written to follow their path ("must be ...") get a space, others a colon. */
const PREDICATE = /^(must|is|only|uses) /;

function problem(path: readonly PropertyKey[], message: string): string {
  if (path.length === 0) return message;
  return PREDICATE.test(message) ? `${pathText(path)} ${message}` : `${pathText(path)}: ${message}`;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'must be a string',
  number: 'must be a number',
  int: 'must be a whole number',
  boolean: 'must be true or false',
  array: 'must be a list',
  object: 'must be an object',
  record: 'must be an object',
};

/** Messages for issues whose schema gives none (the schema's own messages take precedence). */
function fallbackMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'invalid_type') return undefined;
  if (issue.input === undefined) return 'is required';
  return EXPECTED[issue.expected] ?? `must be ${issue.expected}`;
}

/** One problem per issue, and one per unknown field. */
function problemsOf(issues: readonly z.core.$ZodIssue[]): string[] {
  const problems: string[] = [];
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') {
      problems.push(problem(issue.path, issue.message));
      continue;
    }
    // A field of another provider says which one it belongs to.
    const inSource = issue.path.length === 2 && issue.path[0] === 'sources';
    for (const key of issue.keys) {
      const owner = inSource ? PROVIDER_FIELDS.get(key) : undefined;
      problems.push(problem([...issue.path, key], owner === undefined ? 'is not a known field' : `only applies to provider ${owner}`));
    }
  }
  return [...new Set(problems)];
}

/**
 * Validates a parsed config file and applies its defaults. Collects every problem, then throws
 * one ConfigError.
 * @param environment the environment's name (`local`, `dev`, `prod`...): named in errors; only
 *   local and test environments may hold secret values inline.
 */
export function parseConfig(raw: unknown, environment: string, file?: string): EnvironmentConfig {
  const result = configSchemaFor(environment).safeParse(raw, { error: fallbackMessage });
  if (!result.success) throw new ConfigError(environment, problemsOf(result.error.issues), file);
  return result.data;
}

/** Reads, validates and completes `config/<environment>.json` (or the given path). */
export function loadConfig(path: string, environment: string): EnvironmentConfig {
  if (basename(path) === SCHEMA_FILE) {
    throw new ConfigError(environment, [`${path} is the JSON Schema of the config files, not an environment`], path);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(environment, [`cannot read ${path}`], path);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(environment, [`${path} is not valid JSON (${err instanceof Error ? err.message : String(err)})`], path);
  }
  return parseConfig(raw, environment, path);
}

/** The environments of a config folder: every `<env>.json` except the JSON Schema. */
export function environmentsIn(configDir: string): string[] {
  return readdirSync(configDir)
    .filter((file) => file.endsWith('.json') && file !== SCHEMA_FILE)
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

/**
 * The JSON Schema of what a config file may say (`config/schema.json`, written by `npm run schema`):
 * fields with defaults are optional there and show their default.
 */
export function configJsonSchemaText(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify({ ...schema, title: 'hookgate environment config (config/<env>.json)' }, null, 2)}\n`;
}
