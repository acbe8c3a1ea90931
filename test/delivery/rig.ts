import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { DestinationConfigInput, NamedDestination } from '../../lambda/config/destinations';
import { createCircuitStore } from '../../lambda/delivery/circuit';
import { createDeliveryHandler, type DeliveryDeps, type DeliveryQueue } from '../../lambda/delivery/engine';
import { createHistoryStore } from '../../lambda/delivery/history';
import { createDeliveryQueue } from '../../lambda/delivery/queue';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { ATTR, type MessageMetadata, messageAttributes, openMessage } from '../../lambda/ingest/message';
import { type Emulator, localClients, startDynamo, startFauxqs } from '../../local/emulators';
import { createLocalKms, localKeyring } from '../../local/kms';
import { successes, toSqsRecord } from '../../local/poller';
import { memoryLogger } from '../processor/fixtures';
import { lambdaContext } from '../ingest/helpers';
import { createDeliveryTable, memoryMetrics, testDestination } from './harness';

/**
 * The delivery engine over the emulators: a delivery table in dynalite, a destination queue and
 * its DLQ in fauxqs, messages sealed as the verifier (and the fan-out) writes them, and a
 * virtual clock. SQS time follows the virtual clock: a visibility the engine sets is real, and
 * `advance` makes visible again the messages whose wait has passed in virtual time.
 */

export const SOURCE = 'stripe';
export const TABLE = 'hookgate-delivery';
/** The destination queues' visibility timeout: what a record reported failed without a visibility change waits. */
export const QUEUE_VISIBILITY_SECONDS = 30;

export interface Emulators {
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string };
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  stop(): Promise<void>;
}

export const envelope = createEnvelope(localKeyring(createLocalKms()));

/** Starts dynalite and fauxqs and creates the delivery table. */
export async function startEmulators(): Promise<Emulators> {
  const [dynamo, fauxqs] = (await Promise.all([startDynamo(), startFauxqs()])) as [Emulator, Emulator];
  const endpoints = { dynamodb: dynamo.endpoint, sqs: fauxqs.endpoint };
  const clients = localClients({ ...endpoints, s3: fauxqs.endpoint });
  const dynamodb = new DynamoDBClient(clients.dynamodb);
  const sqs = new SQSClient(clients.sqs);
  await createDeliveryTable(dynamodb, TABLE);
  return {
    endpoints,
    dynamodb,
    sqs,
    stop: async () => {
      dynamodb.destroy();
      sqs.destroy();
      await Promise.all([dynamo.stop(), fauxqs.stop()]);
    },
  };
}

let queues = 0;

/** Creates a destination queue (redrive to its DLQ after 1000 receives, the SQS maximum) and its DLQ. */
export async function createQueues(sqs: SQSClient, visibilitySeconds = QUEUE_VISIBILITY_SECONDS): Promise<{ queueUrl: string; queueArn: string; dlqUrl: string }> {
  queues += 1;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `dest-${queues}-dlq` }));
  const dlqUrl = dlq.QueueUrl as string;
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `dest-${queues}`,
      Attributes: { VisibilityTimeout: String(visibilitySeconds), RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1000 }) },
    }),
  );
  const queueUrl = queue.QueueUrl as string;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn as string;
  return { queueUrl, queueArn, dlqUrl };
}

/** The metadata of test event `id`. */
export function metaOf(id: string): MessageMetadata {
  return { source: SOURCE, dedupeKey: `${SOURCE}:${id}`, eventId: id, eventType: 'invoice.paid', receivedAt: '2026-12-01T09:59:59.000Z', typeSigned: true };
}

/** A body holding a marker that must never show up in logs, metrics or the history. */
export const bodyOf = (id: string): Buffer => Buffer.from(`{"id":"${id}","patient":"PHI-MARKER-${id}"}`);
export const HEADERS = { 'content-type': 'application/json', 'user-agent': 'HEADER-VALUE-MARKER/1.0' };

/** Sends event `id` to a queue as the fan-out does (sealed body, hookgate attributes), with extra attributes. */
export async function sendEvent(sqs: SQSClient, queueUrl: string, id: string, extra: Record<string, MessageAttributeValue> = {}): Promise<void> {
  const meta = metaOf(id);
  const { source, dedupeKey, eventId, eventType, receivedAt, typeSigned } = meta;
  const sealed = await envelope.seal(bodyOf(id), { source, dedupeKey }, { eventId, eventType, receivedAt, typeSigned }, HEADERS);
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: sealed.toString('base64'), MessageAttributes: { ...messageAttributes(meta, 'inline'), ...extra } }));
}

/** A replay id attribute. */
export const replayAttribute = (value: string): Record<string, MessageAttributeValue> => ({ [ATTR.replayId]: { DataType: 'String', StringValue: value } });

/** Opens records of the test source as the delivery function does. */
export const openRecord = (record: SQSRecord) => openMessage(record, { envelope, s3: () => Promise.reject(new Error('no payload bucket in these tests')), bucket: 'none', source: SOURCE });

/** Receives up to `max` visible messages as Lambda records. */
export async function receive(sqs: SQSClient, queueUrl: string, queueArn: string, max = 10): Promise<SQSRecord[]> {
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: max, WaitTimeSeconds: 0, AttributeNames: ['All'], MessageAttributeNames: ['All'] }));
  return (got.Messages ?? []).map((m) => toSqsRecord(m, queueArn, 'us-east-1'));
}

