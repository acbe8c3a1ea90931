import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { NamedDestination } from '../config/destinations';
import { IngestError, neverOpens } from '../ingest/errors';
import { ATTR, type OpenedMessage, replayIdOf } from '../ingest/message';
import type { LogFields, ProcessorLogger } from '../processor/api';
import { errorName } from '../runtime/error-names';
import { METRICS } from '../runtime/telemetry';
import { backoffSeconds, type Hold, holdSeconds, untilWindowEnd } from './backoff';
import type { CircuitState, CircuitStore, Probe } from './circuit';
import type { AttemptResult, DeliveryEvent, Target } from './contract';
import type { HistoryStore } from './history';

/**
 * The delivery engine: consumes one destination's queue and drives attempts through its Target.
 *
 * - Records are attempted one at a time per invocation, so the attempts in flight are the event
 *   source mapping's maxConcurrency (the destination's maxInFlight).
 * - A failed attempt waits its backoff in the queue (ChangeMessageVisibility, then reported
 *   failed), never in a sleeping Lambda. Past the retry window (from the first receive), a
 *   message goes to the destination's DLQ, checked before anything else, so that even a message
 *   that crashes the function every time leaves at the window's end.
 * - The circuit breaker (circuit.ts) is read once per invocation, and again after a failure.
 *   While it is open or the destination is paused, messages wait without an attempt. SQS moves a
 *   message to the DLQ after the queue's maxReceiveCount (1000 at most), and every wait is a
 *   receive: waits grow with the receive count (backoff.ts `holdFloorSeconds`), so a message held
 *   for its whole window uses at most 500 receives and reaches the DLQ by the window check.
 * - Rate: with maxPerSecond, each execution environment starts attempts at most
 *   maxPerSecond / maxInFlight per second (pacing kept across its invocations); at most
 *   maxInFlight environments run at once, so the destination sees at most maxPerSecond.
 * - Every attempt is recorded in the history (history.ts); a history failure never fails a delivery.
 *
 * At-least-once: a record is reported done only after its attempt was delivered or it was
 * copied to the DLQ; a crash at any point leaves it on the queue (a rare duplicate, never a loss).
 */

/** The metrics counted by the engine (dimensions source and destination). */
export type DeliveryCountName =
  | typeof METRICS.delivered
  | typeof METRICS.deliveryFailures
  | typeof METRICS.deliveryRejected
  | typeof METRICS.retriesExhausted
  | typeof METRICS.addressRefused
  | typeof METRICS.destinationGone
  | typeof METRICS.circuitOpened
  | typeof METRICS.circuitClosed
  | typeof METRICS.deadLettered
  | typeof METRICS.deliveryHistoryFailures;

/** Where the engine's metrics go; the AWS entry point backs it with Powertools Metrics (EMF). */
export interface DeliveryMetrics {
  count(name: DeliveryCountName, value: number): void;
  /** Milliseconds of one attempt ({@link METRICS.deliveryLatency}). */
  latency(ms: number): void;
  /** Called once per invocation, after the batch. */
  flush(): void;
}

/** The destination's queue, as the engine acts on its records. */
export interface DeliveryQueue {
  /** Makes the record visible again in `seconds` (SQS ChangeMessageVisibility). */
  changeVisibility(record: SQSRecord, seconds: number): Promise<void>;
  /** Copies the record to the destination's DLQ with a reason (ingest/dead-letter.ts). */
  deadLetter(record: SQSRecord, reason: string): Promise<void>;
}

