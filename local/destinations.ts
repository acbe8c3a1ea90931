import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { NamedDestination } from '../lambda/config/destinations';
import type { NamedSource } from '../lambda/config/schema';
import { createCircuitStore } from '../lambda/delivery/circuit';
import type { Target } from '../lambda/delivery/contract';
import { createDeliveryHandler, type DeliveryMetrics } from '../lambda/delivery/engine';
import { createHistoryStore } from '../lambda/delivery/history';
import { createHttpTarget, type HttpDestination } from '../lambda/delivery/http';
import { createDeliveryQueue } from '../lambda/delivery/queue';
import { signingSecretsOf } from '../lambda/delivery/signing-secrets';
import { moveToDeadLetterQueue } from '../lambda/ingest/dead-letter';
import type { Envelope } from '../lambda/ingest/envelope';
import { openMessage, type S3ClientSource } from '../lambda/ingest/message';
import type { Handlers, ProcessorLogger } from '../lambda/processor/api';
import { type ArchiveBatch, createProcessorHandler } from '../lambda/processor/batch';
import { createFanOutHandler } from '../lambda/processor/fan-out';
import type { IngestLogger } from '../lambda/runtime/observability';
import { UsageError } from './cli';
import { type Endpoints, localClients, localDeliveryTimeoutSeconds, type LocalResources } from './emulators';
import { type Poller, type SqsHandler, startPoller } from './poller';

/**
 * Destinations in local mode: a source with destinations runs the fan-out (lambda/processor/fan-out.ts)
 * instead of its handlers, and each destination's queue gets a poller of its own, as on AWS:
 *
 * | destination                 | here                                                                  |
 * | --------------------------- | --------------------------------------------------------------------- |
 * | `http`                      | the delivery engine and the real `http` target (loopback and plain http allowed) |
 * | `lambda` with `entry`       | the team's handlers module, imported, behind the processor            |
 * | `lambda` with `functionArn` | refused at start: it needs AWS                                        |
 * | `eventbridge`               | refused at start: it needs AWS                                        |
 *
 * Circuit state and delivery history live in the local delivery table (dynalite); backoff waits
 * are SQS visibility changes on fauxqs, which honours them.
 */

/** Test hooks of one destination's delivery engine. */
export interface DeliveryHooks {
  /** Epoch milliseconds (the retry window and the breaker read it). @default Date.now */
  readonly now?: () => number;
  /** Jitter source in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Wraps the real target (fault injection). @default the target as is */
  readonly wrapTarget?: (target: Target) => Target;
  /** Where the engine's metrics go. @default nowhere (the engine's log lines say the same) */
  readonly metrics?: DeliveryMetrics;
}

