import {
  backoffSeconds,
  HOLD_JITTER_SECONDS,
  HOLD_RECEIVE_BUDGET,
  holdFloorSeconds,
  holdSeconds,
  MAX_VISIBILITY_SECONDS,
  PAUSED_WAIT_SECONDS,
  untilWindowEnd,
} from '../../lambda/delivery/backoff';
import { MAX_RETRY_WINDOW_HOURS } from '../../lambda/config/destinations';

const settings = { backoffBaseSeconds: 30, maxBackoffSeconds: 3600 };
const top = (): number => 0.999_999;
const bottom = (): number => 0;

describe('backoff with full jitter', () => {
  it('grows the cap as base x 2^(attempt-1) up to maxBackoffSeconds', () => {
    const caps = [1, 2, 3, 4, 7, 8, 9, 50].map((attempt) => backoffSeconds({ ...settings, attempt, random: top }));

    expect(caps).toEqual([30, 60, 120, 240, 1920, 3600, 3600, 3600]);
  });

  it('draws anywhere from 0 to the cap', () => {
    const draws = [0, 0.25, 0.5].map((r) => backoffSeconds({ ...settings, attempt: 3, random: () => r }));

    expect(draws).toEqual([0, 30, 60]);
  });

  it('never waits less than Retry-After, capped at maxBackoffSeconds', () => {
    expect(backoffSeconds({ ...settings, attempt: 1, retryAfterSeconds: 120, random: bottom })).toBe(120);
    expect(backoffSeconds({ ...settings, attempt: 1, retryAfterSeconds: 86_400, random: bottom })).toBe(3600);
    expect(backoffSeconds({ ...settings, attempt: 4, retryAfterSeconds: 5, random: top })).toBe(240);
  });

  it('stays within what SQS visibility allows, whatever the settings', () => {
    expect(backoffSeconds({ backoffBaseSeconds: 3600, maxBackoffSeconds: 43_200, attempt: 1000, random: top })).toBe(MAX_VISIBILITY_SECONDS);
    expect(backoffSeconds({ backoffBaseSeconds: 1, maxBackoffSeconds: 43_200, attempt: 2, retryAfterSeconds: 43_200, random: bottom })).toBe(MAX_VISIBILITY_SECONDS);
  });
});

describe('waits of held messages', () => {
  it('waits for the breaker until its time is up, plus a little jitter', () => {
    const hold = { kind: 'breaker', untilMs: 60_000 } as const;

    const least = holdSeconds({ hold, nowMs: 0, receiveCount: 1, retryWindowSeconds: 86_400, random: bottom });
    const most = holdSeconds({ hold, nowMs: 0, receiveCount: 1, retryWindowSeconds: 86_400, random: top });

    expect([least, most]).toEqual([60, 60 + HOLD_JITTER_SECONDS]);
  });

  it('waits 5 to 15 minutes while paused', () => {
    const hold = { kind: 'paused' } as const;

    const least = holdSeconds({ hold, nowMs: 0, receiveCount: 1, retryWindowSeconds: 86_400, random: bottom });
    const most = holdSeconds({ hold, nowMs: 0, receiveCount: 1, retryWindowSeconds: 86_400, random: top });

    expect([least, most]).toEqual([PAUSED_WAIT_SECONDS.min, PAUSED_WAIT_SECONDS.max]);
  });

  it.each([1, 24, MAX_RETRY_WINDOW_HOURS])('spends at most the receive budget holding a message for a whole %i h window, below SQS maxReceiveCount', (hours) => {
    const window = hours * 3600;
    let elapsed = 0;
    let receives = 0;
    // The shortest possible waits: a breaker whose time is always up, no jitter.
    while (elapsed <= window) {
      receives += 1;
      elapsed += holdSeconds({ hold: { kind: 'breaker', untilMs: 0 }, nowMs: 0, receiveCount: receives, retryWindowSeconds: window, random: bottom });
    }

    expect(receives).toBeLessThanOrEqual(HOLD_RECEIVE_BUDGET);
    expect(HOLD_RECEIVE_BUDGET).toBeLessThan(1000);
  });

  it('barely delays early receives of a one-day window', () => {
    expect(holdFloorSeconds(1, 86_400)).toBe(1);
    expect(holdFloorSeconds(10, 86_400)).toBe(7);
  });

  it('ends a wait one second after the retry window, so the message reaches the DLQ on time', () => {
    expect(untilWindowEnd(3600, 0, 100_000)).toBe(101);
    expect(untilWindowEnd(30, 0, 100_000)).toBe(30);
    expect(untilWindowEnd(30, 200_000, 100_000)).toBe(0);
  });
});
