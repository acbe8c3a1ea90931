import { KmsKeyringNode } from '@aws-crypto/client-node';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import type { NamedSource } from '../config/types';
import { createEnvelope } from '../ingest/envelope';
import { openMessage } from '../ingest/message';
import { ENV } from '../runtime/env';
import { METRICS } from '../runtime/telemetry';
import { createProcessorHandler } from './handler';
import { handlers } from './routes';

/**
 * The processor Lambda entry point on AWS (one function per source). Everything is built once
 * per execution environment, so the data-key cache and the clients survive warm invocations.
 */

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.length === 0) throw new Error(`environment variable ${name} is not set`);
  return value;
}

const source = JSON.parse(required(ENV.source)) as NamedSource;
const bucket = required(ENV.payloadBucket);
const envelope = createEnvelope(new KmsKeyringNode({ generatorKeyId: required(ENV.keyArn) }));
const s3 = new S3Client({});

const logger = new Logger({ serviceName: METRICS.service });
logger.appendKeys({ source: source.name });
const metrics = new Metrics({ serviceName: METRICS.service });
metrics.addDimension(METRICS.sourceDimension, source.name);

/** The Lambda handler; its event source mapping must report batch item failures. */
export const handler = createProcessorHandler({
  open: (record) => openMessage(record, { envelope, s3, bucket, source: source.name }),
  handlers,
  logger,
  metrics: {
    count: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
    flush: () => metrics.publishStoredMetrics(),
  },
});
