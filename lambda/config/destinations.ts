import * as z from 'zod/mini';
import { addressRefusal, literalAddress } from '../delivery/addresses';
import { secretProblem } from './secret-rules';

/**
 * The `destinations` of a source: where its verified events are delivered (an HTTPS service,
 * a Lambda function, an EventBridge bus). Each destination gets its own queue, DLQ, retries,
 * circuit breaker and alarms (lib/constructs/destination-cell.ts); the source's processor fans
 * each event out to the queues of the destinations whose `events` filter matches it.
 */

function doc<T extends z.ZodMiniType>(description: string, schema: T): T {
  z.globalRegistry.add(schema, { description });
  return schema;
}

/** A destination's name: part of its resources' names and its metric dimension. */
export const DESTINATION_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const DESTINATION_NAME_RULE = "a destination's name: lowercase letters, digits and '-', at most 32";

/** An event-type filter entry: an exact type, `prefix.*`, or `*` for every event. */
export const EVENT_PATTERN = /^(\*|[^*\s]+(\.\*)?)$/;

const wholeNumber = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.int({ error }).check(z.minimum(min, { error }), z.maximum(max, { error }));
};
const text = (error = 'must be a non-empty string') => z.string({ error }).check(z.minLength(1, { error }));

/**
 * SQS keeps a message 14 days at most, and a retry window must leave the message time to reach
 * its DLQ: 13 days.
 */
export const MAX_RETRY_WINDOW_HOURS = 13 * 24;

/** Fields every destination has. */
const commonFields = {
  events: doc(
    "Event types delivered here: exact names, `prefix.*` or `*`. Default: every event. Events with no type match only `*` (and the default).",
    z.optional(
      z
        .array(z.string({ error: 'must be an event type, prefix.* or *' }).check(z.regex(EVENT_PATTERN, { error: 'must be an event type, prefix.* or *' })), {
          error: 'must be a non-empty list of event types',
        })
        .check(z.minLength(1, { error: 'must be a non-empty list of event types' })),
    ),
  ),
  retryWindowHours: doc('How long failed deliveries are retried before the DLQ, hours.', z._default(wholeNumber(1, MAX_RETRY_WINDOW_HOURS), 24)),
  backoffBaseSeconds: doc(
    'Base of the exponential backoff with full jitter: attempt n waits a random time up to base x 2^n seconds (capped at maxBackoffSeconds).',
    z._default(wholeNumber(1, 3600), 30),
  ),
  maxBackoffSeconds: doc('Longest wait between two attempts, seconds (SQS visibility allows 12 hours).', z._default(wholeNumber(1, 43_200), 3600)),
  timeoutSeconds: doc('Per-attempt timeout, seconds.', z._default(wholeNumber(1, 60), 15)),
  maxInFlight: doc('Most deliveries in flight at once to this destination (Lambda SQS maxConcurrency: at least 2).', z._default(wholeNumber(2, 1000), 10)),
  maxPerSecond: doc('Most attempts per second to this destination. Default: no limit beyond maxInFlight.', z.optional(wholeNumber(1, 10_000))),
  batchSize: doc('Messages per delivery invocation.', z._default(wholeNumber(1, 10), 10)),
  circuitBreaker: doc(
    'The circuit breaker: opens after failureThreshold consecutive failed attempts, stays open openSeconds, then lets one probe through.',
    z.prefault(
      z.strictObject({
        failureThreshold: z._default(wholeNumber(1, 1000), 5),
        openSeconds: z._default(wholeNumber(1, 3600), 60),
      }),
      {},
    ),
  ),
};

/** A Standard Webhooks signing secret (`whsec_` + base64), checked by the same rule as a `standard` source's. */
const signingSecret = z.string({ error: 'must be a non-empty string' }).check(
  z.superRefine((secret, ctx) => {
    const message = secretProblem('standard', secret);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message: message.replace('for provider standard', 'for a Standard Webhooks signing secret'), input: undefined });
  }),
);

function urlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute https URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an absolute https URL';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (sign with secretName instead)';
  if (url.hash !== '') return 'must not have a #fragment';
  return undefined;
}

const http = z
  .strictObject({
    type: z.literal('http'),
    url: doc(
      'Where events are POSTed. https is required; http only in local and test configs. Loopback hosts only in local mode.',
      z.string({ error: 'must be an absolute https URL' }).check(
        z.superRefine((value, ctx) => {
          const message = urlProblem(value);
          if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: undefined });
        }),
      ),
    ),
    secretName: doc(
      'Secrets Manager secret holding the Standard Webhooks signing secret(s): one `whsec_...` string, or JSON {"secrets": ["new", "old"]} during a rotation (one signature per secret).',
      z.optional(text()),
    ),
    secrets: doc(
      'Inline signing secrets (`whsec_...`), local and test environments only.',
      z.optional(z.array(signingSecret, { error: 'must be a non-empty list of strings' }).check(z.minLength(1, { error: 'must be a non-empty list of strings' }))),
    ),
    allowPrivateNetwork: doc(
      'Allow private addresses (RFC 1918, 100.64/10, fc00::/7): an internal service. Link-local, metadata, loopback and reserved addresses are refused whatever this says.',
      z._default(z.boolean({ error: 'must be true or false' }), false),
    ),
    ...commonFields,
  })
  .check(
    z.superRefine(
      (dest, ctx) => {
        if (dest.secrets !== undefined && dest.secretName !== undefined) ctx.addIssue({ code: 'custom', path: [], message: 'give either secrets or secretName, not both', input: undefined });
        if (dest.secrets === undefined && dest.secretName === undefined) ctx.addIssue({ code: 'custom', path: ['secretName'], message: 'is required: outbound requests are always signed', input: undefined });
        if (typeof dest.url !== 'string' || urlProblem(dest.url) !== undefined) return;
        const literal = literalAddress(new URL(dest.url).hostname);
        // Loopback is judged per environment (refused for deployed ones, configDestinationProblems).
        const refusal = literal === undefined ? undefined : addressRefusal(literal, { allowPrivateNetwork: dest.allowPrivateNetwork === true, allowLoopback: true });
        if (refusal !== undefined) {
          const hint = refusal === 'private' ? ' (set allowPrivateNetwork for an internal service)' : '';
          ctx.addIssue({ code: 'custom', path: ['url'], message: `is a refused address (${refusal})${hint}`, input: undefined });
        }
      },
      { when: () => true },
    ),
  );

