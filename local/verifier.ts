import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type Endpoints, type LocalResources, localClients } from './emulators';
import type { NamedSource, SourceSecrets } from '../lambda/config/schema';
import type { Envelope } from '../lambda/ingest/envelope';
import { createLogger, createMetrics, type IngestLogger, type IngestMetrics } from '../lambda/runtime/observability';
import { inlineSecrets } from '../lambda/runtime/secrets';
import { createVerifierHandler, type VerifierHandler } from '../lambda/verifier/handler';

/** What the local server gives to build one source's verifier. */
export interface LocalVerifierOptions {
  readonly source: NamedSource;
  /** Inline secrets from the local config. */
  readonly secrets: SourceSecrets;
  readonly endpoints: Endpoints;
  readonly resources: LocalResources;
  /** Share it with the processor: `createEnvelope(localKeyring(createLocalKms({ key })))`. */
  readonly envelope: Envelope;
  /** @default Date.now */
  readonly clock?: () => number;
  /** @default a Powertools Logger for the source */
  readonly logger?: IngestLogger;
  /** @default Powertools Metrics for the source, namespace `Hookgate/local` */
  readonly metrics?: IngestMetrics;
  /** Days a dedupe record lives (the config's dedupeTtlDays). */
  readonly dedupeTtlDays: number;
  /** Called with each AWS client created here, before first use (bench: SDK middleware that counts calls). */
  readonly instrument?: (client: DynamoDBClient | SQSClient | S3Client) => void;
}

/** The same verifier core as on AWS, over the emulators. Call `close()` when the server stops. */
export function createLocalVerifier(options: LocalVerifierOptions): VerifierHandler & { close(): void } {
  const queue = options.resources.queues[options.source.name];
  if (queue === undefined) throw new Error(`no local queue for source ${options.source.name}`);
  const clients = localClients(options.endpoints);
  const dynamodb = new DynamoDBClient(clients.dynamodb);
  const sqs = new SQSClient(clients.sqs);
  const s3 = new S3Client(clients.s3);
  for (const client of [dynamodb, sqs, s3]) options.instrument?.(client);
  const handler = createVerifierHandler({
    source: options.source,
    secrets: inlineSecrets(options.secrets),
    dynamodb,
    sqs,
    s3,
    tableName: options.resources.tableName,
    queueUrl: queue.queueUrl,
    bucket: options.resources.bucket,
    envelope: options.envelope,
    dedupeTtlDays: options.dedupeTtlDays,
    clock: options.clock,
    logger: options.logger ?? createLogger(options.source.name),
    metrics: options.metrics ?? createMetrics(options.source.name, 'Hookgate/local'),
  });
  return Object.assign(handler, {
    close(): void {
      dynamodb.destroy();
      sqs.destroy();
      s3.destroy();
    },
  });
}
