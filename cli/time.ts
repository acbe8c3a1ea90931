import { UsageError } from './errors';

/** A relative time: a whole number and a unit, meaning that long before now (`30m`, `2h`, `1d`). */
const RELATIVE = /^(\d{1,6})([smhdw])$/;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** An ISO 8601 date or date-time (`2026-12-01`, `2026-12-01T14:00:00Z`, with an offset). */
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A `--since`/`--until` value: relative to `now` (`30s`, `30m`, `2h`, `1d`, `1w`) or an ISO 8601
 * time (a date alone is midnight UTC; a time without offset is UTC). Anything else is a UsageError
 * naming the flag.
 */
export function parseTime(value: string, now: Date, flag: string): Date {
  const relative = RELATIVE.exec(value);
  if (relative !== null) return new Date(now.getTime() - Number(relative[1]) * (UNIT_MS[relative[2] as string] as number));
  if (ISO.test(value)) {
    const utc = /T/.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/.test(value) ? `${value}Z` : value;
    const ms = Date.parse(utc);
    if (Number.isFinite(ms)) return new Date(ms);
  }
  throw new UsageError(`${flag} must be a relative time such as 30m, 2h or 1d, or an ISO 8601 time such as 2026-12-01T14:00:00Z, not ${JSON.stringify(value)}`);
}

/** A time range; `until` is now when not given. */
export interface TimeRange {
  readonly since?: Date;
  readonly until: Date;
}

/** Parses `--since` and `--until`; since after until is a UsageError. */
export function parseRange(values: { readonly since?: string; readonly until?: string }, now: Date): TimeRange {
  const since = values.since === undefined ? undefined : parseTime(values.since, now, '--since');
  const until = values.until === undefined ? now : parseTime(values.until, now, '--until');
  if (since !== undefined && since.getTime() > until.getTime()) {
    throw new UsageError(`--since (${since.toISOString()}) is after --until (${until.toISOString()})`);
  }
  return { ...(since === undefined ? {} : { since }), until };
}