/** A destination as the local app runs it. */
export interface LocalDestination {
  readonly source: string;
  readonly name: string;
  readonly type: NamedDestination['type'];
  /** The URL an `http` destination posts to, or the module a `lambda` destination runs. */
  readonly target: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

/**
 * Problems that stop a config's destinations from running locally, each naming its destination:
 * `lambda` with `functionArn` and `eventbridge` need AWS; an `http` destination needs inline
 * `secrets` (there is no Secrets Manager here).
 */
export function localDestinationProblems(sources: readonly NamedSource[]): string[] {
  const problems: string[] = [];
  for (const source of sources) {
    for (const [name, destination] of Object.entries(source.destinations ?? {})) {
      const where = `destination ${source.name}/${name}`;
      if (destination.type === 'eventbridge') problems.push(`${where}: eventbridge destinations need AWS and do not run locally; use an http destination pointing at npm run receive`);
      if (destination.type === 'lambda' && destination.functionArn !== undefined) problems.push(`${where}: a lambda destination with functionArn needs AWS and does not run locally; use entry (your handlers module) or an http destination`);
      if (destination.type === 'http' && destination.secrets === undefined) problems.push(`${where}: local mode needs inline secrets (whsec_...), there is no Secrets Manager here`);
    }
  }
  return problems;
}

/** Loads a `lambda` destination's handlers module (its `handlers` export), relative to `projectRoot`. */
export async function loadEntryHandlers(entry: string, projectRoot: string, where: string): Promise<Handlers> {
  const file = resolve(projectRoot, entry);
  let loaded: { handlers?: unknown };
  try {
    loaded = (await import(file)) as { handlers?: unknown };
  } catch (err) {
    throw new UsageError(`${where}: entry ${entry} could not be loaded (${(err as Error).name}: ${(err as Error).message.split('\n')[0] ?? ''})`);
  }
  const handlers = loaded.handlers as Partial<Handlers> | undefined;
  if (typeof handlers?.resolve !== 'function') throw new UsageError(`${where}: entry ${entry} does not export handlers (defineHandlers, as lambda/processor/routes.ts)`);
  return handlers as Handlers;
}

/** A logger whose every line names the destination. */
function destinationLogger(logger: IngestLogger, destination: string): ProcessorLogger {
  return {
    info: (message, fields) => logger.info(message, { ...fields, destination }),
    warn: (message, fields) => logger.warn(message, { ...fields, destination }),
    error: (message, fields) => logger.error(message, { ...fields, destination }),
  };
}

const NO_METRICS: DeliveryMetrics = { count: () => undefined, latency: () => undefined, flush: () => undefined };

/** What {@link startSourceDestinations} needs from the local app. */
export interface SourceDestinationsOptions {
  readonly source: NamedSource;
  readonly endpoints: Endpoints;
  readonly resources: LocalResources;
  readonly envelope: Envelope;
  readonly s3: S3ClientSource;
  /** Archives a batch before the fan-out forwards any of it (the source's archive writer). @default no archive */
  readonly archive?: ArchiveBatch;
  /** The source's logger; each destination's lines carry `destination`. */
  readonly logger: IngestLogger;
  /** Days an attempt is kept in the history (the config's deliveryHistoryDays). */
  readonly historyDays: number;
  /** Folder `lambda` entries are relative to. */
  readonly projectRoot: string;
  readonly waitTimeSeconds?: number;
  /** Called with each AWS client created, before first use. */
  readonly instrument?: (client: DynamoDBClient | SQSClient) => void;
  readonly hooks?: (destination: NamedDestination) => DeliveryHooks;
  /** Told about a poller's failed invocation or queue call. */
  readonly onPollerError: (destination: string, what: string, errorName: string) => void;
}

/** The running destinations of one source. */
export interface SourceDestinations {
  /** The source's processor: the fan-out to its destinations' queues. */
  readonly fanOut: SqsHandler;
  readonly destinations: readonly LocalDestination[];
  /** Stops the pollers (in-flight batches finish) and the clients. */
  stop(): Promise<void>;
}

/** The handler of one destination's queue: the delivery engine, or the team's handlers for a `lambda` entry. */
async function destinationHandler(destination: NamedDestination, options: SourceDestinationsOptions, sqs: SQSClient, dynamodb: DynamoDBClient, dlqUrl: string, queueUrl: string): Promise<SqsHandler> {
  const { source, envelope, s3 } = options;
  const bucket = options.resources.bucket;
  const logger = destinationLogger(options.logger, destination.name);
  // A destination never deletes a payload object: the source's other destinations read it too.
  const open = (record: SQSRecord) => openMessage(record, { envelope, s3, bucket, source: source.name });
  if (destination.type === 'lambda') {
    const handlers = await loadEntryHandlers(destination.entry ?? '', options.projectRoot, `destination ${source.name}/${destination.name}`);
    return createProcessorHandler({ open, handlers, logger, deadLetter: (record, reason) => moveToDeadLetterQueue(record, reason, { sqs, queueUrl: dlqUrl }) });
  }
  const hooks = options.hooks?.(destination) ?? {};
  const target = createHttpTarget({ destination: destination as HttpDestination, signingSecrets: signingSecretsOf(destination as HttpDestination), allowHttp: true, allowLoopback: true });
  const table = { client: dynamodb, tableName: options.resources.deliveryTableName ?? '' };
  return createDeliveryHandler({
    destination,
    open,
    target: hooks.wrapTarget?.(target) ?? target,
    circuit: createCircuitStore(table, { source: source.name, destination: destination.name }),
    history: createHistoryStore({ ...table, days: options.historyDays }),
    queue: createDeliveryQueue({ sqs, queueUrlOf: () => queueUrl, deadLetterQueueUrl: dlqUrl }),
    metrics: hooks.metrics ?? NO_METRICS,
    logger,
    ...(hooks.now !== undefined ? { now: hooks.now } : {}),
    ...(hooks.random !== undefined ? { random: hooks.random } : {}),
  });
}

/**
 * Starts one poller per destination queue of a source and builds the source's fan-out. Call
 * {@link localDestinationProblems} first: this assumes every destination can run locally.
 */
export async function startSourceDestinations(options: SourceDestinationsOptions): Promise<SourceDestinations> {
  const { source } = options;
  const clients = localClients(options.endpoints);
  const queues = options.resources.destinations[source.name] ?? {};
  const made: (DynamoDBClient | SQSClient)[] = [];
  const client = <T extends DynamoDBClient | SQSClient>(c: T): T => {
    options.instrument?.(c);
    made.push(c);
    return c;
  };
  // The fan-out's sends and the delivery table share clients; each poller long-polls on its own.
  const fanOutSqs = client(new SQSClient(clients.sqs));
  const dynamodb = client(new DynamoDBClient(clients.dynamodb));
  const pollers: Poller[] = [];
  const destinations: LocalDestination[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(pollers.map((p) => p.stop()));
    for (const c of made) c.destroy();
  };
  try {
    for (const [name, config] of Object.entries(source.destinations ?? {})) {
      const destination: NamedDestination = { ...config, name, source: source.name };
      const { queueUrl, dlqUrl } = queues[name] ?? { queueUrl: '', dlqUrl: '' };
      const sqs = client(new SQSClient(clients.sqs));
      const handler = await destinationHandler(destination, options, sqs, dynamodb, dlqUrl, queueUrl);
      pollers.push(
        await startPoller({
          sqs,
          queueUrl,
          handler,
          functionName: `hookgate-delivery-${source.name}-${name}`,
          batchSize: destination.batchSize,
          functionTimeoutMs: localDeliveryTimeoutSeconds(destination) * 1000,
          ...(options.waitTimeSeconds !== undefined ? { waitTimeSeconds: options.waitTimeSeconds } : {}),
          onError: (what, errorName) => options.onPollerError(name, what, errorName),
        }),
      );
      const target = destination.type === 'http' ? destination.url : destination.type === 'lambda' ? (destination.entry ?? '') : destination.busName;
      destinations.push({ source: source.name, name, type: destination.type, target, queueUrl, dlqUrl });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const fanOut = createFanOutHandler({
    destinations: destinations.map(({ name, queueUrl }) => ({ name, queueUrl, ...(source.destinations?.[name]?.events !== undefined ? { events: source.destinations[name].events } : {}) })),
    open: (record) => openMessage(record, { envelope: options.envelope, s3: options.s3, bucket: options.resources.bucket, source: source.name }),
    sqs: fanOutSqs,
    logger: options.logger,
    deadLetter: (record, reason) => moveToDeadLetterQueue(record, reason, { sqs: fanOutSqs, queueUrl: options.resources.queues[source.name]?.dlqUrl ?? '' }),
    ...(options.archive !== undefined ? { archive: options.archive } : {}),
  });
  return { fanOut, destinations, stop };
}
