import { errorName } from '../runtime/error-names';

/**
 * One AWS SDK call made as one delivery attempt (the `lambda` and `eventbridge` targets): bounded
 * by the attempt's timeout, timed, and its failure reduced to what may be logged: a class, an
 * HTTP status, a wait the service asked for. Never an error message (an SDK error or a
 * function's error may quote the payload).
 */

/** What came of the call. */
export type CallOutcome<T> =
  | { readonly ok: true; readonly output: T; readonly latencyMs: number }
  | { readonly ok: false; readonly error: CallFailure; readonly latencyMs: number };

/** A failed call, as much as may be logged. */
export interface CallFailure {
  /** The service's error name (`ThrottlingException`), `timeout`, or a network code (`ECONNREFUSED`). */
  readonly errorClass: string;
  /** HTTP status of the service's answer, when there was one. */
  readonly statusCode?: number;
  /** Seconds the service asked to wait (Lambda's TooManyRequestsException carries its Retry-After). */
  readonly retryAfterSeconds?: number;
}

/** A clock in milliseconds (monotonic). */
export type Clock = () => number;

/** The default clock. */
export const monotonic: Clock = () => performance.now();

function statusOf(err: unknown): number | undefined {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function retryAfterOf(err: unknown): number | undefined {
  const value = (err as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** The loggable class of a failed call. */
export function failureOf(err: unknown, timedOut: boolean): CallFailure {
  const statusCode = statusOf(err);
  const retryAfterSeconds = retryAfterOf(err);
  const withStatus = { ...(statusCode === undefined ? {} : { statusCode }), ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
  if (timedOut || errorName(err) === 'TimeoutError') return { errorClass: 'timeout', ...withStatus };
  const code = (err as { code?: unknown } | undefined)?.code;
  // Node's network errors carry their cause in `code` (ECONNREFUSED, ENOTFOUND).
  if (statusCode === undefined && typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return { errorClass: code };
  return { errorClass: errorName(err), ...withStatus };
}

/**
 * Runs `call` with an abort signal that fires after `timeoutMs`, and times it with `now`.
 * Resolves in every case: a throw becomes a {@link CallFailure}.
 */
export async function timedCall<T>(call: (abortSignal: AbortSignal) => Promise<T>, timeoutMs: number, now: Clock = monotonic): Promise<CallOutcome<T>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const start = now();
  try {
    const output = await call(controller.signal);
    return { ok: true, output, latencyMs: now() - start };
  } catch (err) {
    return { ok: false, error: failureOf(err, controller.signal.aborted), latencyMs: now() - start };
  } finally {
    clearTimeout(timer);
  }
}