const lambda = z
  .strictObject({
    type: z.literal('lambda'),
    entry: doc('A module exporting `handlers` (defineHandlers, as lambda/processor/routes.ts): hookgate bundles it as this destination\'s function. Relative to the config file\'s project.', z.optional(text())),
    functionArn: doc('An existing function, invoked with the decrypted event (RequestResponse).', z.optional(text())),
    maxReceiveCount: doc('For `entry`: receives before a message moves to the DLQ.', z._default(wholeNumber(1, 1000), 5)),
    memorySize: doc('For `entry`: the function\'s memory, MB.', z._default(wholeNumber(128, 10_240), 256)),
    ...commonFields,
  })
  .check(
    z.superRefine(
      (dest, ctx) => {
        if ((dest.entry === undefined) === (dest.functionArn === undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'a lambda destination needs exactly one of entry or functionArn', input: undefined });
        if (typeof dest.functionArn === 'string' && !/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/.test(dest.functionArn)) {
          ctx.addIssue({ code: 'custom', path: ['functionArn'], message: 'must be a Lambda function ARN', input: undefined });
        }
      },
      { when: () => true },
    ),
  );

const eventbridge = z.strictObject({
  type: z.literal('eventbridge'),
  busName: doc('The event bus: its name or ARN (another account\'s bus by ARN).', text()),
  detailType: doc('The events\' DetailType.', z._default(text(), 'hookgate.webhook')),
  ...commonFields,
});

/** One destination of a source. */
export const destinationSchema = z.discriminatedUnion('type', [http, lambda, eventbridge], {
  error: (issue): string | undefined => (issue.code === 'invalid_union' ? 'must be http, lambda or eventbridge' : undefined),
});

/** A source's destinations, by name. */
export const destinationsSchema = z.record(z.string(), destinationSchema, { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object of destinations by name' : undefined) }).check(
  z.superRefine(
    (destinations, ctx) => {
      for (const name of Object.keys(destinations)) {
        if (!DESTINATION_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: DESTINATION_NAME_RULE, input: name });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  ),
);

export type DestinationConfigInput = z.input<typeof destinationSchema>;
export type DestinationConfig = z.infer<typeof destinationSchema>;
export type HttpDestinationConfig = Extract<DestinationConfig, { type: 'http' }>;
export type LambdaDestinationConfig = Extract<DestinationConfig, { type: 'lambda' }>;
export type EventBridgeDestinationConfig = Extract<DestinationConfig, { type: 'eventbridge' }>;

/** A destination with its name and its source's, as the delivery function sees it (no secret values). */
export type NamedDestination = DestinationConfig & { readonly name: string; readonly source: string };

/** True when an event of `eventType` goes to a destination with this filter (undefined: every event). */
export function matchesEvents(events: readonly string[] | undefined, eventType: string | undefined): boolean {
  if (events === undefined) return true;
  return events.some((pattern) => {
    if (pattern === '*') return true;
    if (eventType === undefined) return false;
    if (pattern.endsWith('.*')) return eventType.startsWith(pattern.slice(0, -1));
    return eventType === pattern;
  });
}

/** The destination as its function sees it: every field except secret values. */
export function publicDestination(destination: NamedDestination): NamedDestination {
  if (destination.type !== 'http') return destination;
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- dropped on purpose: secret values
  const { secrets, ...rest } = destination;
  return rest;
}

/**
 * What a deployed environment refuses in a destination that local and test configs allow:
 * inline signing secrets, plain http and loopback hosts. Each problem names its field.
 */
export function deployedDestinationProblems(destination: unknown): { readonly field: string; readonly message: string }[] {
  if (typeof destination !== 'object' || destination === null) return [];
  const dest = destination as Record<string, unknown>;
  const problems: { field: string; message: string }[] = [];
  if (dest.type !== 'http') return problems;
  if (dest.secrets !== undefined) problems.push({ field: 'secrets', message: 'deployed environments must not hold secret values; use secretName' });
  if (typeof dest.url === 'string' && urlProblem(dest.url) === undefined) {
    const url = new URL(dest.url);
    if (url.protocol !== 'https:') problems.push({ field: 'url', message: 'must use https (http is for local and test configs only)' });
    const literal = literalAddress(url.hostname);
    if ((literal !== undefined && addressRefusal(literal, { allowPrivateNetwork: true, allowLoopback: false }) === 'loopback') || url.hostname === 'localhost') {
      problems.push({ field: 'url', message: 'is a refused address (loopback is for local mode only)' });
    }
  }
  return problems;
}
