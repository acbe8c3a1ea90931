import { isIPv4, isIPv6 } from 'node:net';
import * as z from 'zod/mini';
import { deployedDestinationProblems, destinationsSchema } from './destinations';
import { secretProblem } from './secret-rules';
import { SOURCE_NAME, SOURCE_NAME_RULE, sourceNameOf } from './source-name';

/**
 * The configuration of one environment, as written in `config/<env>.json`: the one source of its
 * TypeScript types (inferred below), its defaults (applied once, at parse), its errors and its
 * JSON Schema (`npm run schema` writes `config/schema.json`).
 *
 * `zod/mini`, not classic zod: the verifier and processor parse their source with this schema at
 * cold start, and mini tree-shakes to a few tens of KB where classic adds hundreds.
 *
 * Messages read after the field's path (`sources.a.batchSize must be ...`); the path is added
 * where the issues are turned into problems (lib/config-file.ts).
 */

/** Attaches a description: the TSDoc of the field, and its hover text in editors (schema.json). */
function doc<T extends z.ZodMiniType>(description: string, schema: T): T {
  z.globalRegistry.add(schema, { description });
  return schema;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const invalidObject = (message: string) => (issue: z.core.$ZodRawIssue) => (issue.code === 'invalid_type' ? message : undefined);

/**
 * Requests per client IP per 5 minutes before the edge refuses that IP: about 33 per second
 * averaged over the window. Providers deliver from a few addresses (Stripe publishes a dozen
 * webhook IPs; Twilio posts a status callback per status change of every message, so a reminder
 * campaign of a few thousand SMS sends several thousand callbacks within minutes from a handful
 * of IPs), and a refused delivery is at best retried later. Capacity is protected by the stage
 * throttling; this limit only stops one client from taking all of it.
 */
export const DEFAULT_RATE_LIMIT = 10_000;

/** Window of the per-IP rate limit, seconds. */
export const DEFAULT_RATE_WINDOW_SECONDS = 300;

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Environments that may hold secret values inline (local mode and tests); never deployed. */
export const INLINE_SECRET_ENVIRONMENTS: readonly string[] = ['local', 'test'];

const text = (error = 'must be a non-empty string') => z.string({ error }).check(z.minLength(1, { error }));

const headerName = () => {
  const error = 'must be an HTTP header name';
  return z.string({ error }).check(z.regex(HEADER_NAME, { error }));
};

const DURATION_UNIT_SECONDS: Readonly<Record<string, number>> = { m: 60, h: 3600, d: 86_400 };

/** Seconds in a duration such as `30m`, `6h` or `2d` (the config's expectEventEvery). */
export function durationSeconds(duration: string): number {
  return Number(duration.slice(0, -1)) * (DURATION_UNIT_SECONDS[duration.slice(-1)] ?? Number.NaN);
}

/** A whole number in a range; `why` says where the range comes from. */
function wholeNumber(min: number, max?: number, why = '') {
  const error = max === undefined ? `must be a whole number of at least ${min}${why}` : `must be a whole number from ${min} to ${max}${why}`;
  const int = z.int({ error });
  return max === undefined ? int.check(z.minimum(min, { error })) : int.check(z.minimum(min, { error }), z.maximum(max, { error }));
}

function validCidr(value: string): boolean {
  const [ip, bits, ...rest] = value.split('/');
  if (rest.length > 0 || ip === undefined || bits === undefined || !/^\d+$/.test(bits)) return false;
  if (isIPv4(ip)) return Number(bits) <= 32;
  if (isIPv6(ip)) return Number(bits) <= 128;
  return false;
}

const cidr = () => {
  const error = 'must be a CIDR such as 192.0.2.0/24';
  return z.string({ error }).check(z.refine(validCidr, { error }));
};

function httpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** Options of the generic `hmac` provider (the template's default depends on timestampHeader). */
const hmacOptionsSchema = z
  .strictObject(
    {
      header: doc('Header that carries the signature.', headerName()),
      algorithm: doc('HMAC hash.', z._default(z.enum(['sha1', 'sha256', 'sha512'], { error: 'must be sha1, sha256 or sha512' }), 'sha256')),
      encoding: doc('Encoding of the signature.', z._default(z.enum(['hex', 'base64'], { error: 'must be hex or base64' }), 'hex')),
      prefix: doc('Text before the signature in the header, for example `sha256=`.', z._default(z.string({ error: 'must be a string' }), '')),
      timestampHeader: doc('Header that carries a unix timestamp (seconds); when set, the replay window applies.', z.optional(headerName())),
      template: doc(
        "What is signed: `{body}` for the raw bytes, `{timestamp}` for the timestamp header. Default '{body}', or '{timestamp}.{body}' when timestampHeader is set.",
        z.optional(z.string({ error: 'must be a string containing {body}' }).check(z.regex(/\{body\}/, { error: 'must be a string containing {body}' }))),
      ),
      idHeader: doc("Header whose value is the provider's delivery id (the dedupe key). Default: a hash of the body.", z.optional(headerName())),
    },
    { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object with at least a header' : undefined) },
  )
  .check(
    z.superRefine(
      (hmac, ctx) => {
        if (hmac.template?.includes('{timestamp}') === true && hmac.timestampHeader === undefined) {
          ctx.addIssue({ code: 'custom', path: ['template'], message: 'uses {timestamp} but hmac.timestampHeader is not set', input: hmac.template });
        }
        // A checked but unsigned timestamp protects nothing: a replay simply sends a fresh one.
        if (hmac.timestampHeader !== undefined && hmac.template !== undefined && !hmac.template.includes('{timestamp}')) {
          ctx.addIssue({ code: 'custom', path: ['template'], message: 'must sign {timestamp} when hmac.timestampHeader is set (an unsigned timestamp can be replaced by anyone replaying the request)', input: hmac.template });
        }
      },
      // Only the two fields it reads must be valid; other fields' problems are reported alongside.
      { when: (payload) => isRecord(payload.value) && payload.issues.every((issue) => issue.path?.[0] !== 'template' && issue.path?.[0] !== 'timestampHeader') },
    ),
  );

const hmacSchema = doc(
  'Options of the generic `hmac` provider.',
  z.pipe(
    hmacOptionsSchema,
    z.transform((options) => ({ ...options, template: options.template ?? (options.timestampHeader === undefined ? '{body}' : '{timestamp}.{body}') })),
  ),
);

/**
 * Largest body a source may accept. API Gateway hands the verifier the body base64-encoded
 * (binaryMediaTypes '*\/*') inside the invocation payload, which Lambda caps at 6 MB: 4/3 of the
 * body plus the event's headers and context leave room for about 4.4 MiB of body. A larger
 * maxBodyBytes would promise bodies that can never arrive.
 */
export const MAX_BODY_BYTES_LIMIT = Math.floor(4.4 * 1024 * 1024);

/** Default body limit of most providers. */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Default body limit of Twilio sources. Twilio posts small forms: an SMS body is at most 1600
 * characters (under 15 KB form-encoded even when every character is multi-byte), and media, voice
 * and status callbacks add a few dozen short parameters. 64 KiB leaves several times that margin
 * while bounding the form decoding done before the signature is checked. Sources receiving
 * larger callbacks (Voice Intelligence transcripts, up to 1 MB) raise maxBodyBytes.
 */
export const DEFAULT_TWILIO_MAX_BODY_BYTES = 64 * 1024;

const maxBodyBytes = (byDefault: number) =>
  doc(
    'Largest accepted body in bytes.',
    z._default(wholeNumber(1, MAX_BODY_BYTES_LIMIT, " (Lambda's 6 MB invocation payload holds about 4.4 MiB of body once API Gateway base64-encodes it)"), byDefault),
  );

/** One inline secret of `provider`, checked by the rules Secrets Manager values also pass (secret-rules.ts). */
const secretOf = (provider: string) =>
  z.string({ error: 'must be a non-empty string' }).check(
    z.superRefine((secret, ctx) => {
      const message = secretProblem(provider, secret);
      // No input: issues never carry a secret value.
      if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: undefined });
    }),
  );

/** Fields every source has; `secret` checks one inline secret (provider standard wants a base64 key). */
function commonFields<S extends z.ZodMiniType<string, string>>(secret: S) {
  const secretList = 'must be a non-empty list of strings';
  return {
    secrets: doc(
      'Inline secrets, any of which verifies (put the new one first when rotating). Local and test environments only: deployed environments use secretName.',
      z.optional(z.array(secret, { error: secretList }).check(z.minLength(1, { error: secretList }))),
    ),
    secretName: doc(
      'Name of the Secrets Manager secret holding the secrets: one secret as a plain string, or JSON {"secrets": ["new", "old"], "verifyToken": "..."}.',
      z.optional(text()),
    ),
    toleranceSeconds: doc('Replay window for timestamped schemes, both directions, seconds.', z._default(wholeNumber(1, 86_400), 300)),
    maxBodyBytes: maxBodyBytes(DEFAULT_MAX_BODY_BYTES),
    publicUrl: doc(
      'The URL the provider calls, for URL-signing providers (Twilio) behind a custom domain.',
      z.optional(z.string({ error: 'must be an absolute http(s) URL' }).check(z.refine(httpUrl, { error: 'must be an absolute http(s) URL' }))),
    ),
    maxReceiveCount: doc('Processor: receives before a message moves to the DLQ.', z._default(wholeNumber(1, 1000), 5)),
    batchSize: doc(
      "Processor of a source without destinations: records per invocation, whose handlers run at once. Default: archive.batchSize (one archive write per batch). Set it (1 to 10) to cap the handlers running at once, at the archive's cost: one write per batch, $0.50 per million events at 10 (docs/cost.md). A source with destinations fans out archive.batchSize.",
      z.optional(wholeNumber(1, 10)),
    ),
    maxConcurrency: doc('Processor: most concurrent invocations.', z._default(wholeNumber(2, 1000, " (Lambda's SQS limit)"), 5)),
    processorTimeoutSeconds: doc("Processor: timeout in seconds, for a whole batch (its handlers run at once); the queue's visibility timeout is 6x this plus archive.batchWindowSeconds.", z._default(wholeNumber(1, 900), 30)),
    allowedIps: doc(
      "CIDRs allowed to call this source's path (enforced by WAF).",
      z.optional(z.array(cidr(), { error: 'must be a non-empty list of CIDRs' }).check(z.minLength(1, { error: 'must be a non-empty list of CIDRs' }))),
    ),
    signatureFailureThreshold: doc('Alarm: signature failures per 5 minutes before on-call is paged.', z._default(wholeNumber(1), 20)),
    expectEventEvery: doc(
      "Silence alarm: page on-call when no event is accepted for this long (`30m`, `6h`, `2d`; 5 minutes to 7 days). A provider that stops sending (an endpoint disabled after failures, a secret rotated on its side, an expired subscription) is otherwise a silent loss.",
      z.optional(
        z.string({ error: 'must be a duration such as 30m, 6h or 2d' }).check(
          z.regex(/^[1-9]\d{0,4}[mhd]$/, { error: 'must be a duration such as 30m, 6h or 2d', abort: true }),
          z.refine((value) => durationSeconds(value) >= 300 && durationSeconds(value) <= 7 * 86_400, { error: 'must be from 5m to 7d (CloudWatch evaluates an alarm over at most 7 days)' }),
        ),
      ),
    ),
    destinations: doc(
      "Where this source's events are delivered, by name (docs/deploy.md). Without destinations, the source's processor runs its handlers (lambda/processor/routes.ts).",
      z.optional(destinationsSchema),
    ),
  };
}

/** Secrets are given inline or by name, never both and never neither. */
const secretsOrSecretName = z.superRefine<{ readonly secrets?: unknown; readonly secretName?: unknown }>(
  (source, ctx) => {
    if (source.secrets !== undefined && source.secretName !== undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give either secrets or secretName, not both', input: source });
    }
    if (source.secrets === undefined && source.secretName === undefined) {
      ctx.addIssue({ code: 'custom', path: ['secrets'], message: 'must list at least one secret (or name a Secrets Manager secret in secretName)', input: source });
    }
  },
  // Reads only whether the fields are present, which other problems cannot change.
  { when: () => true },
);

const plain = commonFields(secretOf('any'));

const stripe = z.strictObject({ provider: z.literal('stripe'), ...plain }).check(secretsOrSecretName);
const twilio = z
  .strictObject({ provider: z.literal('twilio'), ...plain, maxBodyBytes: maxBodyBytes(DEFAULT_TWILIO_MAX_BODY_BYTES) })
  .check(secretsOrSecretName);
const meta = z
  .strictObject({
    provider: z.literal('meta'),
    ...plain,
    verifyToken: doc('`hub.verify_token` of the GET subscription handshake (inline: local and test environments only).', z.optional(text())),
  })
  .check(secretsOrSecretName);
const github = z.strictObject({ provider: z.literal('github'), ...plain }).check(secretsOrSecretName);
const shopify = z.strictObject({ provider: z.literal('shopify'), ...plain }).check(secretsOrSecretName);
const slack = z.strictObject({ provider: z.literal('slack'), ...plain }).check(secretsOrSecretName);
const standard = z.strictObject({ provider: z.literal('standard'), ...commonFields(secretOf('standard')) }).check(secretsOrSecretName);
const zoho = z.strictObject({ provider: z.literal('zoho'), ...plain }).check(secretsOrSecretName);
const hmac = z.strictObject({ provider: z.literal('hmac'), ...plain, hmac: hmacSchema }).check(secretsOrSecretName);
const TOKEN_LOCATIONS = ['header', 'query', 'bodyField'] as const;
const token = z
  .strictObject({
    provider: z.literal('token'),
    ...plain,
    header: doc('Header that carries the token, for example `x-webhook-token`.', z.optional(headerName())),
    query: doc('Query-string parameter that carries the token.', z.optional(text())),
    bodyField: doc('Top-level JSON body field that carries the token (Zoho CRM notifications echo one there).', z.optional(text())),
  })
  .check(
    secretsOrSecretName,
    z.superRefine(
      (source, ctx) => {
        if (TOKEN_LOCATIONS.filter((k) => source[k] !== undefined).length !== 1) {
          ctx.addIssue({ code: 'custom', path: [], message: 'a token source needs exactly one token location: header, query or bodyField', input: source });
        }
      },
      { when: () => true },
    ),
  );

const SOURCE_OPTIONS = [stripe, twilio, meta, github, shopify, slack, standard, zoho, hmac, token] as const;

/** The name a source's `provider` field gives its scheme. */
export type ProviderName = z.infer<(typeof SOURCE_OPTIONS)[number]>['provider'];

function providerOf(option: (typeof SOURCE_OPTIONS)[number]): ProviderName {
  return option.shape.provider.def.values[0];
}

/** The signature schemes hookgate knows. A source's `provider` picks one. */
export const PROVIDERS: readonly ProviderName[] = SOURCE_OPTIONS.map(providerOf);

/** One webhook source: a provider scheme, its secrets, and the provider's own options. */
export const sourceSchema = z.discriminatedUnion('provider', SOURCE_OPTIONS, {
  error: (issue): string | undefined => (issue.code === 'invalid_union' ? `must be one of ${PROVIDERS.join(', ')}` : undefined),
});

const COMMON_FIELDS: ReadonlySet<string> = new Set(['provider', ...Object.keys(plain)]);

/**
 * Fields that only one provider has (`hmac`, `verifyToken`, a token's location): an unknown field
 * that another provider knows is reported as "only applies to provider X".
 */
export const PROVIDER_FIELDS: ReadonlyMap<string, string> = new Map(
  SOURCE_OPTIONS.flatMap((option) => Object.keys(option.shape).filter((key) => !COMMON_FIELDS.has(key)).map((key) => [key, providerOf(option)])),
);

const sourcesSchema = z.record(z.string(), sourceSchema, { error: invalidObject('must be an object with at least one source') }).check(
  z.superRefine(
    (sources, ctx) => {
      const names = Object.keys(sources);
      if (names.length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'must be an object with at least one source', input: sources });
      for (const name of names) {
        if (!SOURCE_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: SOURCE_NAME_RULE, input: name });
      }
    },
    // Names are known whatever the sources hold, so they are checked alongside.
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  ),
);
// The name rule is a check (so a badly named source's fields are still checked); editors get it as a pattern.
z.globalRegistry.add(sourcesSchema, { description: 'The webhook sources, by name: a source listens on /webhooks/<name>.', propertyNames: { pattern: SOURCE_NAME.source } });