/** Every message of a queue (made invisible for a minute so a second call does not see them twice). */
export async function drain(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60, AttributeNames: ['All'], MessageAttributeNames: ['All'] }));
    if ((got.Messages ?? []).length === 0) return out;
    out.push(...(got.Messages ?? []));
  }
}

/** Messages in a queue, visible or not. */
export async function queued(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Deletes what Lambda would delete after an invocation: the records not reported failed. */
export async function deleteSuccesses(sqs: SQSClient, queueUrl: string, records: readonly SQSRecord[], response: SQSBatchResponse | void): Promise<void> {
  const done = successes(records, response);
  if (done.length === 0) return;
  await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })) }));
}

/** A destination with its queues, engine and virtual clock. */
export interface Rig {
  readonly destination: NamedDestination;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly clock: { now: number };
  readonly metrics: ReturnType<typeof memoryMetrics>;
  readonly logger: ReturnType<typeof memoryLogger>;
  /** Every visibility the engine set, seconds, in order. */
  readonly visibilities: number[];
  /** The first-receive time of each message (SQS attribute), by message id. */
  readonly firstReceives: Map<string, number>;
  /** The engine's dependencies, for building more handlers (concurrency tests). */
  readonly deps: DeliveryDeps;
  send(id: string, extra?: Record<string, MessageAttributeValue>): Promise<void>;
  /** One invocation on what is visible now; deletes the successes. */
  tick(options?: { readonly batchSize?: number; readonly remainingMs?: number }): Promise<{ readonly records: SQSRecord[]; readonly failed: string[] }>;
  /** Moves the virtual clock, making visible the messages whose wait has passed. */
  advance(seconds: number): Promise<void>;
  /** Seconds until the next waiting message is due (undefined when none waits). */
  nextDue(): number | undefined;
}

/** What a test changes in the engine's dependencies. */
export type RigOverrides = Partial<Omit<DeliveryDeps, 'destination' | 'queue' | 'now'>> & { readonly wrapQueue?: (queue: DeliveryQueue) => DeliveryQueue };

/** Creates a destination (an http one with `fields`) on fresh queues, with its engine. */
export async function createRig(emulators: Emulators, name: string, fields: Partial<DestinationConfigInput>, overrides: RigOverrides): Promise<Rig> {
  const { sqs, dynamodb } = emulators;
  const { queueUrl, queueArn, dlqUrl } = await createQueues(sqs);
  const destination = testDestination(name, SOURCE, fields);
  const clock = { now: Date.now() };
  const due = new Map<string, { receiptHandle: string; dueMs: number }>();
  const visibilities: number[] = [];
  const firstReceives = new Map<string, number>();
  const real = createDeliveryQueue({ sqs, queueUrlOf: () => queueUrl, deadLetterQueueUrl: dlqUrl });
  const tracked: DeliveryQueue = {
    async changeVisibility(record, seconds) {
      await real.changeVisibility(record, seconds);
      visibilities.push(seconds);
      due.set(record.messageId, { receiptHandle: record.receiptHandle, dueMs: clock.now + seconds * 1000 });
    },
    deadLetter: (record, reason) => real.deadLetter(record, reason),
  };
  const { wrapQueue, ...rest } = overrides;
  const metrics = memoryMetrics();
  const logger = memoryLogger();
  const deps: DeliveryDeps = {
    destination,
    open: openRecord,
    target: { deliver: () => Promise.reject(new Error('no target given')) },
    circuit: createCircuitStore({ client: dynamodb, tableName: TABLE }, { source: SOURCE, destination: name }),
    history: createHistoryStore({ client: dynamodb, tableName: TABLE, days: 30 }),
    queue: wrapQueue === undefined ? tracked : wrapQueue(tracked),
    metrics,
    logger,
    now: () => clock.now,
    random: () => 0.5,
    sleep: async (ms) => void (clock.now += ms),
    ...rest,
  };
  const handler = createDeliveryHandler(deps);

  return {
    destination,
    queueUrl,
    queueArn,
    dlqUrl,
    clock,
    metrics,
    logger,
    visibilities,
    firstReceives,
    deps,
    send: (id, extra) => sendEvent(sqs, queueUrl, id, extra),
    async tick(options = {}) {
      const records = await receive(sqs, queueUrl, queueArn, options.batchSize ?? destination.batchSize);
      for (const record of records) {
        firstReceives.set(record.messageId, Number(record.attributes.ApproximateFirstReceiveTimestamp));
        // Reported failed without a visibility change: back after the queue's visibility timeout.
        due.set(record.messageId, { receiptHandle: record.receiptHandle, dueMs: clock.now + QUEUE_VISIBILITY_SECONDS * 1000 });
      }
      if (records.length === 0) return { records, failed: [] };
      const response = await handler({ Records: records }, lambdaContext(options.remainingMs ?? 60_000));
      await deleteSuccesses(sqs, queueUrl, records, response);
      const failed = response.batchItemFailures.map((f) => f.itemIdentifier);
      for (const record of records) if (!failed.includes(record.messageId)) due.delete(record.messageId);
      return { records, failed };
    },
    async advance(seconds) {
      clock.now += seconds * 1000;
      for (const [id, entry] of due) {
        if (entry.dueMs > clock.now) continue;
        await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: entry.receiptHandle, VisibilityTimeout: 0 }));
        due.delete(id);
      }
    },
    nextDue() {
      const times = [...due.values()].map((e) => e.dueMs);
      return times.length === 0 ? undefined : Math.max(0, Math.ceil((Math.min(...times) - clock.now) / 1000));
    },
  };
}
