import { createHash } from 'node:crypto';

/**
 * The contract between the parts of outbound delivery: the delivery engine (queue, retries,
 * circuit breaker, history: engine.ts) and the targets that make one attempt (http.ts,
 * lambda-target.ts, eventbridge-target.ts). A target never retries, sleeps or touches the queue:
 * it makes one attempt and says what the answer means.
 */

/** One event as a destination receives it: the sealed facts, the exact body, the safe headers. */
export interface DeliveryEvent {
  readonly source: string;
  readonly destination: string;
  readonly dedupeKey: string;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly typeSigned: boolean;
  /** ISO 8601 time the verifier received the request. */
  readonly receivedAt: string;
  /** The raw request body, byte for byte. */
  readonly body: Buffer;
  /** The safe request headers (lower-case names), content-type among them when the provider sent one. */
  readonly headers: Readonly<Record<string, string>>;
  /** Set when the event is a replay (the history issue's `hookgate replay`): its id. */
  readonly replayId?: string;
}

/** What one attempt's answer means for the event. */
export type Verdict =
  /** 2xx, or the call succeeded: done. */
  | 'delivered'
  /** 5xx, 3xx, 408, 409, 425, 429, timeout, network error: try again after a backoff. */
  | 'retry'
  /** Any other 4xx: the receiver refuses this event for good; the DLQ at once. */
  | 'reject'
  /** 410 Gone: the receiver is gone; pause the destination, page on-call, keep the event. */
  | 'gone'
  /** The SSRF guard refused every address the host resolved to: the DLQ at once. */
  | 'refused-address';

/** The outcome of one attempt. Never a body or a header value. */
export interface AttemptResult {
  readonly verdict: Verdict;
  /** HTTP status, when there was an answer. */
  readonly statusCode?: number;
  /** A short class for logs, metrics and the history: `timeout`, `ECONNREFUSED`, `http-503`, `metadata`... */
  readonly errorClass?: string;
  /** Milliseconds from the start of the attempt to its answer (or failure). */
  readonly latencyMs: number;
  /** Seconds the receiver asked to wait (Retry-After on 429 and 503), capped by the engine. */
  readonly retryAfterSeconds?: number;
}

/** What the engine tells a target about the attempt. */
export interface AttemptContext {
  /** 1 for the first attempt (SQS ApproximateReceiveCount). */
  readonly attempt: number;
  /** The per-attempt timeout (the destination's timeoutSeconds). */
  readonly timeoutMs: number;
}

/** Makes one attempt to one destination. */
export interface Target {
  deliver(event: DeliveryEvent, context: AttemptContext): Promise<AttemptResult>;
}

/**
 * The Standard Webhooks `webhook-id` of an event: stable across retries and replays of the same
 * event (it derives from the dedupe key only), opaque (a dedupe key may be a provider's id, which
 * a receiver has no need for), and the same for every destination of the event.
 */
export function webhookIdOf(dedupeKey: string): string {
  return `msg_${createHash('sha256').update(dedupeKey).digest('base64url').slice(0, 27)}`;
}

/** Headers hookgate adds to every outbound `http` request (besides the Standard Webhooks three). */
export const OUTBOUND_HEADERS = {
  source: 'hookgate-source',
  eventType: 'hookgate-event-type',
  replay: 'hookgate-replay',
} as const;
