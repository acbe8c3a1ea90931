/**
 * The developer-facing API of a processor: one function per source and event type, written
 * against a decrypted {@link WebhookEvent}. Delivery is at-least-once: a rare re-enqueue (a
 * verifier crash after SQS accepted the message, a processor timeout, a retry after a partial
 * failure) hands the same event to a handler again, so every handler must be idempotent on
 * `dedupeKey` (for example a conditional write keyed by it before any side effect).
 */

/** A minimal structured logger; Powertools' Logger fits it. Attributes must never hold a body. */
export interface ProcessorLogger {
  info(message: string, attributes: LogFields): void;
  warn(message: string, attributes: LogFields): void;
  error(message: string, attributes: LogFields): void;
}

/** Structured log fields: metadata only (names, ids, counts), never payload content. */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * One verified, decrypted webhook as a processor sees it. Every field comes from what the
 * verifier sealed with the body (envelope encryption, authenticated): nothing is read from the
 * SQS message attributes, which anyone allowed to send to the queue could write.
 */
export interface WebhookEvent {
  /** The source name (the URL path segment it was received on). */
  readonly source: string;
  /**
   * `<source>:<provider id>` or `<source>:hmac-sha256:<hex>`: the key handlers must be idempotent
   * on. Providers whose id is not covered by their signature and that sign no timestamp (GitHub,
   * Shopify, Twilio, `hmac` without `timestampHeader`) dedupe on the body hash, so a replay of
   * a captured request under a new id is a duplicate (docs/providers.md).
   */
  readonly dedupeKey: string;
  /** The provider's event or delivery id, when it sent one (for logs; not necessarily signed). */
  readonly eventId?: string;
  /**
   * The provider's event type, when it sent one (routes to the matching handler). Check
   * {@link typeSigned} before trusting it for anything that matters.
   */
  readonly eventType?: string;
  /**
   * True when the signature covered {@link eventType}: it was read from the signed body (Stripe
   * `type`, Slack `event.type`). False when it came from a header the signature does not cover
   * (GitHub `X-GitHub-Event`, Shopify `X-Shopify-Topic`) or there is none: whoever holds one
   * signed request can resend its body under any type once the dedupe window has passed, so a
   * handler that does something sensitive for a type (deleting data, `customers/redact`) must
   * check the body is consistent with that type.
   */
  readonly typeSigned: boolean;
  /** When the verifier accepted the request (ISO 8601). */
  readonly receivedAt: string;
  /**
   * Set when the event is a replay (`hookgate replay`, audited): the replay's id. The body, the
   * dedupe key and everything else are the original's, so an idempotent handler treats a replay
   * of an event it already handled as the duplicate it is. A hint, like the type: anyone who may
   * send to the queue could set it.
   */
  readonly replayId?: string;
  /**
   * A safe subset of the request headers, sealed with the body by the verifier, lower-case
   * names: content type and encoding, user agent, the providers' event, topic and delivery ids
   * (safe-headers.ts); never signatures, tokens or timestamps. The same on AWS and locally.
   * Like the type, the id and topic headers are as the sender wrote them, not signed.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact bytes the provider sent. */
  readonly body: Buffer;
  /** The body parsed as JSON (parsed on first call, then cached). Throws on a non-JSON body. */
  json<T = unknown>(): T;
  /** The body parsed as `application/x-www-form-urlencoded` (Twilio). */
  form(): URLSearchParams;
}

/** What a handler gets besides the event. */
export interface HandlerContext {
  readonly logger: ProcessorLogger;
  /** How many times SQS has delivered this message (1 on the first delivery). */
  readonly attempt: number;
}

/**
 * Handles one event. Resolving means done (the message is deleted); throwing means retry (the
 * message reappears after the visibility timeout and moves to the DLQ after maxReceiveCount).
 */
export type EventHandler = (event: WebhookEvent, context: HandlerContext) => Promise<void> | void;

/** Handlers of one source, by event type; `'*'` catches the types not listed. */
export type SourceHandlers = Readonly<Record<string, EventHandler>>;

/** Handlers by source name; a `'*'` source catches the sources not listed. */
export type HandlerTable = Readonly<Record<string, SourceHandlers>>;

/** A handler table ready for routing. */
export interface Handlers {
  /** The table it was defined from (local mode re-defines it with the sink as fallback). */
  readonly table: HandlerTable;
  /** The handler for an event, most specific first: source+type, source+`*`, `*`+type, `*`+`*`, fallback. */
  resolve(source: string, eventType: string | undefined): EventHandler;
}

/** Options of {@link defineHandlers}. */
export interface DefineHandlersOptions {
  /** Runs when no entry of the table matches. @default {@link logMetadata} */
  readonly fallback?: EventHandler;
}

/**
 * The default handler: logs the event's metadata (source, ids, type, size) and never its body
 * or headers, so an unrouted event leaves a trace without putting PHI in the logs.
 */
export const logMetadata: EventHandler = (event, { logger }) => {
  logger.info('webhook processed', {
    source: event.source,
    eventId: event.eventId,
    dedupeKey: event.dedupeKey,
    eventType: event.eventType,
    size: event.body.length,
  });
};

function lookup<V>(table: Readonly<Record<string, V>> | undefined, key: string | undefined): V | undefined {
  // Own properties only: an event type such as `constructor` must not reach Object.prototype.
  if (table === undefined || key === undefined || !Object.prototype.hasOwnProperty.call(table, key)) return undefined;
  return table[key];
}

/**
 * Declares the processors of a deployment.
 *
 * @example
 * ```ts
 * export const handlers = defineHandlers({
 *   stripe: {
 *     'payment_intent.succeeded': async (event) => recordPayment(event.dedupeKey, event.json<Stripe.Event>()),
 *     '*': logMetadata,
 *   },
 * });
 * ```
 */
export function defineHandlers(table: HandlerTable, options: DefineHandlersOptions = {}): Handlers {
  const fallback = options.fallback ?? logMetadata;
  return {
    table,
    resolve(source, eventType) {
      const forSource = lookup(table, source);
      const any = lookup(table, '*');
      return (
        lookup(forSource, eventType) ??
        lookup(forSource, '*') ??
        lookup(any, eventType) ??
        lookup(any, '*') ??
        fallback
      );
    },
  };
}
