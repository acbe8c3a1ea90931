import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { DEAD_LETTER_REASON, moveToDeadLetterQueue } from '../../lambda/ingest/dead-letter';
import { enqueue } from '../../lambda/ingest/enqueue';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { type MessageMetadata, messageAttributes, messageSize, openMessage, payloadKey } from '../../lambda/ingest/message';
import { BatchFailedError } from '../../lambda/processor/batch';
import { chunkEntries, createFanOutHandler, type DestinationQueue, type FanOutDeps } from '../../lambda/processor/fan-out';
import { type Emulator, localClients, startFauxqs } from '../../local/emulators';
import { createLocalKms, localKeyring } from '../../local/kms';
import { type Poller, startPoller, toSqsRecord } from '../../local/poller';
import { memoryLogger } from './fixtures';

/**
 * The fan-out of a source's work queue to its destinations' queues, on fauxqs (SQS and S3) with
 * the real envelope over the local KMS: messages written as the verifier writes them, read as
 * Lambda hands them over, forwarded with real SendMessageBatch calls.
 */

const SOURCE = 'stripe';
const BUCKET = 'hookgate-payloads';
const ARN = 'arn:aws:sqs:us-east-1:000000000000:hookgate-stripe';

let fauxqs: Emulator;
let sqs: SQSClient;
let s3: S3Client;
let poller: Poller | undefined;
const kms = createLocalKms();
const envelope = createEnvelope(localKeyring(kms));
/** Every SendMessageBatch the fan-out made: queue URL and entry count. */
const batches: { queueUrl: string; entries: number }[] = [];

beforeAll(async () => {
  fauxqs = await startFauxqs();
  const clients = localClients({ dynamodb: '', sqs: fauxqs.endpoint, s3: fauxqs.endpoint });
  sqs = new SQSClient(clients.sqs);
  s3 = new S3Client(clients.s3);
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendMessageBatchCommand') {
        const input = args.input as { QueueUrl: string; Entries: unknown[] };
        batches.push({ queueUrl: input.QueueUrl, entries: input.Entries.length });
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordBatches' },
  );
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 30_000);
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
});
afterAll(async () => {
  sqs.destroy();
  s3.destroy();
  await fauxqs.stop();
});

