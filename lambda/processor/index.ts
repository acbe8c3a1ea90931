import { cacheClients, getClient, KMS, KmsKeyringNode } from '@aws-crypto/client-node';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { NamedSource } from '../config/types';
import { createEnvelope } from '../ingest/envelope';
import { moveToDeadLetterQueue } from '../ingest/dead-letter';
import { deletePayload, openMessage } from '../ingest/message';
import { ENV, requiredEnv } from '../runtime/env';
import { createLogger, createMetrics } from '../runtime/observability';
import { createProcessorHandler } from './batch';
import { handlers } from './routes';

/**
 * The processor Lambda entry point on AWS (one function per source, its SQS event source
 * mapping with `reportBatchItemFailures`). Everything is built once per execution environment,
 * so the data-key cache and the clients survive warm invocations.
 */


const source = JSON.parse(requiredEnv(ENV.source)) as NamedSource;
const bucket = requiredEnv(ENV.payloadBucket);
// cacheClients: one KMS client per region for the process, as in the verifier.
const keyring = new KmsKeyringNode({ generatorKeyId: requiredEnv(ENV.keyArn), clientProvider: cacheClients(getClient(KMS, {})) });
const envelope = createEnvelope(keyring);
const s3 = new S3Client({});
const deadLetter = { sqs: new SQSClient({}), queueUrl: requiredEnv(ENV.deadLetterQueueUrl) };
const metrics = createMetrics(source.name);

/** The Lambda handler. */
export const handler = createProcessorHandler({
  open: (record) => openMessage(record, { envelope, s3, bucket, source: source.name }),
  release: (message) => deletePayload(message, { s3, bucket }),
  deadLetter: (record, reason) => moveToDeadLetterQueue(record, reason, deadLetter),
  handlers,
  logger: createLogger(source.name),
  metrics: {
    count: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
    flush: () => metrics.publishStoredMetrics(),
  },
});