/** The whole file `config/<env>.json`. */
export const configSchema = z.strictObject(
  {
    $schema: doc('The JSON Schema of this file, for editors.', z.optional(z.string())),
    description: doc('What this environment is, for people.', z.optional(z.string())),
    sources: sourcesSchema,
    account: doc("AWS account of a deployed environment. Default: the CDK CLI's.", z.optional(text())),
    region: doc("AWS region of a deployed environment. Default: the CDK CLI's.", z.optional(text())),
    rateLimit: doc(
      'WAF rate-based rule: requests per client IP per window.',
      z.prefault(
        z.strictObject(
          {
            limit: z._default(wholeNumber(10, 2_000_000_000, ' (WAF rate-based rule)'), DEFAULT_RATE_LIMIT),
            windowSeconds: z._default(z.literal([60, 120, 300, 600], { error: 'must be 60, 120, 300 or 600' }), DEFAULT_RATE_WINDOW_SECONDS),
          },
          { error: invalidObject('must be an object') },
        ),
        {},
      ),
    ),
    throttling: doc(
      'API Gateway stage throttling.',
      z.prefault(
        z.strictObject(
          {
            rateLimit: doc('Steady-state requests per second.', z._default(wholeNumber(1, 10_000), 100)),
            burstLimit: doc('Burst.', z._default(wholeNumber(1, 5_000), 200)),
          },
          { error: invalidObject('must be an object') },
        ),
        {},
      ),
    ),
    alarms: doc(
      'Alarm thresholds and on-call address.',
      z.prefault(
        z.strictObject(
          {
            email: doc('Email address subscribed to the on-call SNS topic (required for a deployed stack).', z.optional(z.string({ error: 'must be an email address' }).check(z.regex(EMAIL, { error: 'must be an email address' })))),
            queueAgeSeconds: doc('Oldest message age on a work queue, seconds.', z._default(wholeNumber(1), 300)),
            apiLatencyP99Ms: doc('API p99 latency, milliseconds.', z._default(wholeNumber(1), 2000)),
            api5xxCount: doc('API 5XX answers per 5 minutes.', z._default(wholeNumber(1), 5)),
            wafBlockedCount: doc('WAF blocked requests per 5 minutes.', z._default(wholeNumber(1), 500)),
            functionErrorCount: doc('Verifier or processor errors per 5 minutes.', z._default(wholeNumber(1), 1)),
          },
          { error: invalidObject('must be an object') },
        ),
        {},
      ),
    ),
    dedupeTtlDays: doc('Days a dedupe record stays; retries later than this are enqueued again.', z._default(wholeNumber(1, 365), 7)),
    logRetentionDays: doc(
      'CloudWatch Logs retention in days.',
      z._default(z.literal(LOG_RETENTION_DAYS, { error: `must be one of CloudWatch's periods: ${LOG_RETENTION_DAYS.join(', ')}` }), 30),
    ),
    vpc: doc('Place functions in private isolated subnets with VPC endpoints.', z._default(z.boolean({ error: 'must be true or false' }), false)),
    network: doc(
      'With vpc: true, how the functions reach destinations (docs/deploy.md). Default: hookgate\'s own VPC, isolated subnets, no internet egress.',
      z.optional(
        z.strictObject(
          {
            egress: doc(
              "`none`: isolated subnets, AWS services through VPC endpoints only (internal destinations through peering or Transit Gateway you add). `nat`: delivery functions run in private subnets with a NAT gateway, so internet https destinations are reachable.",
              z._default(z.enum(['none', 'nat'], { error: 'must be none or nat' }), 'none'),
            ),
            vpcId: doc("An existing VPC to run every function in (a team's VPC where internal destinations live). Its routing decides egress.", z.optional(text())),
            subnetIds: doc('With vpcId: the subnets the functions run in (at least two, in different AZs).', z.optional(z.array(text(), { error: 'must be a list of subnet ids' }).check(z.minLength(2, { error: 'must list at least two subnets' })))),
            availabilityZones: doc('With vpcId: the AZs of subnetIds, in the same order.', z.optional(z.array(text(), { error: 'must be a list of availability zones' }))),
            securityGroupIds: doc('With vpcId: security groups for the functions. Default: one created by hookgate, egress https only.', z.optional(z.array(text(), { error: 'must be a list of security group ids' }))),
          },
          { error: invalidObject('must be an object') },
        ),
      ),
    ),
    deliveryHistoryDays: doc('Days a delivery attempt record is kept (queried by the replay tooling).', z._default(wholeNumber(1, 365), 30)),
    audit: doc(
      "The audit log of the `hookgate` command (every body shown, replay, redrive, pause and resume): a KMS-encrypted CloudWatch Logs group, kept on stack deletion.",
      z.prefault(
        z.strictObject(
          {
            retentionDays: doc(
              'Days the audit records are kept (default six years), apart from the operational logs.',
              z._default(z.literal(LOG_RETENTION_DAYS, { error: `must be one of CloudWatch's periods: ${LOG_RETENTION_DAYS.join(', ')}` }), 2192),
            ),
          },
          { error: invalidObject('must be an object') },
        ),
        {},
      ),
    ),
    archive: doc(
      'The archive of every accepted event (sealed envelopes in S3, read by the hookgate command).',
      z.prefault(
        z
          .strictObject(
            {
              days: doc('Days an archived event is kept (the bucket lifecycle, and the Object Lock retention).', z._default(wholeNumber(1, 3650), 30)),
              objectLock: doc(
                'S3 Object Lock mode of the archive bucket, retention = days: `governance` (privileged users can lift it) or `compliance` (no one can, not even root). Only at bucket creation. Default: no Object Lock.',
                z.optional(z.enum(['governance', 'compliance'], { error: 'must be governance or compliance' })),
              ),
              batchSize: doc("SQS batch size of every source's processor (a source without destinations may set a smaller batchSize): events per archive write at most.", z._default(wholeNumber(1, 10_000, " (Lambda's SQS limit)"), 100)),
              batchWindowSeconds: doc("Seconds every source's processor waits to fill a batch (MaximumBatchingWindowInSeconds): latency traded for fewer archive writes; at least 1 when batchSize is over 10.", z._default(wholeNumber(0, 300), 1)),
            },
            { error: invalidObject('must be an object') },
          )
          .check(
            z.superRefine((archive, ctx) => {
              if (archive.batchSize > 10 && archive.batchWindowSeconds < 1) {
                ctx.addIssue({ code: 'custom', path: ['batchWindowSeconds'], message: 'must be at least 1 when batchSize is over 10 (Lambda requires a batching window for larger batches)', input: archive.batchWindowSeconds });
              }
            }),
          ),
        {},
      ),
    ),
    retain: doc('Keep stateful resources when the stack is deleted.', z._default(z.boolean({ error: 'must be true or false' }), true)),
  },
  { error: invalidObject('the file must hold a JSON object') },
).check(
  z.superRefine(
    (config, ctx) => {
      const network = config.network;
      if (network === undefined) return;
      if (config.vpc !== true) ctx.addIssue({ code: 'custom', path: ['network'], message: 'applies only with vpc: true', input: undefined });
      if (network.vpcId !== undefined && network.subnetIds === undefined) ctx.addIssue({ code: 'custom', path: ['network', 'subnetIds'], message: 'is required with vpcId', input: undefined });
      if (network.vpcId === undefined && (network.subnetIds ?? network.availabilityZones ?? network.securityGroupIds) !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['network', 'vpcId'], message: 'is required with subnetIds, availabilityZones or securityGroupIds', input: undefined });
      }
      if (network.availabilityZones !== undefined && network.availabilityZones.length !== network.subnetIds?.length) {
        ctx.addIssue({ code: 'custom', path: ['network', 'availabilityZones'], message: 'must list one AZ per subnet in subnetIds', input: undefined });
      }
      if (network.vpcId !== undefined && network.egress === 'nat') ctx.addIssue({ code: 'custom', path: ['network', 'egress'], message: "nat applies to hookgate's own VPC; an existing VPC's routing decides egress", input: undefined });
    },
    // Reads only network and vpc, checked after both parsed.
    { when: (payload) => payload.issues.every((issue) => issue.path?.[0] !== 'network' && issue.path?.[0] !== 'vpc') },
  ),
);

