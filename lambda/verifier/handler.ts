import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { NamedSource } from '../config/schema';
import { createDedupe } from '../ingest/dedupe-store';
import { enqueue, type EnqueueDeps } from '../ingest/enqueue';
import { safeHeaders } from '../ingest/safe-headers';
import type { Envelope } from '../ingest/envelope';
import type { S3ClientSource } from '../ingest/message';
import type { IngestLogger, IngestMetrics } from '../runtime/observability';
import { checkedSecrets, SecretConfigurationError, type SecretsLoader } from '../runtime/secrets';
import { METRICS } from '../runtime/telemetry';
import { verifyWebhook } from '../signatures';
import { errorNames } from '../runtime/error-names';
import { rejectStatus, toHttpResponse, unavailable } from './http-response';
import type { VerifierOutcome } from './outcome';
import { rawBody, requestHeaders, requestUrl } from './request';

/** Everything the verifier needs, injected (AWS clients in index.ts, emulators in local.ts). */
export interface VerifierDeps {
  /** The source this function serves (no secret values). */
  readonly source: NamedSource;
  /** The source's secret values; called per request (implementations cache). */
  readonly secrets: SecretsLoader;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly s3: S3ClientSource;
  /** Dedupe table. */
  readonly tableName: string;
  /** The source's work queue. */
  readonly queueUrl: string;
  /** Bucket for bodies too large for one SQS message. */
  readonly bucket: string;
  /** Seals bodies (KMS on AWS, local key locally). */
  readonly envelope: Envelope;
  /** Days a dedupe record lives (the config's dedupeTtlDays). */
  readonly dedupeTtlDays: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly clock?: () => number;
  readonly logger: IngestLogger;
  readonly metrics: IngestMetrics;
}

/** The verifier's Lambda handler shape (also what the local server calls). */
export type VerifierHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

type Ids = { dedupeKey?: string; eventId?: string };

/** Refusals a newer secret could turn into an acceptance (timestamps and formats cannot). */
const REFRESHABLE: ReadonlySet<string> = new Set(['bad_signature', 'bad_token', 'bad_verify_token']);

/**
 * Creates the verifier: raw body, size limit, verification, then dedupe -> seal -> enqueue.
 * Answers 2xx only after SQS accepted the message; every failure after the dedupe write deletes
 * the record (dedupe-store.ts), so the provider's retry goes through.
 */
export function createVerifierHandler(deps: VerifierDeps): VerifierHandler {
  const { source, logger, metrics } = deps;
  const clock = deps.clock ?? Date.now;
  const dedupe = createDedupe({ client: deps.dynamodb, tableName: deps.tableName, ttlDays: deps.dedupeTtlDays });
  const enqueueDeps: EnqueueDeps = { envelope: deps.envelope, sqs: deps.sqs, s3: deps.s3, queueUrl: deps.queueUrl, bucket: deps.bucket };

  async function handle(event: APIGatewayProxyEvent, context: Context, ids: Ids): Promise<VerifierOutcome> {
    const body = rawBody(event);
    // Before any secret or AWS call: an oversized body costs nothing downstream.
    if (body.length > source.maxBodyBytes) return { kind: 'rejected', reason: 'payload_too_large' };
    const request = { method: event.httpMethod, url: requestUrl(event, source), headers: requestHeaders(event), body };
    // A weak or empty secret throws (503 + alarm): it must never quietly verify or refuse.
    let verification = verifyWebhook(request, { source, secrets: checkedSecrets(source, await deps.secrets()), now: clock() });
    if (verification.kind === 'rejected' && REFRESHABLE.has(verification.reason) && deps.secrets.refresh !== undefined) {
      // Maybe the secret was rotated since it was cached: re-read once (rate-limited) and retry.
      const fresh = await deps.secrets.refresh().catch(() => undefined); // a failed re-read keeps the 401
      if (fresh !== undefined) verification = verifyWebhook(request, { source, secrets: checkedSecrets(source, fresh), now: clock() });
    }
    if (verification.kind !== 'accepted') return verification;
    const { dedupeKey, eventId, eventType, typeSigned } = verification;
    ids.dedupeKey = dedupeKey;
    ids.eventId = eventId;
    const meta = { source: source.name, dedupeKey, eventId, eventType, typeSigned, receivedAt: new Date(clock()).toISOString() };
    const result = await dedupe.once(dedupeKey, context, () => enqueue(meta, body, safeHeaders(request.headers, source), enqueueDeps));
    if (result.kind === 'first' && !result.recorded) {
      logger.warn('dedupe record not marked completed; a retry after the lease may enqueue again', { dedupeKey, eventId });
    }
    const kind = result.kind === 'first' ? 'accepted' : result.kind;
    return { kind, dedupeKey, eventId, eventType };
  }

  function observe(outcome: VerifierOutcome, ids: Ids, durationMs: number, err?: unknown): void {
    const count = (name: string): void => {
      metrics.addMetric(name, MetricUnit.Count, 1);
    };
    // Metadata only: never the body, header values, secrets or error messages.
    const fields = { dedupeKey: ids.dedupeKey, eventId: ids.eventId, outcome: outcome.kind, durationMs };
    switch (outcome.kind) {
      case 'accepted':
        count(METRICS.accepted);
        logger.info('webhook accepted', fields);
        break;
      case 'duplicate':
        count(METRICS.duplicate);
        logger.info('webhook duplicate', fields);
        break;
      case 'in_progress':
        count(METRICS.rejected);
        logger.warn('webhook in progress elsewhere', fields);
        break;
      case 'rejected':
        count(METRICS.rejected);
        if (rejectStatus(outcome.reason) === 401) count(METRICS.signatureFailures);
        logger.warn('webhook rejected', { ...fields, reason: outcome.reason });
        break;
      case 'challenge':
        if (outcome.status >= 400) count(METRICS.rejected);
        logger.info('webhook handshake', { ...fields, status: outcome.status });
        break;
      case 'unavailable':
        if (err instanceof SecretConfigurationError) {
          count(METRICS.secretConfigurationErrors);
          // The rules broken name fields only (`secrets[0] must ...`), never a value.
          logger.error('webhook not accepted: source secret misconfigured', { ...fields, source: source.name, reason: outcome.code, problems: err.problems });
          break;
        }
        count(METRICS.downstreamFailures);
        logger.error('webhook not accepted: downstream failure', { ...fields, reason: outcome.code, errors: errorNames(err) });
        break;
    }
    metrics.addMetric(METRICS.verifyLatency, MetricUnit.Milliseconds, durationMs);
    metrics.publishStoredMetrics();
  }

  return async (event, context) => {
    const started = performance.now();
    const ids: Ids = {};
    let outcome: VerifierOutcome;
    let failure: unknown;
    try {
      outcome = await handle(event, context, ids);
    } catch (err) {
      failure = err;
      outcome = unavailable(err, ids);
    }
    const response = toHttpResponse(outcome);
    try {
      observe(outcome, ids, Math.round(performance.now() - started), failure);
    } catch {
      // Telemetry must never change the answer: the event is already accepted (or not).
    }
    return response;
  };
}
