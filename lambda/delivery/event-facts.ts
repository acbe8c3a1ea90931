import { type DeliveryEvent, webhookIdOf } from './contract';

/**
 * What a `lambda` (functionArn) or `eventbridge` destination is told about an event besides its
 * body: the sealed facts, the safe headers, and the ids to be idempotent on. Never a signature,
 * a token or a provider secret.
 */
export interface EventFacts {
  /** The source name (the URL path segment the webhook came in on). */
  readonly source: string;
  /** The destination's name. */
  readonly destination: string;
  /** The key to be idempotent on: the same for every retry and replay of the event. */
  readonly dedupeKey: string;
  /** The event's Standard Webhooks id (contract.ts `webhookIdOf`), as `http` destinations get it. */
  readonly webhookId: string;
  /** The provider's event or delivery id, when it sent one. */
  readonly eventId?: string;
  /** The provider's event type, when it sent one; see {@link typeSigned}. */
  readonly eventType?: string;
  /** True when the provider's signature covered `eventType` (read from the signed body). */
  readonly typeSigned: boolean;
  /** When hookgate received the webhook (ISO 8601). */
  readonly receivedAt: string;
  /** The safe request headers (content type, user agent, provider ids), lower-case names; never signatures. */
  readonly headers: Readonly<Record<string, string>>;
  /** Set when the event is a replay: its id. */
  readonly replayId?: string;
}

/** The facts of `event`, leaving out the optional ones it does not have. */
export function eventFacts(event: DeliveryEvent): EventFacts {
  return {
    source: event.source,
    destination: event.destination,
    dedupeKey: event.dedupeKey,
    webhookId: webhookIdOf(event.dedupeKey),
    ...(event.eventId !== undefined ? { eventId: event.eventId } : {}),
    ...(event.eventType !== undefined ? { eventType: event.eventType } : {}),
    typeSigned: event.typeSigned,
    receivedAt: event.receivedAt,
    headers: event.headers,
    ...(event.replayId !== undefined ? { replayId: event.replayId } : {}),
  };
}
