/**
 * The configuration of one environment, as written in `config/<env>.json`.
 *
 * Everything here is data: it is validated once (at synth time and at local start) by
 * `validateConfig`, and the parts a verifier needs travel to it as JSON without any secret value.
 */

/** The signature schemes hookgate knows. A source's `provider` picks one. */
export const PROVIDERS = [
  'stripe',
  'twilio',
  'meta',
  'github',
  'shopify',
  'slack',
  'standard',
  'zoho',
  'hmac',
  'token',
] as const;

export type ProviderName = (typeof PROVIDERS)[number];

/** Options of the generic `hmac` provider. */
export interface HmacOptions {
  /** Header that carries the signature. */
  readonly header: string;
  /** @default 'sha256' */
  readonly algorithm?: 'sha1' | 'sha256' | 'sha512';
  /** @default 'hex' */
  readonly encoding?: 'hex' | 'base64';
  /** Text before the signature in the header, for example `sha256=`. @default '' */
  readonly prefix?: string;
  /** Header that carries a unix timestamp (seconds); when set, the replay window applies. */
  readonly timestampHeader?: string;
  /**
   * What is signed, with `{body}` for the raw bytes and `{timestamp}` for the timestamp header.
   * @default '{body}' (or '{timestamp}.{body}' when timestampHeader is set)
   */
  readonly template?: string;
  /** Header whose value is the provider's delivery id (dedupe key). @default body hash */
  readonly idHeader?: string;
}

/** Where a `token` source finds its token. Exactly one of the three. */
export interface TokenLocation {
  /** Header name, for example `x-webhook-token`. */
  readonly header?: string;
  /** Query-string parameter name. */
  readonly query?: string;
  /** Top-level JSON body field (Zoho CRM notifications echo a token there). */
  readonly bodyField?: string;
}

/** One webhook source: a URL path segment, a provider scheme and its secrets. */
export interface SourceConfig extends TokenLocation {
  readonly provider: ProviderName;
  /**
   * Inline secrets, any of which verifies (put the new one first when rotating).
   * Local configs only: deployed environments use `secretName`.
   */
  readonly secrets?: readonly string[];
  /**
   * Name of a Secrets Manager secret holding the secrets. Its value is either one secret as a
   * plain string, or JSON `{"secrets": ["new", "old"], "verifyToken": "..."}`.
   */
  readonly secretName?: string;
  /** Replay window for timestamped schemes, both directions. @default 300 */
  readonly toleranceSeconds?: number;
  /** Largest accepted body in bytes. @default 1048576 (1 MiB) */
  readonly maxBodyBytes?: number;
  /** The URL the provider calls, for URL-signing providers (Twilio) behind a custom domain. */
  readonly publicUrl?: string;
  /** Meta `hub.verify_token` for the GET subscription handshake (inline, local only). */
  readonly verifyToken?: string;
  /** Options of the generic `hmac` provider. */
  readonly hmac?: HmacOptions;
  /** Processor: receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** Processor: SQS batch size. @default 10 */
  readonly batchSize?: number;
  /** Processor: maximum concurrent invocations (2..1000). @default 5 */
  readonly maxConcurrency?: number;
  /** Processor: timeout in seconds; the queue's visibility timeout is 6x this. @default 30 */
  readonly processorTimeoutSeconds?: number;
  /** Optional CIDR allow-list enforced by WAF on this source's path. */
  readonly allowedIps?: readonly string[];
  /** Alarm: signature failures per 5 minutes before on-call is paged. @default 20 */
  readonly signatureFailureThreshold?: number;
}

/** Alarm thresholds of one environment. */
export interface AlarmConfig {
  /** Email address subscribed to the on-call SNS topic. */
  readonly email?: string;
  /** Oldest message age on a work queue, seconds. @default 300 */
  readonly queueAgeSeconds?: number;
  /** API p99 latency, milliseconds. @default 2000 */
  readonly apiLatencyP99Ms?: number;
  /** API 5XX answers per 5 minutes. @default 5 */
  readonly api5xxCount?: number;
  /** WAF blocked requests per 5 minutes. @default 500 */
  readonly wafBlockedCount?: number;
  /** Verifier or processor errors per 5 minutes. @default 1 */
  readonly functionErrorCount?: number;
}

/** The whole file `config/<env>.json`. */
export interface EnvironmentConfig {
  readonly sources: Readonly<Record<string, SourceConfig>>;
  /** AWS account of a deployed environment. @default the CLI's */
  readonly account?: string;
  /** AWS region of a deployed environment. @default the CLI's */
  readonly region?: string;
  /** WAF rate-based rule: requests per client IP per window. */
  readonly rateLimit?: { readonly limit?: number; readonly windowSeconds?: 60 | 120 | 300 | 600 };
  /** API Gateway stage throttling. */
  readonly throttling?: { readonly rateLimit?: number; readonly burstLimit?: number };
  readonly alarms?: AlarmConfig;
  /** Days a dedupe record stays; retries later than this are enqueued again. @default 7 */
  readonly dedupeTtlDays?: number;
  /** CloudWatch Logs retention in days. @default 30 */
  readonly logRetentionDays?: number;
  /** Place functions in private isolated subnets with VPC endpoints. @default false */
  readonly vpc?: boolean;
  /** Keep stateful resources when the stack is deleted. @default true */
  readonly retain?: boolean;
}

/** A source with its name, as the verifier sees it. */
export interface NamedSource extends SourceConfig {
  readonly name: string;
}

/** Secret values of one source, resolved from config or Secrets Manager. Never logged. */
export interface SourceSecrets {
  readonly secrets: readonly string[];
  readonly verifyToken?: string;
}

export const DEFAULT_TOLERANCE_SECONDS = 300;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_DEDUPE_TTL_DAYS = 7;