/** Deployed environments hold no secret value: a source names its Secrets Manager secret instead. */
const noInlineSecrets = z.superRefine<unknown>(
  (config, ctx) => {
    const sources = isRecord(config) ? config.sources : undefined;
    if (!isRecord(sources)) return;
    for (const [name, source] of Object.entries(sources)) {
      if (!isRecord(source)) continue;
      if (source.secrets !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['sources', name, 'secrets'], message: 'deployed environments must not hold secret values; use secretName', input: undefined });
      }
      if (source.verifyToken !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['sources', name, 'verifyToken'], message: 'deployed environments keep it in the secret named by secretName', input: undefined });
      }
      if (isRecord(source.destinations)) {
        for (const [destName, destination] of Object.entries(source.destinations)) {
          for (const { field, message } of deployedDestinationProblems(destination)) {
            ctx.addIssue({ code: 'custom', path: ['sources', name, 'destinations', destName, field], message, input: undefined });
          }
        }
      }
    }
  },
  // Reads only which fields are present, so it runs whatever else is wrong.
  { when: () => true },
);

const deployedConfigSchema = configSchema.check(noInlineSecrets);

/** The schema an environment's file must pass: deployed environments also refuse inline secrets. */
export function configSchemaFor(environment: string): typeof configSchema {
  return INLINE_SECRET_ENVIRONMENTS.includes(environment) ? configSchema : deployedConfigSchema;
}

