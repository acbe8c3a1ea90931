import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
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
