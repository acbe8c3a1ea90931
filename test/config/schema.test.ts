import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EnvironmentConfigInput, namedSources, parseNamedSource, type SourceConfigInput } from '../../lambda/config/schema';
import { ConfigError, configJsonSchemaText, environmentsIn, loadConfig, parseConfig, SCHEMA_FILE } from '../../lib/config-file';
import { publicSource } from '../../lib/constructs/source-cell';
import { problemsOf as problemsFor } from './sources';
import { loadLocalConfig, UsageError } from '../../local/cli';

const CONFIG_DIR = join(__dirname, '..', '..', 'config');
const SHIPPED = ['local', 'dev', 'prod'];

const problemsOf = (raw: unknown, environment = 'local'): readonly string[] => problemsFor(raw, environment);

const withSource = (source: unknown): unknown => ({ sources: { a: source } });

describe('a discriminated union on provider', () => {
  it.each<[string, unknown, string]>([
    ['hmac options on a github source', { provider: 'github', secrets: ['s'], hmac: { header: 'x-sig' } }, 'sources.a.hmac only applies to provider hmac'],
    ['a token header on a stripe source', { provider: 'stripe', secrets: ['s'], header: 'x-token' }, 'sources.a.header only applies to provider token'],
    ['a token query on an hmac source', { provider: 'hmac', secrets: ['s'], hmac: { header: 'x-sig' }, query: 'token' }, 'sources.a.query only applies to provider token'],
    ['a verify token on a slack source', { provider: 'slack', secrets: ['s'], verifyToken: 'v' }, 'sources.a.verifyToken only applies to provider meta'],
    ['a token source with no location', { provider: 'token', secrets: ['t'] }, 'sources.a: a token source needs exactly one token location: header, query or bodyField'],
    ['a token source with two locations', { provider: 'token', secrets: ['t'], header: 'x-token', bodyField: 'token' }, 'sources.a: a token source needs exactly one token location: header, query or bodyField'],
    ['a token source with all three locations', { provider: 'token', secrets: ['t'], header: 'x-token', query: 'token', bodyField: 'token' }, 'sources.a: a token source needs exactly one token location: header, query or bodyField'],
    ['an hmac source without its options', { provider: 'hmac', secrets: ['s'] }, 'sources.a.hmac must be an object with at least a header'],
    ['a source without a provider', { secrets: ['s'] }, 'sources.a.provider must be one of stripe, twilio, meta, github, shopify, slack, standard, zoho, hmac, token'],
  ])('refuses %s', (_what, source, problem) => {
    expect(problemsOf(withSource(source))).toEqual([problem]);
  });

  it.each<[string, SourceConfigInput]>([
    ['a token in a header', { provider: 'token', secrets: ['t'], header: 'x-token' }],
    ['a token in the query string', { provider: 'token', secrets: ['t'], query: 'token' }],
    ['a token in a body field', { provider: 'token', secrets: ['t'], bodyField: 'token' }],
    ['hmac options on an hmac source', { provider: 'hmac', secrets: ['s'], hmac: { header: 'x-sig' } }],
    ['a verify token on a meta source', { provider: 'meta', secrets: ['s'], verifyToken: 'v' }],
  ])('accepts %s', (_what, source) => {
    expect(problemsOf(withSource(source))).toEqual([]);
  });

  it('types provider options on their provider only', () => {
    // Compile-time half of the union: `tsc --noEmit` fails if these lines stop being errors.
    // @ts-expect-error -- hmac options exist only on hmac sources
    const github: SourceConfigInput = { provider: 'github', secretName: 'n', hmac: { header: 'x-sig' } };
    // @ts-expect-error -- an hmac source must give its options
    const hmac: SourceConfigInput = { provider: 'hmac', secretName: 'n' };
    expect(problemsOf(withSource(github), 'dev')).toEqual(['sources.a.hmac only applies to provider hmac']);
    expect(problemsOf(withSource(hmac), 'dev')).toEqual(['sources.a.hmac must be an object with at least a header']);
  });
});