let queues = 0;
/** A fresh queue (each test its own, so none sees another's messages). */
async function queue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  queues += 1;
  const created = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${queues}`, Attributes: { MaximumMessageSize: String(1024 * 1024), ...attributes } }));
  return created.QueueUrl as string;
}

/** A work queue whose redrive moves a message to its DLQ after two receives, as the stack sets it. */
async function workQueue(): Promise<{ queueUrl: string; dlqUrl: string }> {
  const dlqUrl = await queue('hookgate-stripe-dlq');
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const queueUrl = await queue('hookgate-stripe', { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 2 }) });
  return { queueUrl, dlqUrl };
}

let events = 0;
function meta(eventType: string | undefined): MessageMetadata {
  events += 1;
  return { source: SOURCE, dedupeKey: `${SOURCE}:evt_${events}`, eventId: `evt_${events}`, ...(eventType !== undefined ? { eventType } : {}), receivedAt: '2026-12-01T10:00:00.000Z', typeSigned: true };
}

/** Enqueues as the verifier does (a small inline limit sends the ciphertext through S3). */
async function send(queueUrl: string, eventType: string | undefined, options: { body?: Buffer; viaS3?: boolean } = {}): Promise<MessageMetadata> {
  const m = meta(eventType);
  const body = options.body ?? Buffer.from(`{"id":"${m.eventId ?? ''}","type":"${eventType ?? ''}"}`);
  await enqueue(m, body, { 'content-type': 'application/json' }, { envelope, sqs, s3, queueUrl, bucket: BUCKET, ...(options.viaS3 === true ? { maxMessageBytes: 1024 } : {}) });
  return m;
}

/** Every message now on a queue, as Lambda would hand them over. */
async function receiveAll(queueUrl: string, expected: number): Promise<Message[]> {
  const got: Message[] = [];
  // At least one receive, so that expecting none checks there is none.
  for (let round = 0; round < 10 && (round === 0 || got.length < expected); round += 1) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: expected === 0 ? 0 : 1, VisibilityTimeout: 60, MessageAttributeNames: ['All'], AttributeNames: ['All'] }));
    got.push(...(out.Messages ?? []));
  }
  return got;
}

async function recordsOf(queueUrl: string, expected: number): Promise<SQSRecord[]> {
  const messages = await receiveAll(queueUrl, expected);
  expect(messages).toHaveLength(expected);
  return messages.map((message) => toSqsRecord(message, ARN, 'us-east-1'));
}

const dedupeKeys = (messages: readonly Message[]): string[] => messages.map((m) => m.MessageAttributes?.dedupeKey?.StringValue ?? '').sort();

interface Run {
  counts: Record<string, number>;
  logger: ReturnType<typeof memoryLogger>;
  handler: ReturnType<typeof createFanOutHandler>;
}

/** The fan-out as the entry point wires it, over the emulators. */
function fanOut(destinations: readonly DestinationQueue[], dlqUrl: string, overrides: Partial<FanOutDeps> = {}): Run {
  const counts: Record<string, number> = {};
  const logger = memoryLogger();
  const handler = createFanOutHandler({
    destinations,
    open: (record) => openMessage(record, { envelope, s3, bucket: BUCKET, source: SOURCE }),
    sqs,
    deadLetter: (record, reason) => moveToDeadLetterQueue(record, reason, { sqs, queueUrl: dlqUrl }),
    logger,
    metrics: {
      count: (name, value, destination) => {
        const key = destination === undefined ? name : `${name}/${destination}`;
        counts[key] = (counts[key] ?? 0) + value;
      },
      flush: () => undefined,
    },
    ...overrides,
  });
  return { counts, logger, handler };
}

describe('fan-out to destination queues', () => {
  it('forwards each event to the destinations whose filter matches its type: prefix.*, exact, * and none', async () => {
    const { queueUrl, dlqUrl } = await workQueue();
    const billing = { name: 'billing', events: ['payment_intent.*'], queueUrl: await queue('billing') };
    const ehr = { name: 'ehr', events: ['customer.created'], queueUrl: await queue('ehr') };
    const star = { name: 'star', events: ['*'], queueUrl: await queue('star') };
    const every = { name: 'every', queueUrl: await queue('every') };
    const paid = await send(queueUrl, 'payment_intent.succeeded');
    const created = await send(queueUrl, 'customer.created');
    const updated = await send(queueUrl, 'customer.updated');
    const bare = await send(queueUrl, 'payment_intent');
    const untyped = await send(queueUrl, undefined);
    const { handler, counts } = fanOut([billing, ehr, star, every], dlqUrl);

    const response = await handler({ Records: await recordsOf(queueUrl, 5) });

    expect(response.batchItemFailures).toEqual([]);
    const all = [paid, created, updated, bare, untyped].map((m) => m.dedupeKey).sort();
    expect(dedupeKeys(await receiveAll(billing.queueUrl, 1))).toEqual([paid.dedupeKey]);
    expect(dedupeKeys(await receiveAll(ehr.queueUrl, 1))).toEqual([created.dedupeKey]);
    expect(dedupeKeys(await receiveAll(star.queueUrl, 5))).toEqual(all);
    expect(dedupeKeys(await receiveAll(every.queueUrl, 5))).toEqual(all);
    expect(counts).toEqual({ 'Forwarded/billing': 1, 'Forwarded/ehr': 1, 'Forwarded/star': 5, 'Forwarded/every': 5, Processed: 5 });
  });

  it('routes on the type sealed with the body, never on the eventType attribute', async () => {
    const { queueUrl, dlqUrl } = await workQueue();
    const billing = { name: 'billing', events: ['payment_intent.*'], queueUrl: await queue('billing') };
    const ehr = { name: 'ehr', events: ['customer.created'], queueUrl: await queue('ehr') };
    const m = meta('customer.created');
    const sealed = await envelope.seal(Buffer.from('{}'), { source: SOURCE, dedupeKey: m.dedupeKey }, { receivedAt: m.receivedAt, eventType: 'customer.created', typeSigned: true });
    // Whoever can send to the queue can write the attributes: this one claims another type.
    const forged = messageAttributes({ ...m, eventType: 'payment_intent.succeeded' }, 'inline');
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: sealed.toString('base64'), MessageAttributes: forged }));

    const response = await fanOut([billing, ehr], dlqUrl).handler({ Records: await recordsOf(queueUrl, 1) });

    expect(response.batchItemFailures).toEqual([]);
    expect(await receiveAll(billing.queueUrl, 0)).toEqual([]);
    expect(dedupeKeys(await receiveAll(ehr.queueUrl, 1))).toEqual([m.dedupeKey]);
  });

  it('forwards the record as it came, body and attributes byte for byte, and the destination opens it', async () => {
    const { queueUrl, dlqUrl } = await workQueue();
    const every = { name: 'every', queueUrl: await queue('every') };
    const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x00, 0x7d]);
    await send(queueUrl, 'payment_intent.succeeded', { body });
    const [record] = await recordsOf(queueUrl, 1);

    await fanOut([every], dlqUrl).handler({ Records: [record as SQSRecord] });
    const [forwarded] = await receiveAll(every.queueUrl, 1);

    expect(forwarded?.Body).toBe(record?.body);
    expect(forwarded?.MessageAttributes).toEqual(
      Object.fromEntries(Object.entries(record?.messageAttributes ?? {}).map(([name, value]) => [name, { DataType: value.dataType, StringValue: value.stringValue }])),
    );
    const opened = await openMessage(toSqsRecord(forwarded as Message, ARN, 'us-east-1'), { envelope, s3, bucket: BUCKET, source: SOURCE });
    expect(opened.body.equals(body)).toBe(true);
    expect(opened.eventType).toBe('payment_intent.succeeded');
  });

  it('sends at most 10 entries per SendMessageBatch', async () => {
    const { queueUrl, dlqUrl } = await workQueue();
    const every = { name: 'every', queueUrl: await queue('every') };
    for (let n = 0; n < 12; n += 1) await send(queueUrl, 'thing.happened');
    const records = await recordsOf(queueUrl, 12);

    const { handler, counts } = fanOut([every], dlqUrl);
    await handler({ Records: records });

    expect(batches.filter((b) => b.queueUrl === every.queueUrl).map((b) => b.entries)).toEqual([10, 2]);
    expect(await receiveAll(every.queueUrl, 12)).toHaveLength(12);
    expect(counts['Forwarded/every']).toBe(12);
  });

  it('sends at most 1 MiB per SendMessageBatch, counted as SQS counts it', async () => {
    const { queueUrl, dlqUrl } = await workQueue();
    const every = { name: 'every', queueUrl: await queue('every') };
    // Three messages of ~400 KB: two fit in one call, three would be refused as BatchRequestTooLong.
    for (let n = 0; n < 3; n += 1) await send(queueUrl, 'scan.uploaded', { body: Buffer.alloc(300_000, 0x61 + n) });
    const records = await recordsOf(queueUrl, 3);

    const response = await fanOut([every], dlqUrl).handler({ Records: records });

    expect(response.batchItemFailures).toEqual([]);
    expect(batches.filter((b) => b.queueUrl === every.queueUrl).map((b) => b.entries)).toEqual([2, 1]);
    expect(await receiveAll(every.queueUrl, 3)).toHaveLength(3);
  });

  it('splits entries by count and bytes, in order, and sends an oversized entry alone', () => {
    const sizes = (chunks: { size: number }[][]): number[][] => chunks.map((chunk) => chunk.map((e) => e.size));

    expect(sizes(chunkEntries([4, 4, 4, 4].map((size) => ({ size })), 10))).toEqual([[4, 4], [4, 4]]);
    expect(sizes(chunkEntries([20, 1, 1].map((size) => ({ size })), 10))).toEqual([[20], [1, 1]]);
    expect(chunkEntries(Array.from({ length: 21 }, () => ({ size: 1 })), 100).map((chunk) => chunk.length)).toEqual([10, 10, 1]);
  });

  it('fails only the record a destination queue refused; the others of the call are forwarded', async () => {
    const { queueUrl, dlqUrl } = await workQueue();
    // A queue that takes small messages only: SQS refuses the large entry, accepts the other.
    const limited = { name: 'small', queueUrl: await queue('small', { MaximumMessageSize: '1024' }) };
    const small = await send(queueUrl, 'a.b');
    await send(queueUrl, 'a.b', { body: Buffer.alloc(2048, 0x62) });
    const records = await recordsOf(queueUrl, 2);
    const large = records.find((r) => messageSize(r.body, {}) > 1024) as SQSRecord;
    expect(large).toBeDefined();

    const { handler, counts, logger } = fanOut([limited], dlqUrl);
    const response = await handler({ Records: records });

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: large.messageId }]);
    expect(batches.filter((b) => b.queueUrl === limited.queueUrl).map((b) => b.entries)).toEqual([2]);
    expect(dedupeKeys(await receiveAll(limited.queueUrl, 1))).toEqual([small.dedupeKey]);
    expect(counts).toMatchObject({ 'Forwarded/small': 1, Processed: 1, ProcessingFailures: 1 });
    expect(logger.lines.some((line) => line.includes('destination queue refused messages') && line.includes('InvalidParameterValue'))).toBe(true);
    const warned = logger.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => String(line.message).startsWith('event not forwarded'));
    expect(warned).toMatchObject({ level: 'warn', destination: 'small', dedupeKey: large.messageAttributes.dedupeKey?.stringValue });
  });

  it('retries a record whose destination queue cannot be reached, until the source DLQ; the other destination gets each event once', async () => {
    const { queueUrl, dlqUrl } = await workQueue();
    const billing = { name: 'billing', events: ['payment_intent.*'], queueUrl: await queue('billing') };
    const gone = { name: 'gone', events: ['refund.*'], queueUrl: `${billing.queueUrl}-deleted` };
    const paid = await send(queueUrl, 'payment_intent.succeeded');
    const refund = await send(queueUrl, 'refund.created');
    const opened: string[] = [];
    const { handler } = fanOut([billing, gone], dlqUrl, {
      open: (record) => {
        opened.push(`${record.messageAttributes.dedupeKey?.stringValue ?? ''}#${record.attributes.ApproximateReceiveCount}`);
        return openMessage(record, { envelope, s3, bucket: BUCKET, source: SOURCE });
      },
    });

    poller = await startPoller({ sqs, queueUrl, handler: (event) => handler(event), functionName: 'fan-out', batchSize: 10, functionTimeoutMs: 30_000, waitTimeSeconds: 1 });
    let dead: Message[] = [];
    const deadline = Date.now() + 15_000;
    while (dead.length === 0 && Date.now() < deadline) dead = await receiveAll(dlqUrl, 1);

    expect(dedupeKeys(dead)).toEqual([refund.dedupeKey]);
    expect(opened.filter((o) => o.startsWith(refund.dedupeKey)).sort()).toEqual([`${refund.dedupeKey}#1`, `${refund.dedupeKey}#2`]);
    expect(dedupeKeys(await receiveAll(billing.queueUrl, 1))).toEqual([paid.dedupeKey]);
  });

  it('moves a record that can never open to the source DLQ at once, and forwards nothing of it', async () => {
    const { queueUrl, dlqUrl } = await workQueue();
    const every = { name: 'every', queueUrl: await queue('every') };
    const m = meta('a.b');
    const sealed = await envelope.seal(Buffer.from('{}'), { source: SOURCE, dedupeKey: m.dedupeKey }, { receivedAt: m.receivedAt, typeSigned: true });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: sealed.toString('base64'), MessageAttributes: messageAttributes({ ...m, dedupeKey: `${m.dedupeKey}-other` }, 'inline') }));

    const { handler, counts } = fanOut([every], dlqUrl);
    const response = await handler({ Records: await recordsOf(queueUrl, 1) });
    const [dead] = await receiveAll(dlqUrl, 1);

    expect(response.batchItemFailures).toEqual([]);
    expect(dead?.Body).toBe(sealed.toString('base64'));
    expect(dead?.MessageAttributes?.[DEAD_LETTER_REASON]?.StringValue).toBe('envelope_mismatch');
    expect(await receiveAll(every.queueUrl, 0)).toEqual([]);
    expect(counts).toEqual({ DeadLettered: 1, Processed: 0 });
  });

  it('fails a record that cannot open for now (KMS down) rather than moving it, and throws when the whole batch failed', async () => {
    const { queueUrl, dlqUrl } = await workQueue();
    const every = { name: 'every', queueUrl: await queue('every') };
    // A fresh envelope: no cached data key, so opening calls the (failing) KMS.
    const cold = createEnvelope(localKeyring(kms));
    await send(queueUrl, 'a.b');
    const records = await recordsOf(queueUrl, 1);
    kms.failNext(1);

    const { handler, counts } = fanOut([every], dlqUrl, { open: (record) => openMessage(record, { envelope: cold, s3, bucket: BUCKET, source: SOURCE }) });

    await expect(handler({ Records: records })).rejects.toBeInstanceOf(BatchFailedError);
    expect(await receiveAll(dlqUrl, 0)).toEqual([]);
    expect(counts).toMatchObject({ ProcessingFailures: 1 });
  });

  it('leaves a payload stored in S3 for the destinations to read', async () => {
    const { queueUrl, dlqUrl } = await workQueue();
    const every = { name: 'every', queueUrl: await queue('every') };
    const body = Buffer.alloc(4096, 0x63);
    const m = await send(queueUrl, 'scan.uploaded', { body, viaS3: true });

    await fanOut([every], dlqUrl).handler({ Records: await recordsOf(queueUrl, 1) });
    const [forwarded] = await receiveAll(every.queueUrl, 1);

    expect(forwarded?.MessageAttributes?.payload?.StringValue).toBe('s3');
    await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: payloadKey(SOURCE, m.dedupeKey) }))).resolves.toBeDefined();
    const opened = await openMessage(toSqsRecord(forwarded as Message, ARN, 'us-east-1'), { envelope, s3, bucket: BUCKET, source: SOURCE });
    expect(opened.body.equals(body)).toBe(true);
  });

  it('drops an event that matches no destination on purpose: counted, logged with its metadata only', async () => {
    const { queueUrl, dlqUrl } = await workQueue();
    const billing = { name: 'billing', events: ['payment_intent.*'], queueUrl: await queue('billing') };
    const body = Buffer.from('{"patient":"Jane Roe"}');
    const m = await send(queueUrl, 'customer.deleted', { body });

    const { handler, counts, logger } = fanOut([billing], dlqUrl);
    const response = await handler({ Records: await recordsOf(queueUrl, 1) });

    expect(response.batchItemFailures).toEqual([]);
    expect(counts).toEqual({ Unmatched: 1, Processed: 1 });
    const line = logger.lines.find((l) => l.includes('event matches no destination; dropped'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 'info', dedupeKey: m.dedupeKey, eventType: 'customer.deleted', source: SOURCE });
    expect(logger.lines.join('\n')).not.toContain('Jane Roe');
    expect(await receiveAll(billing.queueUrl, 0)).toEqual([]);
  });

  it('refuses to start without destinations, which would drop every event', () => {
    expect(() => createFanOutHandler({ destinations: [], open: async () => Promise.reject(new Error('unused')), sqs, logger: memoryLogger() })).toThrow('at least one destination');
  });
});
