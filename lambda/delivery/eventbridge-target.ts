import { isUtf8 } from 'node:buffer';
import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { EventBridgeDestinationConfig } from '../config/destinations';
import { type Clock, monotonic, timedCall } from './aws-call';
import type { BodyRef } from './body-ref';
import type { AttemptResult, DeliveryEvent, Target, Verdict } from './contract';
import { type EventFacts, eventFacts } from './event-facts';

/**
 * The `eventbridge` destination: one attempt is one PutEvents of one entry to the destination's
 * bus (name, or ARN for another account's bus), with Source `hookgate.<source>`, DetailType the
 * destination's `detailType`, and Detail an {@link EventBridgeDetail}.
 *
 * Size: EventBridge refuses an entry over 256 KB, counted as AWS documents it
 * ({@link putEventsEntrySize}). The detail carries, in this order of preference:
 * 1. the body and, for a JSON body, the parsed `payload` (so rules can match on its fields);
 * 2. the body alone, when the payload would not fit with it;
 * 3. a `bodyRef` instead of the body, when even the body alone would not fit: `storeBody` stores
 *    it sealed in the payload bucket (body-ref.ts), and `fetchEventBody` reads it back.
 * Rules that must see every event should match on the event facts (`detail.eventType`,
 * `detail.source`), which are always there, not on `detail.payload`.
 *
 * What each answer means:
 * - an EventId for the entry: delivered;
 * - ThrottlingException, InternalFailure, a 5xx, a timeout, a network error: retry;
 * - a missing bus or permission (ResourceNotFoundException, AccessDeniedException,
 *   NotAuthorizedForSourceException, NotAuthorizedForDetailTypeException...): retry too, so
 *   on-call can fix the configuration within the retry window without losing an event;
 * - an entry EventBridge will never take (InvalidArgument, MalformedDetail, a request-level
 *   ValidationException), or one too large even by reference: reject, the DLQ at once.
 */

/** The `detail` of the events hookgate puts on a bus: the event's facts, and its body or where it is. */
export interface EventBridgeDetail extends EventFacts {
  /**
   * The exact body: UTF-8 text when it is valid UTF-8, else base64 (see {@link bodyEncoding}).
   * Absent when the event carries {@link bodyRef} instead.
   */
  readonly body?: string;
  readonly bodyEncoding?: 'utf-8' | 'base64';
  /**
   * The body parsed, for rules: present when the content type is JSON, the body parses, and the
   * event fits with it. Read {@link body} for the exact bytes (parsing loses precision of large
   * numbers, and the order of duplicate keys).
   */
  readonly payload?: unknown;
  /** Where the body is, when the event would not fit with it: read it with body-ref.ts `fetchEventBody`. */
  readonly bodyRef?: BodyRef;
}

/** An `eventbridge` destination as its delivery function sees it. */
export type EventBridgeDestination = EventBridgeDestinationConfig & { readonly name: string; readonly source: string };

/** Options of {@link createEventBridgeTarget}. */
export interface EventBridgeTargetOptions {
  readonly destination: EventBridgeDestination;
  /** An EventBridge client; give it `maxAttempts: 1`, the delivery engine retries. */
  readonly eventBridge: EventBridgeClient;
  /** Stores a body too large for an event (body-ref.ts `storeEventBody` with the payload bucket). */
  readonly storeBody: (event: DeliveryEvent) => Promise<BodyRef>;
  /** Largest entry, bytes as {@link putEventsEntrySize} counts them. @default 262144 (EventBridge's 256 KB) */
  readonly maxEntryBytes?: number;
  /** Clock for the attempt's latency, ms. @default performance.now */
  readonly now?: Clock;
}

/** EventBridge's limit on one PutEvents entry. */
export const MAX_ENTRY_BYTES = 256 * 1024;

/** A bus name or ARN as PutEvents accepts it (EventBusName: 1 to 256 characters of this pattern). */
const BUS = /^(arn:aws[\w-]*:events:[a-z]{2}-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/.\-_A-Za-z0-9]+$/;

/** JSON nesting PutEvents accepts, less the detail's own level and a margin. */
const MAX_PAYLOAD_DEPTH = 1000;

/** Entry error codes a retry can never get past (PutEventsResultEntry.ErrorCode). */
const REJECTED_ENTRY = new Set(['InvalidArgument', 'MalformedDetail']);
/** Request errors a retry of the same entry can never get past. */
const REJECTED_CALL = new Set(['ValidationException']);

