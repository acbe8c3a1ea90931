import { cacheClients, getClient, KMS, KmsKeyringNode } from '@aws-crypto/client-node';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { sourceNameOf } from '../config/source-name';
import { createEnvelope } from '../ingest/envelope';
import { openMessage } from '../ingest/message';
import { ENV } from '../runtime/env';
import { createLogger, createMetrics } from '../runtime/observability';
import { createProcessorHandler } from './batch';
import { handlers } from './routes';

/**
 * The processor Lambda entry point on AWS (one function per source, its SQS event source
 * mapping with `reportBatchItemFailures`). Everything is built once per execution environment,
 * so the data-key cache and the clients survive warm invocations.
 */

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.length === 0) throw new Error(`environment variable ${name} is not set`);
  return value;
}

// The processor needs only its source's name, so it reads just that (and loads no schema).
const source = { name: sourceNameOf(JSON.parse(required(ENV.source))) };
const bucket = required(ENV.payloadBucket);
// cacheClients: one KMS client per region for the process, as in the verifier.
const keyring = new KmsKeyringNode({ generatorKeyId: required(ENV.keyArn), clientProvider: cacheClients(getClient(KMS, {})) });
const envelope = createEnvelope(keyring);
const s3 = new S3Client({});
const metrics = createMetrics(source.name);

/** The Lambda handler. */
export const handler = createProcessorHandler({
  open: (record) => openMessage(record, { envelope, s3, bucket, source: source.name }),
  handlers,
  logger: createLogger(source.name),
  metrics: {
    count: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
    flush: () => metrics.publishStoredMetrics(),
  },
});
