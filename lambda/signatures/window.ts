import type { NamedSource } from '../config/schema';
import type { RejectReason } from './types';

/** Unix seconds, digits only: no sign, no spaces, no fraction, at most 12 digits (year 33658). */
const UNIX_SECONDS = /^\d{1,12}$/;

/** Parses a unix timestamp in seconds, strictly; `undefined` when it is not one. */
export function parseUnixSeconds(text: string): number | undefined {
  return UNIX_SECONDS.test(text) ? Number(text) : undefined;
}

/**
 * Checks a scheme's timestamp against the replay window, both directions (a future timestamp is
 * as suspicious as a stale one: it would let a captured request be replayed later).
 * @param text the timestamp as sent, or `undefined` when absent
 * @param now the injected clock, milliseconds
 * @returns `undefined` when inside the window, else the reason to refuse
 */
export function timestampProblem(text: string | undefined, now: number, source: NamedSource): RejectReason | undefined {
  if (text === undefined || text.length === 0) return 'missing_timestamp';
  const seconds = parseUnixSeconds(text.trim());
  if (seconds === undefined) return 'malformed_timestamp';
  return Math.abs(Math.floor(now / 1000) - seconds) > source.toleranceSeconds ? 'timestamp_out_of_window' : undefined;
}
