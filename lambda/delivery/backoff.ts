/**
 * How long a destination's message waits before its next receive: pure functions over the
 * receive count, the destination's settings and an injected random source. The wait is set with
 * SQS ChangeMessageVisibility (engine.ts), never by sleeping in the Lambda.
 */

/**
 * Longest visibility the engine sets, seconds. SQS allows 12 hours counted from the receive, and
 * an invocation may have run up to 15 minutes since: 12 h minus 15 min always fits.
 */
export const MAX_VISIBILITY_SECONDS = 12 * 3600 - 15 * 60;

/**
 * Receives a message may spend waiting (breaker open or destination paused) within its retry
 * window. SQS moves a message to the DLQ after the queue's maxReceiveCount receives, at most
 * 1000: waits that grow with the receive count (see {@link holdFloorSeconds}) keep the waits of
 * a whole window under this many receives, leaving the rest for attempts.
 */
export const HOLD_RECEIVE_BUDGET = 500;

/** Jitter added to a wait for the breaker, seconds, so held messages do not all return at once. */
export const HOLD_JITTER_SECONDS = 5;

/** How long a message of a paused destination waits, seconds: a random time in this range. */
export const PAUSED_WAIT_SECONDS = { min: 5 * 60, max: 15 * 60 } as const;

/** A random number in [0, 1), as Math.random. */
export type Random = () => number;

/** A whole number of seconds from 0 to `max`, uniformly. */
function uniformSeconds(max: number, random: Random): number {
  return Math.min(max, Math.floor(random() * (max + 1)));
}

/** What {@link backoffSeconds} needs. */
export interface BackoffInput {
  /** 1 for the first attempt (the SQS receive count). */
  readonly attempt: number;
  readonly backoffBaseSeconds: number;
  readonly maxBackoffSeconds: number;
  /** What the receiver asked for (Retry-After), when it did. */
  readonly retryAfterSeconds?: number;
  readonly random: Random;
}

/**
 * The wait before the next attempt after a failed one, seconds: full jitter, a random time from 0
 * to min(maxBackoffSeconds, base x 2^(attempt-1)), but never less than the receiver's Retry-After
 * (itself capped at maxBackoffSeconds), and never more than SQS allows.
 */
export function backoffSeconds(input: BackoffInput): number {
  // 2^60 seconds exceeds any cap: a larger exponent changes nothing and could overflow.
  const exponent = Math.min(60, Math.max(0, input.attempt - 1));
  const cap = Math.min(input.maxBackoffSeconds, input.backoffBaseSeconds * 2 ** exponent);
  const jittered = uniformSeconds(Math.floor(cap), input.random);
  const asked = input.retryAfterSeconds === undefined || !Number.isFinite(input.retryAfterSeconds) ? 0 : Math.ceil(Math.max(0, input.retryAfterSeconds));
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(jittered, Math.min(asked, input.maxBackoffSeconds)));
}

/**
 * The shortest wait of a message held back (breaker open, probe in flight, destination paused)
 * on its `receiveCount`th receive, seconds: receiveCount x 2W / B², W the retry window in seconds
 * and B {@link HOLD_RECEIVE_BUDGET}. The waits of receives 1..B then add up to at least W, so a
 * message held for its whole window reaches the window's end (and the DLQ with reason
 * `retries-exhausted`) within B receives, well before SQS's maxReceiveCount (1000 at most) would
 * move it silently. Early receives barely notice it: for a 24 h window it is 0.7 s per receive.
 */
export function holdFloorSeconds(receiveCount: number, retryWindowSeconds: number): number {
  return Math.ceil((Math.max(1, receiveCount) * 2 * retryWindowSeconds) / HOLD_RECEIVE_BUDGET ** 2);
}

/** Why a message is held back, and until when the reason lasts. */
export type Hold =
  /** The breaker is open, or a probe is in flight, until `untilMs` (epoch ms). */
  | { readonly kind: 'breaker'; readonly untilMs: number }
  /** The destination is paused (by a person, or by a 410): no end known. */
  | { readonly kind: 'paused' };

/** What {@link holdSeconds} needs. */
export interface HoldInput {
  readonly hold: Hold;
  readonly nowMs: number;
  readonly receiveCount: number;
  readonly retryWindowSeconds: number;
  readonly random: Random;
}

/**
 * The wait of a message held back, seconds: until the breaker may let a probe through (plus up
 * to {@link HOLD_JITTER_SECONDS}), or 5 to 15 minutes while paused; never less than
 * {@link holdFloorSeconds}, never more than SQS allows.
 */
export function holdSeconds(input: HoldInput): number {
  const { hold, random } = input;
  const base =
    hold.kind === 'paused'
      ? PAUSED_WAIT_SECONDS.min + uniformSeconds(PAUSED_WAIT_SECONDS.max - PAUSED_WAIT_SECONDS.min, random)
      : Math.max(0, Math.ceil((hold.untilMs - input.nowMs) / 1000)) + uniformSeconds(HOLD_JITTER_SECONDS, random);
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(base, holdFloorSeconds(input.receiveCount, input.retryWindowSeconds)));
}

/**
 * A wait shortened so that the message is back when its retry window ends (one second after),
 * to reach the DLQ then rather than up to a whole backoff later.
 */
export function untilWindowEnd(seconds: number, nowMs: number, windowEndMs: number): number {
  return Math.max(0, Math.min(seconds, Math.ceil((windowEndMs - nowMs) / 1000) + 1));
}