/** What the engine needs; all I/O is passed in. */
export interface DeliveryDeps {
  readonly destination: NamedDestination;
  /** Opens one record (ingest/message.ts openMessage, bound to the destination's source). */
  readonly open: (record: SQSRecord) => Promise<OpenedMessage>;
  readonly target: Target;
  readonly circuit: CircuitStore;
  readonly history: HistoryStore;
  readonly queue: DeliveryQueue;
  readonly metrics: DeliveryMetrics;
  readonly logger: ProcessorLogger;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** A number in [0, 1) for the jitter. @default Math.random */
  readonly random?: () => number;
  /** Waits for the rate pacing. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Time an invocation keeps beyond an attempt's timeout for the rest of the record's work (open,
 * history, breaker, queue). An attempt is started only when the invocation has at least
 * timeoutSeconds + this left: the function's timeout must be longer than that, or nothing is
 * ever attempted.
 */
export const ATTEMPT_MARGIN_MS = 5000;

/** Reasons given to the DLQ (attribute hookgateDeadLetterReason). */
export const DELIVERY_DLQ_REASON = {
  retriesExhausted: 'retries-exhausted',
  refusedAddress: 'refused-address',
  /** `rejected-<status>` (or `rejected` when there was no status). */
  rejected: (statusCode: number | undefined): string => (statusCode === undefined ? 'rejected' : `rejected-${statusCode}`),
} as const;

/**
 * Rate pacing in one execution environment: at most maxInFlight environments run at once (the
 * event source mapping's maxConcurrency), and each starts its attempts at least
 * maxInFlight / maxPerSecond seconds apart, so the destination sees at most maxPerSecond
 * attempts per second in total. Kept across invocations of the environment.
 */
function createPacer(destination: NamedDestination, now: () => number): { delay(): number; started(): void } {
  const intervalMs = destination.maxPerSecond === undefined ? 0 : (1000 * destination.maxInFlight) / destination.maxPerSecond;
  let nextAt = 0;
  return {
    delay: () => Math.max(0, nextAt - now()),
    started: () => void (nextAt = Math.max(nextAt, now()) + intervalMs),
  };
}

/** How a record may proceed given the breaker. */
type Admission = { readonly kind: 'attempt'; readonly probe?: Probe } | { readonly kind: 'hold'; readonly hold: Hold };

/** What became of one record: done (delete it), failed (it comes back), or not started for lack of time. */
type Disposal = 'done' | 'failed' | 'no-time';

/** The error's class (and hookgate code), never its message. */
function describe(err: unknown): LogFields {
  return err instanceof IngestError ? { error: err.name, code: err.code } : { error: errorName(err) };
}

/** Creates the delivery Lambda handler of one destination (see the module comment). */
export function createDeliveryHandler(deps: DeliveryDeps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const { destination, logger, metrics, circuit } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const pacer = createPacer(destination, now);
  const timeoutMs = destination.timeoutSeconds * 1000;
  const windowMs = destination.retryWindowHours * 3_600_000;
  const { failureThreshold, openSeconds } = destination.circuitBreaker;
  // A probe's claim outlives its attempt and the work around it; a probe that never ends frees itself then.
  const probeLeaseMs = timeoutMs + 2 * ATTEMPT_MARGIN_MS;

  /** The breaker as this invocation knows it. */
  interface Breaker {
    state: CircuitState;
  }

  async function readBreaker(): Promise<CircuitState> {
    try {
      return await circuit.read();
    } catch (err) {
      // The breaker protects the destination; DynamoDB trouble must not stop deliveries to a healthy one.
      logger.warn('circuit breaker state not read; delivering as if closed', describe(err));
      return { state: 'closed', failures: 0 };
    }
  }

  /** Decides without claiming: attempt when closed, else wait for the reason's end. */
  function admitKnown(state: CircuitState, at: number): Admission {
    switch (state.state) {
      case 'closed':
        return { kind: 'attempt' };
      case 'paused':
        return { kind: 'hold', hold: { kind: 'paused' } };
      case 'open':
        return { kind: 'hold', hold: { kind: 'breaker', untilMs: Math.max(at, state.openUntil) } };
      case 'half-open':
        return { kind: 'hold', hold: { kind: 'breaker', untilMs: Math.max(at, state.probeUntil) } };
    }
  }

  async function admit(breaker: Breaker): Promise<Admission> {
    const { state } = breaker;
    const at = now();
    const due = (state.state === 'open' && state.openUntil <= at) || (state.state === 'half-open' && state.probeUntil <= at);
    if (!due) return admitKnown(state, at);
    try {
      const probe = await circuit.claimProbe({ nowMs: at, leaseMs: probeLeaseMs });
      if (probe !== undefined) return { kind: 'attempt', probe };
      breaker.state = await circuit.read();
    } catch (err) {
      logger.warn('circuit breaker probe not claimed; the message waits', describe(err));
      return { kind: 'hold', hold: { kind: 'breaker', untilMs: at } };
    }
    // Another invocation won the probe: wait for its outcome (or for the state that replaced it).
    return admitKnown(breaker.state, at);
  }

  async function wait(record: SQSRecord, seconds: number, fields: LogFields): Promise<void> {
    try {
      await deps.queue.changeVisibility(record, seconds);
    } catch (err) {
      // The record still comes back, after the queue's visibility timeout.
      logger.warn('message visibility not changed; it returns after the queue visibility timeout', { ...fields, ...describe(err) });
    }
  }

  async function deadLetter(record: SQSRecord, reason: string, metric: DeliveryCountName, fields: LogFields): Promise<Disposal> {
    try {
      await deps.queue.deadLetter(record, reason);
    } catch (err) {
      // Never dropped: the record stays on the queue and is handled again when it returns.
      logger.error('message not moved to the DLQ; it will be handled again', { ...fields, reason, moveError: errorName(err) });
      return 'failed';
    }
    metrics.count(metric, 1);
    logger.error('message moved to the DLQ', { ...fields, reason });
    return 'done';
  }

  async function attempt(event: DeliveryEvent, attemptNumber: number): Promise<AttemptResult> {
    const start = now();
    try {
      return await deps.target.deliver(event, { attempt: attemptNumber, timeoutMs });
    } catch (err) {
      return { verdict: 'retry', errorClass: errorName(err), latencyMs: Math.max(0, now() - start) };
    }
  }

  /**
   * The history's last word on an event whose retry window ran out: so `events list --status
   * failed` finds it. The record was not opened (it may never open), so the key is the
   * attribute's: written only by the fan-out, the one writer of this queue.
   */
  async function recordExhausted(record: SQSRecord, receiveCount: number, fields: LogFields): Promise<void> {
    const dedupeKey = record.messageAttributes?.[ATTR.dedupeKey]?.stringValue;
    const source = record.messageAttributes?.[ATTR.source]?.stringValue;
    if (dedupeKey === undefined || source === undefined) return;
    const replayId = replayIdOf(record);
    try {
      await deps.history.record({
        dedupeKey,
        source,
        destination: destination.name,
        attempt: receiveCount,
        at: new Date(now()).toISOString(),
        latencyMs: 0,
        verdict: 'retries-exhausted',
        ...(replayId === undefined ? {} : { replayId }),
      });
    } catch (err) {
      logger.warn('retries-exhausted not recorded in the history', { ...fields, ...describe(err) });
      metrics.count(METRICS.deliveryHistoryFailures, 1);
    }
  }

  async function recordHistory(event: DeliveryEvent, attemptNumber: number, at: number, result: AttemptResult, fields: LogFields): Promise<void> {
    try {
      await deps.history.record({
        dedupeKey: event.dedupeKey,
        source: event.source,
        destination: destination.name,
        attempt: attemptNumber,
        at: new Date(at).toISOString(),
        latencyMs: result.latencyMs,
        verdict: result.verdict,
        ...(result.statusCode === undefined ? {} : { statusCode: result.statusCode }),
        ...(result.errorClass === undefined ? {} : { errorClass: result.errorClass }),
        ...(event.replayId === undefined ? {} : { replayId: event.replayId }),
      });
    } catch (err) {
      logger.warn('delivery attempt not recorded in the history', { ...fields, ...describe(err) });
      metrics.count(METRICS.deliveryHistoryFailures, 1);
    }
  }

  /**
   * What an attempt's verdict does to the breaker. The destination answered (delivered, or
   * rejected this event): healthy. No usable answer (retry, refused address): a failure. 410: paused.
   */
  async function updateBreaker(breaker: Breaker, result: AttemptResult, probe: Probe | undefined, fields: LogFields): Promise<void> {
    const healthy = result.verdict === 'delivered' || result.verdict === 'reject';
    const at = now();
    try {
      if (result.verdict === 'gone') {
        await circuit.pause('gone', at);
        breaker.state = { state: 'paused', failures: breaker.state.failures, reason: 'gone' };
        metrics.count(METRICS.destinationGone, 1);
        logger.error('destination answered 410 Gone; destination paused', fields);
      } else if (probe !== undefined) {
        if (await circuit.endProbe(probe, { healthy, nowMs: at, openSeconds })) {
          metrics.count(healthy ? METRICS.circuitClosed : METRICS.circuitOpened, 1);
          logger.warn(healthy ? 'circuit breaker closed after a successful probe' : 'circuit breaker opened again after a failed probe', fields);
          breaker.state = healthy ? { state: 'closed', failures: 0 } : { state: 'open', failures: breaker.state.failures + 1, openUntil: at + openSeconds * 1000 };
        } else {
          breaker.state = await circuit.read();
        }
      } else if (!healthy) {
        const outcome = await circuit.recordFailure({ nowMs: at, failureThreshold, openSeconds });
        breaker.state = outcome.state;
        if (outcome.opened) {
          metrics.count(METRICS.circuitOpened, 1);
          logger.warn('circuit breaker opened', { ...fields, failures: outcome.state.failures });
        }
      } else if (breaker.state.state === 'closed' && breaker.state.failures > 0) {
        await circuit.recordSuccess();
        breaker.state = { state: 'closed', failures: 0 };
      }
    } catch (err) {
      logger.warn('circuit breaker state not updated', { ...fields, ...describe(err) });
    }
  }

  /** Acts on the verdict: done, a backoff wait, a hold, or the DLQ. */
  async function settle(record: SQSRecord, result: AttemptResult, attemptNumber: number, windowEndMs: number, fields: LogFields): Promise<Disposal> {
    switch (result.verdict) {
      case 'delivered':
        metrics.count(METRICS.delivered, 1);
        logger.info('delivered', fields);
        return 'done';
      case 'retry': {
        metrics.count(METRICS.deliveryFailures, 1);
        const seconds = backoffSeconds({ ...destination, attempt: attemptNumber, retryAfterSeconds: result.retryAfterSeconds, random });
        const delaySeconds = untilWindowEnd(seconds, now(), windowEndMs);
        logger.warn('delivery attempt failed; it will be retried', { ...fields, delaySeconds });
        await wait(record, delaySeconds, fields);
        return 'failed';
      }
      case 'reject':
        return deadLetter(record, DELIVERY_DLQ_REASON.rejected(result.statusCode), METRICS.deliveryRejected, fields);
      case 'refused-address':
        return deadLetter(record, DELIVERY_DLQ_REASON.refusedAddress, METRICS.addressRefused, fields);
      case 'gone':
        await wait(record, holdSeconds({ hold: { kind: 'paused' }, nowMs: now(), receiveCount: attemptNumber, retryWindowSeconds: windowMs / 1000, random }), fields);
        return 'failed';
    }
  }

  async function unopenable(record: SQSRecord, err: unknown, fields: LogFields): Promise<Disposal> {
    if (!neverOpens(err)) {
      logger.error('message could not be opened; it will be retried', { ...fields, ...describe(err) });
      return 'failed';
    }
    return deadLetter(record, err.code, METRICS.deadLettered, { ...fields, ...describe(err) });
  }

  async function deliverRecord(record: SQSRecord, breaker: Breaker, context: Context): Promise<Disposal> {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
    const fields: LogFields = { messageId: record.messageId, attempt: receiveCount };
    const firstReceive = Number(record.attributes.ApproximateFirstReceiveTimestamp) || now();
    const windowEndMs = firstReceive + windowMs;
    // First, so that even a message that crashes the function every time leaves at the window's end.
    if (now() > windowEndMs) {
      const disposal = await deadLetter(record, DELIVERY_DLQ_REASON.retriesExhausted, METRICS.retriesExhausted, fields);
      if (disposal === 'done') await recordExhausted(record, receiveCount, fields);
      return disposal;
    }

    const admission = await admit(breaker);
    if (admission.kind === 'hold') {
      const seconds = holdSeconds({ hold: admission.hold, nowMs: now(), receiveCount, retryWindowSeconds: windowMs / 1000, random });
      await wait(record, untilWindowEnd(seconds, now(), windowEndMs), { ...fields, breaker: breaker.state.state });
      return 'failed';
    }

    let message: OpenedMessage;
    try {
      message = await deps.open(record);
    } catch (err) {
      return unopenable(record, err, fields);
    }
    const replayId = replayIdOf(record);
    const event: DeliveryEvent = {
      source: message.source,
      destination: destination.name,
      dedupeKey: message.dedupeKey,
      ...(message.eventId === undefined ? {} : { eventId: message.eventId }),
      ...(message.eventType === undefined ? {} : { eventType: message.eventType }),
      typeSigned: message.typeSigned,
      receivedAt: message.receivedAt,
      body: message.body,
      headers: message.headers,
      ...(replayId === undefined ? {} : { replayId }),
    };
    const eventFields: LogFields = { ...fields, dedupeKey: event.dedupeKey, eventId: event.eventId, replayId, probe: admission.probe !== undefined || undefined };

    const delayMs = pacer.delay();
    if (context.getRemainingTimeInMillis() - delayMs < timeoutMs + ATTEMPT_MARGIN_MS) return 'no-time';
    if (delayMs > 0) await sleep(delayMs);
    pacer.started();
    const at = now();
    const result = await attempt(event, receiveCount);
    metrics.latency(result.latencyMs);
    const resultFields: LogFields = { ...eventFields, verdict: result.verdict, statusCode: result.statusCode, errorClass: result.errorClass, latencyMs: result.latencyMs };
    await Promise.all([recordHistory(event, receiveCount, at, result, resultFields), updateBreaker(breaker, result, admission.probe, resultFields)]);
    return settle(record, result, receiveCount, windowEndMs, resultFields);
  }

  return async (event, context) => {
    const failed: string[] = [];
    try {
      const breaker: Breaker = { state: await readBreaker() };
      const records = event.Records;
      for (let i = 0; i < records.length; i += 1) {
        const record = records[i] as SQSRecord;
        let disposal: Disposal;
        try {
          disposal = context.getRemainingTimeInMillis() < ATTEMPT_MARGIN_MS ? 'no-time' : await deliverRecord(record, breaker, context);
        } catch (err) {
          logger.error('message not handled; it will be retried', { messageId: record.messageId, ...describe(err) });
          disposal = 'failed';
        }
        if (disposal === 'no-time') {
          // Handed back untouched: they return after the queue's visibility timeout.
          failed.push(...records.slice(i).map((r) => r.messageId));
          logger.warn('invocation near its timeout; records handed back', { handedBack: records.length - i });
          break;
        }
        if (disposal === 'failed') failed.push(record.messageId);
      }
    } finally {
      metrics.flush();
    }
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}
