import { cacheClients, getClient, KMS, KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sourceNameOf } from '../config/source-name';
import { createEnvelope } from '../ingest/envelope';
import { deletePayload, lazyS3Client, openMessage } from '../ingest/message';
import { ENV, requiredEnv } from '../runtime/env';
import { createLogger, createMetrics, tagInvocation } from '../runtime/observability';
import { createProcessorHandler } from './batch';
import type { Handlers } from './api';

/** A processor's Lambda handler: an SQS batch in, the ids of the records to retry out. */
export type ProcessorLambdaHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The processor Lambda on AWS around a handler table (one function per source, its SQS event
 * source mapping with `reportBatchItemFailures`). Call it once, at module load: everything is
 * built once per execution environment, so the data-key cache and the clients survive warm
 * invocations. `lambda/processor/index.ts` calls it with `routes.ts`; hookgate generates the
 * same call for a team's handlers module (`processorEntry`, lib/constructs/handlers-entry.ts).
 */
export function createLambdaHandler(handlers: Handlers): ProcessorLambdaHandler {
  // The processor needs only its source's name, so it reads just that (and loads no schema).
  const source = { name: sourceNameOf(JSON.parse(requiredEnv(ENV.source))) };
  const bucket = requiredEnv(ENV.payloadBucket);
  // cacheClients: one KMS client per region for the process, as in the verifier.
  const keyring = new KmsKeyringNode({ generatorKeyId: requiredEnv(ENV.keyArn), clientProvider: cacheClients(getClient(KMS, {})) });
  const envelope = createEnvelope(keyring);
  const deadLetterQueueUrl = requiredEnv(ENV.deadLetterQueueUrl);
  // Loaded on the first pointer message only (bodies over the SQS limit).
  const s3 = lazyS3Client({});
  // Loaded on the first record that can never open (rare): the SQS client is not needed otherwise.
  let deadLetterSqs: Promise<SQSClient> | undefined;
  const metrics = createMetrics(source.name);
  const logger = createLogger(source.name);
  const processBatch = createProcessorHandler({
    open: (record) => openMessage(record, { envelope, s3, bucket, source: source.name }),
    release: (message) => deletePayload(message, { s3, bucket }),
    deadLetter: async (record, reason) => {
      deadLetterSqs ??= import('@aws-sdk/client-sqs').then(({ SQSClient }) => new SQSClient({}));
      const [{ moveToDeadLetterQueue }, sqs] = await Promise.all([import('../ingest/dead-letter'), deadLetterSqs]);
      await moveToDeadLetterQueue(record, reason, { sqs, queueUrl: deadLetterQueueUrl });
    },
    handlers,
    logger,
    metrics: {
      count: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
      flush: () => metrics.publishStoredMetrics(),
    },
  });

  // Every log line of the batch carries the invocation's request id.
  return (event, context) => {
    tagInvocation(logger, context);
    return processBatch(event, context);
  };
}
