import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { METRICS } from './telemetry';

/** What the verifier needs of a logger (Powertools Logger satisfies it). */
export type IngestLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

/** What the verifier needs of metrics (Powertools Metrics satisfies it). */
export type IngestMetrics = Pick<Metrics, 'addMetric' | 'publishStoredMetrics'>;

/**
 * A JSON logger for one source. Callers log only metadata (source, dedupeKey, eventId, outcome,
 * reason, durationMs, error names): never bodies, header values or error objects.
 */
export function createLogger(source: string): Logger {
  return new Logger({ serviceName: METRICS.service, persistentKeys: { source } });
}

/**
 * EMF metrics for one source with exactly the dimensions the alarms match: `{service, source}`.
 * The namespace comes from POWERTOOLS_METRICS_NAMESPACE (the stack sets `Hookgate/<env>`).
 */
export function createMetrics(source: string, namespace?: string): Metrics {
  return new Metrics({
    serviceName: METRICS.service,
    defaultDimensions: { [METRICS.sourceDimension]: source },
    ...(namespace === undefined ? {} : { namespace }),
  });
}

/** The key Powertools gives the Lambda request id (`logger.addContext`), so queries written for it work. */
export const REQUEST_ID_KEY = 'function_request_id';

/**
 * Tags every line the logger writes from now on with this invocation's request id, which leads
 * on-call from a log line to the invocation (its duration, its X-Ray trace, its platform errors).
 * Only the id: Powertools' `addContext` also adds the function's name, ARN, memory size and cold
 * start flag to every line, which the log group already says, and more than doubles a line's
 * bytes (269 -> 588 for an accepted webhook; the id alone makes it 330).
 */
export function tagInvocation(logger: Pick<Logger, 'appendKeys'>, context: Pick<Context, 'awsRequestId'>): void {
  logger.appendKeys({ [REQUEST_ID_KEY]: context.awsRequestId });
}
