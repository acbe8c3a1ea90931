import { cacheClients, getClient, KMS, KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { sourceNameOf } from '../config/source-name';
import { createEnvelope } from '../ingest/envelope';
import { deletePayload, lazyS3Client, openMessage, type S3ClientSource } from '../ingest/message';
import { ENV, requiredEnv } from '../runtime/env';
import { createLogger, createMetrics, tagInvocation } from '../runtime/observability';
import { METRICS } from '../runtime/telemetry';
import type { Handlers } from './api';
import { type ArchiveBatch, createProcessorHandler, type OpenedMessage } from './batch';
import type { DestinationQueue } from './fan-out';

/**
 * Lambda entry points of the functions that read a hookgate queue, built from the environment
 * the stack sets: a source's processor (its handlers, or the fan-out to its destinations) and
 * the function of a `lambda` destination with `entry`, which hookgate bundles from a generated
 * file:
 *
 * ```ts
 * import { handlers } from '<the destination's entry module>';
 * import { createProcessorEntry } from 'hookgate/lambda/processor/entry';
 * export const handler = createProcessorEntry({ handlers });
 * ```
 *
 * Everything is built once per execution environment, so the data-key cache and the clients
 * survive warm invocations; what only rare records need (S3 for large bodies, SQS for moves to
 * the DLQ) is loaded on first use, and the fan-out's module only by the functions that fan out.
 */

/** A Lambda handler for an SQS event source mapping with `ReportBatchItemFailures`. */
export type ProcessorEntry = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** Options of {@link createProcessorEntry}. */
export interface ProcessorEntryOptions {
  /** The handlers, by source and event type (`defineHandlers`, as lambda/processor/routes.ts). */
  readonly handlers: Handlers;
}

/** What every entry builds from the environment. */
interface Runtime {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly open: (record: SQSRecord) => Promise<OpenedMessage>;
  readonly release: (message: OpenedMessage) => Promise<void>;
  readonly deadLetter: (record: SQSRecord, reason: string) => Promise<void>;
  /** The SQS client, loaded on first use. */
  readonly sqs: () => Promise<SQSClient>;
  /** Archives a whole batch, when the stack set `HOOKGATE_ARCHIVE_BUCKET` (a source's processor). */
  readonly archive?: ArchiveBatch;
}

/** The archive writer of a source's processor, when `HOOKGATE_ARCHIVE_BUCKET` is set; its module loads on the first batch. */
function archiveOf(source: string, payloadBucket: string, s3: S3ClientSource): ArchiveBatch | undefined {
  const bucket = process.env[ENV.archiveBucket];
  if (bucket === undefined || bucket.length === 0) return undefined;
  return async (records) => {
    const { archiveBatch } = await import('../archive/writer');
    await archiveBatch(records, { s3, bucket, payloadBucket, source });
  };
}

function runtime(): Runtime {
  // A processor needs only its source's name, so it reads just that (and loads no schema).
  const source = sourceNameOf(JSON.parse(requiredEnv(ENV.source)));
  const bucket = requiredEnv(ENV.payloadBucket);
  // cacheClients: one KMS client per region for the process, as in the verifier.
  const keyring = new KmsKeyringNode({ generatorKeyId: requiredEnv(ENV.keyArn), clientProvider: cacheClients(getClient(KMS, {})) });
  const envelope = createEnvelope(keyring);
  const deadLetterQueueUrl = requiredEnv(ENV.deadLetterQueueUrl);
  // Loaded on the first pointer message only (bodies over the SQS limit).
  const s3 = lazyS3Client({});
  // Loaded on the first record that can never open (rare), or at start by the fan-out.
  let sqs: Promise<SQSClient> | undefined;
  const sqsClient = (): Promise<SQSClient> => (sqs ??= import('@aws-sdk/client-sqs').then(({ SQSClient }) => new SQSClient({})));
  return {
    logger: createLogger(source),
    metrics: createMetrics(source),
    open: (record) => openMessage(record, { envelope, s3, bucket, source }),
    release: (message) => deletePayload(message, { s3, bucket }),
    deadLetter: async (record, reason) => {
      const [{ moveToDeadLetterQueue }, client] = await Promise.all([import('../ingest/dead-letter'), sqsClient()]);
      await moveToDeadLetterQueue(record, reason, { sqs: client, queueUrl: deadLetterQueueUrl });
    },
    sqs: sqsClient,
    archive: archiveOf(source, bucket, s3),
  };
}

/** The destination's name when this function is a destination's (`HOOKGATE_DESTINATION`), else undefined. */
function destinationName(): string | undefined {
  const value = process.env[ENV.destination];
  if (value === undefined || value.length === 0) return undefined;
  const parsed = JSON.parse(value) as unknown;
  const name = typeof parsed === 'object' && parsed !== null && 'name' in parsed ? parsed.name : undefined;
  if (typeof name !== 'string' || name.length === 0) throw new Error(`environment variable ${ENV.destination} has no destination name`);
  return name;
}

/**
 * The entry point of a function that runs `handlers` on its queue: a source's processor, or a
 * `lambda` destination with `entry` (its function has `HOOKGATE_DESTINATION` set). Opens each
 * record (S3 pointer, decryption, binding), runs the handler for its source and sealed event
 * type, reports failed records for retry, moves records that can never open to the DLQ at once.
 *
 * A source's processor deletes a payload object once its handler succeeded. A destination's
 * function never does: the source's other destinations read the same object, and the bucket's
 * lifecycle rule removes it. A destination's metrics carry the `destination` dimension too.
 *
 * A source's processor with `HOOKGATE_ARCHIVE_BUCKET` archives each whole batch first
 * (lambda/archive/writer.ts); a destination's function never does.
 *
 * Reads `HOOKGATE_SOURCE`, `HOOKGATE_PAYLOAD_BUCKET`, `HOOKGATE_KEY_ARN`, `HOOKGATE_DLQ_URL` and
 * optionally `HOOKGATE_DESTINATION` and `HOOKGATE_ARCHIVE_BUCKET`; throws, naming the variable,
 * when a required one is missing.
 */
export function createProcessorEntry(options: ProcessorEntryOptions): ProcessorEntry {
  const { logger, metrics, open, release, deadLetter, archive } = runtime();
  const destination = destinationName();
  if (destination !== undefined) {
    metrics.setDefaultDimensions({ [METRICS.destinationDimension]: destination });
    logger.appendPersistentKeys({ destination });
  }
  const processBatch = createProcessorHandler({
    open,
    // A destination's function reads the destination's queue: the source's processor archived.
    ...(destination === undefined ? { release, archive } : {}),
    deadLetter,
    handlers: options.handlers,
    logger,
    metrics: {
      count: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
      flush: () => metrics.publishStoredMetrics(),
    },
  });
  return (event, context) => {
    // Every log line of the batch carries the invocation's request id.
    tagInvocation(logger, context);
    return processBatch(event, context);
  };
}

/** Reads `HOOKGATE_DESTINATION_QUEUES`: a non-empty JSON list of `{ name, events?, queueUrl }`. */
export function destinationQueuesOf(json: string): DestinationQueue[] {
  const refuse = (): never => {
    throw new Error(`environment variable ${ENV.destinationQueues} must be a non-empty JSON list of { name, events?, queueUrl }`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return refuse();
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return refuse();
  return parsed.map((item: unknown) => {
    if (typeof item !== 'object' || item === null) return refuse();
    const { name, events, queueUrl } = item as Record<string, unknown>;
    const text = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
    if (!text(name) || !text(queueUrl)) return refuse();
    if (events === undefined) return { name, queueUrl };
    if (!Array.isArray(events) || !events.every(text)) return refuse();
    return { name, events, queueUrl };
  });
}

/**
 * The entry point of a source's processor when the source has destinations
 * (`HOOKGATE_DESTINATION_QUEUES` set): the fan-out of fan-out.ts instead of handlers. Its module
 * and the SQS client start loading now and are awaited by the first batch.
 *
 * With `HOOKGATE_ARCHIVE_BUCKET`, each whole batch is archived before anything is forwarded.
 *
 * Reads what {@link createProcessorEntry} reads, plus `HOOKGATE_DESTINATION_QUEUES`.
 */
export function createFanOutEntry(): ProcessorEntry {
  const destinations = destinationQueuesOf(requiredEnv(ENV.destinationQueues));
  const { logger, metrics, open, deadLetter, sqs, archive } = runtime();
  const ready = Promise.all([import('./fan-out'), sqs()]).then(([{ createFanOutHandler }, client]) =>
    createFanOutHandler({
      destinations,
      open,
      sqs: client,
      deadLetter,
      archive,
      logger,
      metrics: {
        count: (name, value, destination) => {
          if (destination === undefined) return void metrics.addMetric(name, MetricUnit.Count, value);
          const single = metrics.singleMetric();
          single.addDimension(METRICS.destinationDimension, destination);
          single.addMetric(name, MetricUnit.Count, value);
        },
        flush: () => metrics.publishStoredMetrics(),
      },
    }),
  );
  // Not left unhandled while no batch has come: the first batch gets the error.
  ready.catch(() => undefined);
  return async (event, context) => {
    tagInvocation(logger, context);
    return (await ready)(event);
  };
}