/** What a config file may say (defaults not applied). */
export type EnvironmentConfigInput = z.input<typeof configSchema>;
/** A parsed config: every default applied. */
export type EnvironmentConfig = z.infer<typeof configSchema>;
/** What a config file may say about one source. */
export type SourceConfigInput = z.input<typeof sourceSchema>;
/** One parsed source: every default applied. */
export type SourceConfig = z.infer<typeof sourceSchema>;
/** Options of the generic `hmac` provider, defaults applied. */
export type HmacOptions = z.infer<typeof hmacSchema>;
/** A parsed config's alarm thresholds. */
export type AlarmConfig = EnvironmentConfig['alarms'];
/** A retention period CloudWatch Logs accepts. */
export type LogRetentionDays = EnvironmentConfig['logRetentionDays'];

/** A source with its name, as the verifier and processor see it. */
export type NamedSource = SourceConfig & { readonly name: string };
/** A source with its name, before defaults. */
export type NamedSourceInput = SourceConfigInput & { readonly name: string };

/** Secret values of one source, resolved from config or Secrets Manager. Never logged. */
export interface SourceSecrets {
  readonly secrets: readonly string[];
  readonly verifyToken?: string;
}

/**
 * Parses a named source (the functions' `HOOKGATE_SOURCE`, or a source written in code), applying
 * the defaults. Throws a ZodError, whose issues carry paths and rules but no input values.
 */
export function parseNamedSource(value: unknown): NamedSource {
  const { name, ...source } = isRecord(value) ? value : {};
  return { ...sourceSchema.parse(source), name: sourceNameOf({ name }) };
}

/** A source written in code (tests, benches, samples), typed as a config file would be, defaults applied. */
export function namedSource(source: NamedSourceInput): NamedSource {
  return parseNamedSource(source);
}

/** A source's inline secret values (local and test configs); none when it names a Secrets Manager secret. */
export function inlineSecretsOf(source: SourceConfig): SourceSecrets {
  const verifyToken = source.provider === 'meta' ? source.verifyToken : undefined;
  return { secrets: source.secrets ?? [], ...(verifyToken === undefined ? {} : { verifyToken }) };
}

/** The sources of a parsed config with their names attached. */
export function namedSources(config: EnvironmentConfig): NamedSource[] {
  return Object.entries(config.sources).map(([name, source]) => ({ ...source, name }));
}

/** The value of a dedupe TTL (the verifier's `HOOKGATE_DEDUPE_TTL_DAYS`), with the config's default when absent. */
export function parseDedupeTtlDays(value: string | undefined): number {
  return configSchema.shape.dedupeTtlDays.parse(value === undefined ? undefined : Number(value));
}
