import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import {
  type EnvironmentConfig,
  type NamedSource,
  PROVIDERS,
  type ProviderName,
  type SourceConfig,
} from './types';

/** Thrown when a config file is invalid; lists every problem found, each naming its field. */
export class ConfigError extends Error {
  constructor(
    readonly environment: string,
    readonly problems: readonly string[],
  ) {
    super(`config/${environment}.json is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const SOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const WHSEC = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

type Problems = string[];
type Obj = Record<string, unknown>;

const isObject = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function positiveInt(problems: Problems, where: string, value: unknown, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    problems.push(`${where} must be a whole number from 1 to ${max}`);
  }
}

function nonEmptyString(problems: Problems, where: string, value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0) {
    problems.push(`${where} must be a non-empty string`);
    return false;
  }
  return true;
}

function validCidr(value: string): boolean {
  const [ip, bits, ...rest] = value.split('/');
  if (rest.length > 0 || ip === undefined || bits === undefined || !/^\d+$/.test(bits)) return false;
  if (isIPv4(ip)) return Number(bits) <= 32;
  if (isIPv6(ip)) return Number(bits) <= 128;
  return false;
}

const KNOWN_SOURCE_FIELDS = new Set<string>([
  'provider', 'secrets', 'secretName', 'toleranceSeconds', 'maxBodyBytes', 'publicUrl',
  'verifyToken', 'hmac', 'header', 'query', 'bodyField', 'maxReceiveCount', 'batchSize',
  'maxConcurrency', 'processorTimeoutSeconds', 'allowedIps', 'signatureFailureThreshold',
]);

function validateSource(problems: Problems, name: string, raw: unknown, local: boolean): void {
  const at = `sources.${name}`;
  if (!SOURCE_NAME.test(name)) {
    problems.push(`${at}: the source name is its URL path segment: lowercase letters, digits and '-', at most 63`);
  }
  if (!isObject(raw)) {
    problems.push(`${at} must be an object`);
    return;
  }
  for (const key of Object.keys(raw)) {
    if (!KNOWN_SOURCE_FIELDS.has(key)) problems.push(`${at}.${key} is not a known field`);
  }
  const provider = raw.provider;
  if (typeof provider !== 'string' || !(PROVIDERS as readonly string[]).includes(provider)) {
    problems.push(`${at}.provider must be one of ${PROVIDERS.join(', ')}`);
  }
  const secrets = raw.secrets;
  const secretName = raw.secretName;
  if (secrets !== undefined && secretName !== undefined) {
    problems.push(`${at}: give either secrets or secretName, not both`);
  }
  if (secrets === undefined && secretName === undefined) {
    problems.push(`${at}.secrets must list at least one secret (or name a Secrets Manager secret in secretName)`);
  }
  if (secrets !== undefined) {
    if (!local) {
      problems.push(`${at}.secrets: deployed environments must not hold secret values; use secretName`);
    }
    if (!Array.isArray(secrets) || secrets.length === 0) {
      problems.push(`${at}.secrets must be a non-empty list of strings`);
    } else {
      secrets.forEach((secret, i) => {
        if (typeof secret !== 'string' || secret.length === 0) {
          problems.push(`${at}.secrets[${i}] must be a non-empty string`);
        } else if (provider === 'standard' && !WHSEC.test(secret)) {
          problems.push(`${at}.secrets[${i}] must be a whsec_ prefixed base64 secret for provider standard`);
        }
      });
    }
  }
  if (secretName !== undefined) nonEmptyString(problems, `${at}.secretName`, secretName);
  if (raw.verifyToken !== undefined) {
    if (!local) problems.push(`${at}.verifyToken: deployed environments keep it in the secret named by secretName`);
    nonEmptyString(problems, `${at}.verifyToken`, raw.verifyToken);
  }
  if (raw.verifyToken !== undefined && provider !== 'meta') {
    problems.push(`${at}.verifyToken only applies to provider meta`);
  }
  positiveInt(problems, `${at}.toleranceSeconds`, raw.toleranceSeconds, 86_400);
  positiveInt(problems, `${at}.maxBodyBytes`, raw.maxBodyBytes, 10 * 1024 * 1024);
  positiveInt(problems, `${at}.maxReceiveCount`, raw.maxReceiveCount, 1000);
  positiveInt(problems, `${at}.batchSize`, raw.batchSize, 10);
  positiveInt(problems, `${at}.processorTimeoutSeconds`, raw.processorTimeoutSeconds, 900);
  positiveInt(problems, `${at}.signatureFailureThreshold`, raw.signatureFailureThreshold);
  if (raw.maxConcurrency !== undefined) {
    const c = raw.maxConcurrency;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 2 || c > 1000) {
      problems.push(`${at}.maxConcurrency must be a whole number from 2 to 1000 (Lambda's SQS limit)`);
    }
  }
  if (raw.publicUrl !== undefined) {
    let ok = false;
    if (typeof raw.publicUrl === 'string') {
      try {
        const url = new URL(raw.publicUrl);
        ok = url.protocol === 'https:' || url.protocol === 'http:';
      } catch {
        ok = false;
      }
    }
    if (!ok) problems.push(`${at}.publicUrl must be an absolute http(s) URL`);
  }
  if (raw.allowedIps !== undefined) {
    if (!Array.isArray(raw.allowedIps) || raw.allowedIps.length === 0) {
      problems.push(`${at}.allowedIps must be a non-empty list of CIDRs`);
    } else {
      raw.allowedIps.forEach((cidr, i) => {
        if (typeof cidr !== 'string' || !validCidr(cidr)) {
          problems.push(`${at}.allowedIps[${i}] must be a CIDR such as 192.0.2.0/24`);
        }
      });
    }
  }
  validateProviderOptions(problems, at, provider as ProviderName, raw);
}

function validateProviderOptions(problems: Problems, at: string, provider: ProviderName, raw: Obj): void {
  const locations = (['header', 'query', 'bodyField'] as const).filter((k) => raw[k] !== undefined);
  if (provider === 'token') {
    if (locations.length !== 1) {
      problems.push(`${at}: a token source needs exactly one token location: header, query or bodyField`);
    }
    if (raw.header !== undefined && (typeof raw.header !== 'string' || !HEADER_NAME.test(raw.header))) {
      problems.push(`${at}.header must be an HTTP header name`);
    }
    for (const k of ['query', 'bodyField'] as const) {
      if (raw[k] !== undefined) nonEmptyString(problems, `${at}.${k}`, raw[k]);
    }
  } else if (locations.length > 0) {
    problems.push(`${at}.${locations[0]} only applies to provider token`);
  }
  if (provider === 'hmac') {
    const hmac = raw.hmac;
    if (!isObject(hmac)) {
      problems.push(`${at}.hmac must be an object with at least a header`);
      return;
    }
    if (typeof hmac.header !== 'string' || !HEADER_NAME.test(hmac.header)) {
      problems.push(`${at}.hmac.header must be an HTTP header name`);
    }
    if (hmac.algorithm !== undefined && !['sha1', 'sha256', 'sha512'].includes(hmac.algorithm as string)) {
      problems.push(`${at}.hmac.algorithm must be sha1, sha256 or sha512`);
    }
    if (hmac.encoding !== undefined && !['hex', 'base64'].includes(hmac.encoding as string)) {
      problems.push(`${at}.hmac.encoding must be hex or base64`);
    }
    if (hmac.prefix !== undefined && typeof hmac.prefix !== 'string') {
      problems.push(`${at}.hmac.prefix must be a string`);
    }
    for (const k of ['timestampHeader', 'idHeader'] as const) {
      if (hmac[k] !== undefined && (typeof hmac[k] !== 'string' || !HEADER_NAME.test(hmac[k] as string))) {
        problems.push(`${at}.hmac.${k} must be an HTTP header name`);
      }
    }
    if (hmac.template !== undefined) {
      if (typeof hmac.template !== 'string' || !hmac.template.includes('{body}')) {
        problems.push(`${at}.hmac.template must be a string containing {body}`);
      } else if (hmac.template.includes('{timestamp}') && hmac.timestampHeader === undefined) {
        problems.push(`${at}.hmac.template uses {timestamp} but hmac.timestampHeader is not set`);
      }
    }
  } else if (raw.hmac !== undefined) {
    problems.push(`${at}.hmac only applies to provider hmac`);
  }
}

const KNOWN_TOP_FIELDS = new Set<string>([
  'sources', 'account', 'region', 'rateLimit', 'throttling', 'alarms', 'dedupeTtlDays',
  'logRetentionDays', 'vpc', 'retain', '$schema', 'description',
]);

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/**
 * Validates a parsed config file. Collects every problem, then throws one ConfigError.
 * @param environment the environment's name (`local`, `dev`, `prod`...): named in errors;
 *   only `local` may hold secret values inline.
 */
export function validateConfig(raw: unknown, environment: string): EnvironmentConfig {
  const problems: Problems = [];
  const local = environment === 'local' || environment === 'test';
  if (!isObject(raw)) throw new ConfigError(environment, ['the file must hold a JSON object']);
  for (const key of Object.keys(raw)) {
    if (!KNOWN_TOP_FIELDS.has(key)) problems.push(`${key} is not a known field`);
  }
  if (!isObject(raw.sources) || Object.keys(raw.sources).length === 0) {
    problems.push('sources must be an object with at least one source');
  } else {
    for (const [name, source] of Object.entries(raw.sources)) validateSource(problems, name, source, local);
  }
  if (raw.rateLimit !== undefined) {
    if (!isObject(raw.rateLimit)) problems.push('rateLimit must be an object');
    else {
      const { limit, windowSeconds } = raw.rateLimit;
      if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 10 || limit > 2_000_000_000)) {
        problems.push('rateLimit.limit must be a whole number from 10 to 2000000000 (WAF rate-based rule)');
      }
      if (windowSeconds !== undefined && ![60, 120, 300, 600].includes(windowSeconds as number)) {
        problems.push('rateLimit.windowSeconds must be 60, 120, 300 or 600');
      }
    }
  }
  if (raw.throttling !== undefined) {
    if (!isObject(raw.throttling)) problems.push('throttling must be an object');
    else {
      positiveInt(problems, 'throttling.rateLimit', raw.throttling.rateLimit, 10_000);
      positiveInt(problems, 'throttling.burstLimit', raw.throttling.burstLimit, 5_000);
    }
  }
  if (raw.alarms !== undefined) {
    if (!isObject(raw.alarms)) problems.push('alarms must be an object');
    else {
      const a = raw.alarms;
      if (a.email !== undefined && (typeof a.email !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(a.email))) {
        problems.push('alarms.email must be an email address');
      }
      for (const k of ['queueAgeSeconds', 'apiLatencyP99Ms', 'api5xxCount', 'wafBlockedCount', 'functionErrorCount']) {
        positiveInt(problems, `alarms.${k}`, a[k]);
      }
    }
  }
  positiveInt(problems, 'dedupeTtlDays', raw.dedupeTtlDays, 365);
  if (raw.logRetentionDays !== undefined && !LOG_RETENTION_DAYS.includes(raw.logRetentionDays as number)) {
    problems.push(`logRetentionDays must be one of CloudWatch's periods: ${LOG_RETENTION_DAYS.join(', ')}`);
  }
  for (const k of ['vpc', 'retain']) {
    if (raw[k] !== undefined && typeof raw[k] !== 'boolean') problems.push(`${k} must be true or false`);
  }
  for (const k of ['account', 'region']) {
    if (raw[k] !== undefined) nonEmptyString(problems, k, raw[k]);
  }
  if (problems.length > 0) throw new ConfigError(environment, problems);
  return raw as unknown as EnvironmentConfig;
}

/** Reads and validates `config/<environment>.json` (or the given path). */
export function loadConfig(path: string, environment: string): EnvironmentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(environment, [`cannot read ${path}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(environment, [`${path} is not valid JSON (${(err as Error).message})`]);
  }
  return validateConfig(raw, environment);
}

/** The sources of a config with their names attached. */
export function namedSources(config: EnvironmentConfig): NamedSource[] {
  return Object.entries(config.sources).map(([name, source]: [string, SourceConfig]) => ({ ...source, name }));
}
