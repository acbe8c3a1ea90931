import type { APIGatewayProxyResult } from 'aws-lambda';
import { IngestError } from '../ingest/errors';
import type { VerifierOutcome, VerifierRejectReason } from './outcome';

/** Seconds a caller should wait before retrying a 503. Short: most downstream blips are brief. */
export const RETRY_AFTER_SECONDS = 2;

const JSON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' } as const;

function json(statusCode: number, body: Record<string, string>, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** HTTP status of a refusal: the design's contract table. */
export function rejectStatus(reason: VerifierRejectReason): number {
  switch (reason) {
    case 'payload_too_large':
      return 413;
    case 'method_not_allowed':
      return 405;
    case 'bad_verify_token':
      return 403;
    case 'malformed_challenge':
      return 400;
    default:
      return 401;
  }
}

/**
 * The one mapping from outcomes to HTTP answers. Bodies are fixed shapes with short codes:
 * never an error message, a stack trace or request content.
 */
export function toHttpResponse(outcome: VerifierOutcome): APIGatewayProxyResult {
  switch (outcome.kind) {
    case 'accepted':
      return json(200, { id: outcome.dedupeKey, status: 'accepted' });
    case 'duplicate':
      return json(200, { id: outcome.dedupeKey, status: 'duplicate' });
    case 'in_progress':
      return json(409, { error: 'in_progress' }, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
    case 'rejected':
      return json(rejectStatus(outcome.reason), { error: outcome.reason });
    case 'challenge':
      // The body echoes what the caller sent: never let a browser sniff it into HTML.
      return {
        statusCode: outcome.status,
        headers: { 'Content-Type': outcome.contentType, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' },
        body: outcome.body,
      };
    case 'unavailable':
      return json(503, { error: 'unavailable' }, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
  }
}

/** Any thrown value as an outcome: 503, because 5xx means only "not durably accepted, retry". */
export function unavailable(err: unknown, ids: { dedupeKey?: string; eventId?: string } = {}): VerifierOutcome {
  return { kind: 'unavailable', code: err instanceof IngestError ? err.code : 'unexpected', ...ids };
}