/**
 * The size of a PutEvents entry as EventBridge counts it: 14 bytes for Time when set, plus the
 * UTF-8 bytes of Source, DetailType, Detail and each of Resources.
 */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined): number => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));
  let size = entry.Time === undefined ? 0 : 14;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  for (const resource of entry.Resources ?? []) size += bytes(resource);
  return size;
}

function isJson(headers: Readonly<Record<string, string>>): boolean {
  return /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(headers['content-type'] ?? '');
}

function depthOf(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) {
    deepest = Math.max(deepest, depthOf(child, limit - 1));
    if (deepest >= limit) break;
  }
  return deepest + 1;
}

/** The body parsed, for a JSON body that parses and is not nested deeper than PutEvents reads. */
function payloadOf(event: DeliveryEvent, text: string | undefined): { readonly payload: unknown } | undefined {
  if (text === undefined || !isJson(event.headers)) return undefined;
  try {
    const payload = JSON.parse(text) as unknown;
    return depthOf(payload, MAX_PAYLOAD_DEPTH) >= MAX_PAYLOAD_DEPTH ? undefined : { payload };
  } catch {
    return undefined;
  }
}

/** Creates the target of an `eventbridge` destination (see the module comment). */
export function createEventBridgeTarget(options: EventBridgeTargetOptions): Target {
  const { destination, eventBridge } = options;
  // Checked here rather than refused by PutEvents as a ValidationException for every event.
  if (!BUS.test(destination.busName) || destination.busName.length > 256) throw new Error(`destination ${destination.name}: busName is not an event bus name or ARN`);
  const maxEntryBytes = options.maxEntryBytes ?? MAX_ENTRY_BYTES;
  const entryOf = (detail: EventBridgeDetail): PutEventsRequestEntry => ({
    EventBusName: destination.busName,
    Source: `hookgate.${destination.source}`,
    DetailType: destination.detailType,
    Detail: JSON.stringify(detail),
  });
  const fits = (entry: PutEventsRequestEntry): boolean => putEventsEntrySize(entry) <= maxEntryBytes;

  /** The largest form of the event that fits, storing the body when only a reference fits. */
  async function entryFor(event: DeliveryEvent): Promise<PutEventsRequestEntry> {
    const facts = eventFacts(event);
    const text = isUtf8(event.body) ? event.body.toString('utf8') : undefined;
    const body = text !== undefined ? { body: text, bodyEncoding: 'utf-8' as const } : { body: event.body.toString('base64'), bodyEncoding: 'base64' as const };
    const parsed = payloadOf(event, text);
    if (parsed !== undefined) {
      const full = entryOf({ ...facts, ...body, ...parsed });
      if (fits(full)) return full;
    }
    const inline = entryOf({ ...facts, ...body });
    if (fits(inline)) return inline;
    return entryOf({ ...facts, bodyRef: await options.storeBody(event) });
  }

  return {
    async deliver(event, context): Promise<AttemptResult> {
      // The attempt's time and timeout include storing a large body.
      const outcome = await timedCall(
        async (abortSignal) => {
          const entry = await entryFor(event);
          if (!fits(entry)) return 'too-large' as const;
          return eventBridge.send(new PutEventsCommand({ Entries: [entry] }), { abortSignal });
        },
        context.timeoutMs,
        options.now ?? monotonic,
      );
      const { latencyMs } = outcome;
      if (!outcome.ok) {
        const verdict: Verdict = REJECTED_CALL.has(outcome.error.errorClass) ? 'reject' : 'retry';
        return { verdict, ...outcome.error, latencyMs };
      }
      if (outcome.output === 'too-large') return { verdict: 'reject', errorClass: 'entry-too-large', latencyMs };
      const result = outcome.output.Entries?.[0];
      if ((outcome.output.FailedEntryCount ?? 0) === 0 && result?.EventId !== undefined) {
        const statusCode = outcome.output.$metadata.httpStatusCode;
        return { verdict: 'delivered', latencyMs, ...(statusCode !== undefined ? { statusCode } : {}) };
      }
      const errorClass = result?.ErrorCode ?? 'unknown';
      return { verdict: REJECTED_ENTRY.has(errorClass) ? 'reject' : 'retry', errorClass, latencyMs };
    },
  };
}