describe('unknown fields', () => {
  const github = { provider: 'github', secrets: ['s'] };

  it.each<[string, unknown, string]>([
    ['at the top level', { sources: { a: github }, sorces: {} }, 'sorces is not a known field'],
    ['in a source', { sources: { a: { ...github, tolerance: 5 } } }, 'sources.a.tolerance is not a known field'],
    ['in hmac options', { sources: { a: { provider: 'hmac', secrets: ['s'], hmac: { header: 'x-sig', algo: 'sha1' } } } }, 'sources.a.hmac.algo is not a known field'],
    ['in rateLimit', { sources: { a: github }, rateLimit: { max: 5 } }, 'rateLimit.max is not a known field'],
    ['in throttling', { sources: { a: github }, throttling: { burst: 5 } }, 'throttling.burst is not a known field'],
    ['in alarms', { sources: { a: github }, alarms: { mail: 'oncall@example.com' } }, 'alarms.mail is not a known field'],
    ['of the top level, inside a source', { sources: { a: { ...github, description: 'x' } } }, 'sources.a.description is not a known field'],
  ])('are refused %s, with their path', (_where, raw, problem) => {
    expect(problemsOf(raw)).toEqual([problem]);
  });

  it('allow $schema and description at the top level', () => {
    expect(problemsOf({ $schema: './schema.json', description: 'an environment', sources: { a: github } })).toEqual([]);
  });
});

describe('problems', () => {
  it('are all listed at once, each naming its field, with the rules that explain them', () => {
    const raw = {
      sources: {
        'Bad Name': { provider: 'github', secrets: ['s'], maxConcurrency: 1 },
        svix: { provider: 'standard', secrets: ['plain'], secretName: 'hookgate/staging/svix' },
        partner: { provider: 'hmac', secretName: 'n', hmac: { header: 'x-sig', template: '{timestamp}.{body}', extra: true } },
        orders: { provider: 'token', secretName: 'n', allowedIps: ['10.0.0.300/8'] },
      },
      rateLimit: { windowSeconds: 30 },
      logRetentionDays: 10,
      vpc: 'yes',
      color: 'blue',
    };

    const error = ((): ConfigError | undefined => {
      try {
        parseConfig(raw, 'staging');
      } catch (err) {
        if (err instanceof ConfigError) return err;
      }
      return undefined;
    })();

    expect(error?.environment).toBe('staging');
    expect(error?.message).toMatch(/^config\/staging\.json is invalid \(environment staging\):\n {2}- /);
    expect([...(error?.problems ?? [])].sort()).toEqual(
      [
        "sources.Bad Name: the source name is its URL path segment: lowercase letters, digits and '-', at most 63",
        "sources.Bad Name.maxConcurrency must be a whole number from 2 to 1000 (Lambda's SQS limit)",
        'sources.Bad Name.secrets: deployed environments must not hold secret values; use secretName',
        'sources.svix.secrets[0] must be base64, optionally prefixed whsec_, for provider standard',
        'sources.svix: give either secrets or secretName, not both',
        'sources.svix.secrets: deployed environments must not hold secret values; use secretName',
        'sources.partner.hmac.extra is not a known field',
        'sources.partner.hmac.template uses {timestamp} but hmac.timestampHeader is not set',
        'sources.orders: a token source needs exactly one token location: header, query or bodyField',
        'sources.orders.allowedIps[0] must be a CIDR such as 192.0.2.0/24',
        'rateLimit.windowSeconds must be 60, 120, 300 or 600',
        "logRetentionDays must be one of CloudWatch's periods: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
        'vpc must be true or false',
        'color is not a known field',
      ].sort(),
    );
  });

  it('name a missing field as required and a wrong type by what it must be', () => {
    expect(problemsOf({})).toEqual(['sources must be an object with at least one source']);
    expect(problemsOf({ sources: { a: { provider: 'github', secretName: 5 } } })).toEqual(['sources.a.secretName must be a non-empty string']);
    expect(problemsOf({ sources: { a: { provider: 'hmac', secretName: 'n', hmac: {} } } })).toEqual(['sources.a.hmac.header must be an HTTP header name']);
    expect(problemsOf([])).toEqual(['the file must hold a JSON object']);
  });
});

