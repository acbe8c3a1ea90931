import { type EnvironmentConfig, type EnvironmentConfigInput, INLINE_SECRET_ENVIRONMENTS } from '../lambda/config/schema';
import { ConfigError, parseConfig, SCHEMA_FILE } from './config-file';

/**
 * Most sources one stack holds: each source adds about 25 resources and CloudFormation allows
 * 500 per stack, with room left for the shared ones (about 45 with a VPC).
 */
export const MAX_SOURCES = 16;

/** Environment names only valid for local mode; never synthesized. */
export const LOCAL_ONLY_ENVIRONMENTS: readonly string[] = INLINE_SECRET_ENVIRONMENTS;

/** Not an environment: `config/schema.json` is the JSON Schema of the config files. */
export const RESERVED_ENVIRONMENT = SCHEMA_FILE.slice(0, -'.json'.length);

const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,23}$/;

/** Thrown when a stack cannot be built from its config; lists every problem at once. */
export class HookgateStackError extends Error {
  constructor(
    readonly environment: string,
    readonly problems: readonly string[],
  ) {
    super(`hookgate stack for environment ${environment} cannot be built:\n  - ${problems.join('\n  - ')}`);
    this.name = 'HookgateStackError';
  }
}

/**
 * Validates what a deployable stack needs beyond a valid config file: the config's own checks
 * (rerun, so a stack never trusts its caller), plus deployment rules. Collects every problem,
 * then throws one {@link HookgateStackError}.
 * @returns the config with every default applied
 */
export function validateStackInput(environmentName: string, config: EnvironmentConfigInput): EnvironmentConfig {
  const problems: string[] = [];
  if (!ENVIRONMENT_NAME.test(environmentName)) {
    problems.push('environmentName must be lowercase letters, digits and -, starting with a letter, at most 24');
  }
  if (LOCAL_ONLY_ENVIRONMENTS.includes(environmentName)) {
    problems.push(`environment ${environmentName} is for local mode only and is never deployed`);
  }
  if (environmentName === RESERVED_ENVIRONMENT) {
    problems.push(`environment ${RESERVED_ENVIRONMENT} is reserved: config/${SCHEMA_FILE} is the JSON Schema of the config files`);
  }
  let parsed: EnvironmentConfig | undefined;
  try {
    parsed = parseConfig(config, environmentName);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  const sources = typeof config.sources === 'object' && config.sources !== null ? Object.entries(config.sources) : [];
  // The config refuses inline secrets of deployed environments itself; local-only names are
  // allowed them by the config, so they are checked here.
  const inlineAllowed = LOCAL_ONLY_ENVIRONMENTS.includes(environmentName);
  for (const [name, source] of sources) {
    if (inlineAllowed && source.secrets !== undefined) problems.push(`sources.${name}.secrets: a deployed stack never holds secret values; use secretName`);
    if (inlineAllowed && source.provider === 'meta' && source.verifyToken !== undefined) problems.push(`sources.${name}.verifyToken: a deployed stack keeps it in the secret named by secretName`);
    if (source.secretName === undefined) problems.push(`sources.${name}.secretName is required for a deployed stack`);
  }
  if (sources.length > MAX_SOURCES) {
    problems.push(`sources: at most ${MAX_SOURCES} per stack (CloudFormation's 500-resource limit); split them across environments`);
  }
  if (config.alarms?.email === undefined) {
    problems.push('alarms.email is required: alarms must reach on-call');
  }
  if (problems.length > 0 || parsed === undefined) throw new HookgateStackError(environmentName, [...new Set(problems)]);
  return parsed;
}
