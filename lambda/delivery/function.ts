import { cacheClients, getClient, KMS, KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DESTINATION_NAME, destinationSchema, type NamedDestination } from '../config/destinations';
import { configSchema } from '../config/schema';
import { sourceNameOf } from '../config/source-name';
import { createEnvelope, type Envelope } from '../ingest/envelope';
import { lazyS3Client, openMessage, type S3ClientSource } from '../ingest/message';
import { ENV, requiredEnv } from '../runtime/env';
import { createLogger, createMetrics, tagInvocation } from '../runtime/observability';
import { METRICS } from '../runtime/telemetry';
import { createCircuitStore } from './circuit';
import type { Target } from './contract';
import { createDeliveryHandler } from './engine';
import { createHistoryStore } from './history';
import { createDeliveryQueue } from './queue';

/**
 * The delivery function of one destination on AWS, built from the environment the stack sets
 * (one function per destination, its queue's event source mapping with `reportBatchItemFailures`
 * and maxConcurrency = the destination's maxInFlight). Everything is built once per execution
 * environment, so clients, the data-key cache and the rate pacing survive warm invocations.
 * The Lambda entry point (index.ts) passes the target factory (targets.ts).
 */

/** What a target may need besides its destination. */
export interface TargetClients {
  /** The envelope over the stack's key (EventBridge bodies by reference are sealed again with it). */
  readonly envelope: Envelope;
  /** The payload bucket's client (loaded on first use) and name. */
  readonly s3: S3ClientSource;
  readonly bucket: string;
  /** The Secrets Manager secret with an `http` destination's signing secrets (ENV.signingSecretName). */
  readonly signingSecretName?: string;
}

/** Builds the target of a destination by its type. */
export type TargetFor = (destination: NamedDestination, clients: TargetClients) => Target;

/** Thrown when the destination JSON is not a valid destination; names the rule, never a value. */
export class DestinationConfigError extends Error {
  constructor(detail: string) {
    super(`${ENV.destination} is not a valid destination: ${detail}`);
    this.name = 'DestinationConfigError';
  }
}

/** The destination as the stack writes it (`HOOKGATE_DESTINATION`: the NamedDestination without secret values), defaults applied. */
export function parseNamedDestination(json: string): NamedDestination {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new DestinationConfigError('not JSON');
  }
  const { name, source, ...fields } = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  if (typeof name !== 'string' || !DESTINATION_NAME.test(name)) throw new DestinationConfigError('no valid name');
  const parsed = destinationSchema.safeParse(fields);
  if (!parsed.success) throw new DestinationConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; '));
  return { ...parsed.data, name, source: sourceNameOf({ name: source }) };
}

/** Days an attempt is kept (`HOOKGATE_DELIVERY_HISTORY_DAYS`), with the config's default when absent. */
export function parseDeliveryHistoryDays(value: string | undefined): number {
  return configSchema.shape.deliveryHistoryDays.parse(value === undefined ? undefined : Number(value));
}

/** Builds the delivery Lambda handler from the environment; throws (naming the variable) when one is missing. */
export function createDeliveryFunction(targetFor: TargetFor): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const destination = parseNamedDestination(requiredEnv(ENV.destination));
  const ref = { source: destination.source, destination: destination.name };
  const table = { client: new DynamoDBClient({}), tableName: requiredEnv(ENV.deliveryTable) };
  const days = parseDeliveryHistoryDays(process.env[ENV.deliveryHistoryDays]);
  const bucket = requiredEnv(ENV.payloadBucket);
  // cacheClients: one KMS client per region for the process, as in the processor.
  const envelope = createEnvelope(new KmsKeyringNode({ generatorKeyId: requiredEnv(ENV.keyArn), clientProvider: cacheClients(getClient(KMS, {})) }));
  const deadLetterQueueUrl = requiredEnv(ENV.deadLetterQueueUrl);
  // Loaded on the first pointer message only (bodies over the SQS limit).
  const s3 = lazyS3Client({});
  const signingSecretName = process.env[ENV.signingSecretName];
  const target = targetFor(destination, { envelope, s3, bucket, ...(signingSecretName === undefined || signingSecretName === '' ? {} : { signingSecretName }) });
  const logger = createLogger(destination.source);
  logger.appendKeys({ [METRICS.destinationDimension]: destination.name });
  const metrics = createMetrics(destination.source);
  metrics.setDefaultDimensions({ [METRICS.destinationDimension]: destination.name });

  const deliver = createDeliveryHandler({
    destination,
    // The source's payload objects are shared by its destinations: a destination never deletes one (the bucket lifecycle does).
    open: (record) => openMessage(record, { envelope, s3, bucket, source: destination.source }),
    target,
    circuit: createCircuitStore(table, ref),
    history: createHistoryStore({ ...table, days }),
    queue: createDeliveryQueue({ sqs: new SQSClient({}), deadLetterQueueUrl }),
    metrics: {
      count: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
      latency: (ms) => metrics.addMetric(METRICS.deliveryLatency, MetricUnit.Milliseconds, ms),
      flush: () => metrics.publishStoredMetrics(),
    },
    logger,
  });

  return (event, context) => {
    tagInvocation(logger, context);
    return deliver(event, context);
  };
}