describe('defaults', () => {
  it('complete a minimal source and environment, once, at parse', () => {
    const config = parseConfig({ sources: { github: { provider: 'github', secretName: 'hookgate/dev/github' } } }, 'dev');

    expect(config).toEqual({
      sources: {
        github: {
          provider: 'github',
          secretName: 'hookgate/dev/github',
          toleranceSeconds: 300,
          maxBodyBytes: 1024 * 1024,
          maxReceiveCount: 5,
          maxConcurrency: 5,
          processorTimeoutSeconds: 30,
          signatureFailureThreshold: 20,
        },
      },
      rateLimit: { limit: 10_000, windowSeconds: 300 },
      throttling: { rateLimit: 100, burstLimit: 200 },
      alarms: { queueAgeSeconds: 300, apiLatencyP99Ms: 2000, api5xxCount: 5, wafBlockedCount: 500, functionErrorCount: 1 },
      dedupeTtlDays: 7,
      deliveryHistoryDays: 30,
      audit: { retentionDays: 2192 },
      archive: { days: 30, batchSize: 100, batchWindowSeconds: 1 },
      logRetentionDays: 30,
      vpc: false,
      retain: true,
    });
  });

  it('complete hmac options, the template following the timestamp header', () => {
    const config = parseConfig(
      { sources: { plain: { provider: 'hmac', secrets: ['s'], hmac: { header: 'x-sig' } }, stamped: { provider: 'hmac', secrets: ['s'], hmac: { header: 'x-sig', timestampHeader: 'x-ts' } } } },
      'local',
    );
    const hmacOf = (name: string): unknown => namedSources(config).flatMap((s) => (s.name === name && s.provider === 'hmac' ? [s.hmac] : []))[0];

    expect(hmacOf('plain')).toEqual({ header: 'x-sig', algorithm: 'sha256', encoding: 'hex', prefix: '', template: '{body}' });
    expect(hmacOf('stamped')).toEqual({ header: 'x-sig', algorithm: 'sha256', encoding: 'hex', prefix: '', timestampHeader: 'x-ts', template: '{timestamp}.{body}' });
  });

  it('refuse a timestamp header that the template does not sign, since a replay would just send a fresh one', () => {
    const unsigned = { provider: 'hmac', secrets: ['s'], hmac: { header: 'x-sig', timestampHeader: 'x-ts', template: '{body}' } };
    const signed = { provider: 'hmac', secrets: ['s'], hmac: { header: 'x-sig', timestampHeader: 'x-ts', template: '{body}|{timestamp}' } };

    expect(problemsOf({ sources: { partner: unsigned } })).toEqual([
      'sources.partner.hmac.template must sign {timestamp} when hmac.timestampHeader is set (an unsigned timestamp can be replaced by anyone replaying the request)',
    ]);
    expect(problemsOf({ sources: { partner: signed } })).toEqual([]);
  });

  it('never replace a value the file gives', () => {
    const input: EnvironmentConfigInput = {
      sources: { a: { provider: 'github', secretName: 'n', toleranceSeconds: 60, batchSize: 1 } },
      alarms: { apiLatencyP99Ms: 900 },
      retain: false,
    };

    const config = parseConfig(input, 'dev');

    expect(config.sources.a).toMatchObject({ toleranceSeconds: 60, batchSize: 1, maxReceiveCount: 5 });
    expect(config.alarms).toMatchObject({ apiLatencyP99Ms: 900, api5xxCount: 5 });
    expect(config.retain).toBe(false);
  });

  it.each(SHIPPED)('leave a parsed config/%s.json unchanged when parsed again (the stack re-validates)', (env) => {
    const config = loadConfig(join(CONFIG_DIR, `${env}.json`), env);
    expect(parseConfig(config, env)).toEqual(config);
  });
});

