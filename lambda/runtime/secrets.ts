import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { NamedSource, SourceSecrets } from '../config/schema';
import { secretProblems } from '../config/secret-rules';
import { IngestError, SecretsError } from '../ingest/errors';

/** Loads a source's secret values; called per request, cached by the implementation. */
export interface SecretsLoader {
  (): Promise<SourceSecrets>;
  /**
   * Re-reads the secrets bypassing the cache, at most once per interval; `undefined` when it
   * declines. The verifier calls it after a signature failure, so a rotated secret verifies at
   * once instead of after the cache's maxAge.
   */
  refresh?: () => Promise<SourceSecrets | undefined>;
}

/**
 * Parses a Secrets Manager value: one secret as a plain string, or JSON
 * `{"secrets": ["new", "old"], "verifyToken": "..."}`. Throws SecretsError (never echoing the value).
 */
export function parseSecretValue(value: string): SourceSecrets {
  const trimmed = value.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new SecretsError();
    }
    const { secrets, verifyToken } = (parsed ?? {}) as { secrets?: unknown; verifyToken?: unknown };
    const valid =
      Array.isArray(secrets) &&
      secrets.length > 0 &&
      secrets.every((s): s is string => typeof s === 'string' && s.length > 0) &&
      (verifyToken === undefined || typeof verifyToken === 'string');
    if (!valid) throw new SecretsError();
    return verifyToken === undefined ? { secrets } : { secrets, verifyToken };
  }
  if (trimmed.length === 0) throw new SecretsError();
  return { secrets: [trimmed] };
}

/**
 * The source's secret values break a rule of lambda/config/secret-rules.ts (a Standard key shorter
 * than 16 bytes, an empty verify token...): a configuration error on-call must fix, never a
 * silent 401. `problems` name the field and the rule, never the value.
 */
export class SecretConfigurationError extends IngestError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('secret_configuration', 'the source secrets break the secret rules');
    this.problems = problems;
  }
}

/**
 * The secrets when they pass the rules inline secrets pass at config time, else throws
 * SecretConfigurationError. The verifier applies it to whatever its loader returns, so a weak
 * value put in Secrets Manager is refused as loudly as one written in a config file.
 */
export function checkedSecrets(source: Pick<NamedSource, 'provider'>, secrets: SourceSecrets): SourceSecrets {
  // Loaders hand back the same object while the value is unchanged: check each value once, not per request.
  if (passed.get(secrets) === source.provider) return secrets;
  const problems = secretProblems(source.provider, secrets.secrets, secrets.verifyToken);
  if (problems.length > 0) throw new SecretConfigurationError(problems);
  passed.set(secrets, source.provider);
  return secrets;
}

/** Secret values that passed the rules, with the provider they passed for. */
const passed = new WeakMap<SourceSecrets, string>();

/** Secrets held inline in a local config. */
export function inlineSecrets(secrets: SourceSecrets): SecretsLoader {
  return async () => secrets;
}

/**
 * Secrets read from Secrets Manager by `source.secretName`, cached in the process for `maxAgeSeconds`
 * (Powertools parameters). A rotated secret is picked up within that time; put the new value
 * first in the list so both verify meanwhile.
 *
 * Powertools' provider and the Secrets Manager SDK are loaded on the first read, not at import:
 * a cold start does not evaluate them before the function is invoked.
 */
export function secretsManagerSecrets(
  source: Pick<NamedSource, 'secretName'>,
  options: {
    readonly client?: SecretsManagerClient;
    /** Settings of the client the provider builds when `client` is not given. @default SDK defaults */
    readonly clientConfig?: SecretsManagerClientConfig;
    /** @default 300 */
    readonly maxAgeSeconds?: number;
    /** Least time between forced re-reads, so bad signatures cannot hammer Secrets Manager. @default 30 */
    readonly refreshIntervalSeconds?: number;
    /** @default Date.now */
    readonly clock?: () => number;
  } = {},
): SecretsLoader {
  const name = source.secretName;
  if (name === undefined) throw new SecretsError();
  let provider: Promise<SecretsProvider> | undefined;
  const loadProvider = (): Promise<SecretsProvider> =>
    (provider ??= import('@aws-lambda-powertools/parameters/secrets').then(
      ({ SecretsProvider: Provider }) =>
        new Provider(options.client !== undefined ? { awsSdkV3Client: options.client } : { clientConfig: options.clientConfig ?? {} }),
      (err: unknown) => {
        provider = undefined;
        throw err;
      },
    ));
  const maxAge = options.maxAgeSeconds ?? 300;
  const interval = (options.refreshIntervalSeconds ?? 30) * 1000;
  const clock = options.clock ?? Date.now;
  let lastForced = Number.NEGATIVE_INFINITY;
  // The last value read and its parse: one object per distinct value, so callers can check it once.
  let last: { readonly raw: string; readonly parsed: SourceSecrets } | undefined;
  const read = async (forceFetch: boolean): Promise<SourceSecrets> => {
    let value: string | Uint8Array | undefined;
    try {
      value = await (await loadProvider()).get(name, { maxAge, forceFetch });
    } catch (err) {
      throw new SecretsError({ cause: err });
    }
    if (value === undefined) throw new SecretsError();
    const raw = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
    if (last?.raw !== raw) last = { raw, parsed: parseSecretValue(raw) };
    return last.parsed;
  };
  return Object.assign(() => read(false), {
    async refresh(): Promise<SourceSecrets | undefined> {
      if (clock() - lastForced < interval) return undefined;
      lastForced = clock();
      return read(true);
    },
  });
}