describe('what the functions read', () => {
  it.each(['dev', 'prod'])('the source JSON the %s stack writes parses back to the same source', (env) => {
    for (const source of namedSources(loadConfig(join(CONFIG_DIR, `${env}.json`), env))) {
      const written = publicSource(source);
      expect(parseNamedSource(JSON.parse(JSON.stringify(written)))).toEqual(written);
    }
  });

  it('completes a minimal source with the schema defaults', () => {
    const source = parseNamedSource({ name: 'github', provider: 'github', secretName: 'hookgate/bench/github' });
    expect(source).toMatchObject({ name: 'github', toleranceSeconds: 300, maxBodyBytes: 1024 * 1024 });
  });

  it('gives a twilio source a 64 KiB body limit by default, which it may raise', () => {
    expect(parseNamedSource({ name: 'sms', provider: 'twilio', secretName: 'hookgate/bench/sms' }).maxBodyBytes).toBe(64 * 1024);
    expect(parseNamedSource({ name: 'sms', provider: 'twilio', secretName: 'hookgate/bench/sms', maxBodyBytes: 1_000_000 }).maxBodyBytes).toBe(1_000_000);
  });

  it.each<[string, unknown]>([
    ['an unknown provider', { name: 'a', provider: 'paypal', secretName: 'n' }],
    ['a bad name', { name: 'Bad Name', provider: 'github', secretName: 'n' }],
    ['no name', { provider: 'github', secretName: 'n' }],
    ['an unknown field', { name: 'a', provider: 'github', secretName: 'n', hmac: { header: 'x' } }],
    ['not an object', 'github'],
  ])('refuse a source with %s', (_what, value) => {
    expect(() => parseNamedSource(value)).toThrow();
  });
});

describe('config/schema.json', () => {
  const schemaText = readFileSync(join(CONFIG_DIR, SCHEMA_FILE), 'utf8');
  const schema = JSON.parse(schemaText) as {
    required: string[];
    additionalProperties: boolean;
    properties: Record<string, { default?: unknown; required?: string[]; properties?: Record<string, { default?: unknown }> }>;
  };
  const branches = (
    schema.properties.sources as unknown as {
      additionalProperties: { oneOf: { properties: { provider: { const: string }; hmac?: { required: string[] } }; required: string[]; additionalProperties: boolean }[] };
    }
  ).additionalProperties.oneOf;
  const branch = (provider: string) => branches.find((b) => b.properties.provider.const === provider);

  it('is what `npm run schema` generates from the schema (run it after changing lambda/config/schema.ts)', () => {
    expect(schemaText).toBe(configJsonSchemaText());
  });

  it('describes the input: fields with defaults stay optional and show their default', () => {
    expect(schema.required).toEqual(['sources']);
    expect(schema.properties.dedupeTtlDays?.default).toBe(7);
    expect(schema.properties.alarms?.required).toBeUndefined();
    expect(schema.properties.alarms?.properties?.queueAgeSeconds?.default).toBe(300);
    expect(branch('github')?.required).toEqual(['provider']);
    expect(branch('hmac')?.required).toEqual(['provider', 'hmac']);
    expect(branch('hmac')?.properties.hmac?.required).toEqual(['header']);
  });

  it('refuses unknown fields and has one branch per provider', () => {
    expect(schema.additionalProperties).toBe(false);
    expect(branches.map((b) => b.properties.provider.const)).toEqual(['stripe', 'twilio', 'meta', 'github', 'shopify', 'slack', 'standard', 'zoho', 'hmac', 'token']);
    expect(branches.every((b) => b.additionalProperties === false)).toBe(true);
  });

  it.each(SHIPPED)('is the $schema of config/%s.json', (env) => {
    const raw = JSON.parse(readFileSync(join(CONFIG_DIR, `${env}.json`), 'utf8')) as { $schema?: unknown };
    expect(raw.$schema).toBe('./schema.json');
  });

  it('is never an environment: not listed, not loaded, not started locally', () => {
    const path = join(CONFIG_DIR, SCHEMA_FILE);

    expect(environmentsIn(CONFIG_DIR)).toEqual(['dev', 'local', 'prod']);
    expect(() => loadConfig(path, 'schema')).toThrow(/schema\.json is the JSON Schema of the config files, not an environment/);
    expect(() => loadLocalConfig(path)).toThrow(UsageError);
    expect(() => loadLocalConfig(path)).toThrow(/not an environment/);
  });
});
