import { GetQueueAttributesCommand, type Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { SQSRecord } from 'aws-lambda';
import { DEAD_LETTER_REASON, moveToDeadLetterQueue } from '../../lambda/ingest/dead-letter';
import { enqueue } from '../../lambda/ingest/enqueue';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { deletePayload, type MessageMetadata, messageAttributes, openMessage } from '../../lambda/ingest/message';
import { createProcessorHandler, type ProcessorDeps } from '../../lambda/processor/batch';
import { defineHandlers, type EventHandler } from '../../lambda/processor/api';
import { localClients, type LocalStack, startLocalStack } from '../../local/emulators';
import { createLocalKms, localKeyring } from '../../local/kms';
import { type Poller, startPoller, toSqsRecord } from '../../local/poller';
import { memoryLogger } from './fixtures';
import { testSource } from '../config/sources';

/**
 * The processor over the emulators, fed by the poller the way Lambda's event source mapping
 * feeds it: payload objects deleted after success, records that can never open moved to the DLQ.
 */

const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
};

let stack: LocalStack;
let sqs: SQSClient;
let s3: S3Client;
let poller: Poller | undefined;
const envelope = createEnvelope(localKeyring(createLocalKms()));
const SOURCES = ['large', 'failing', 'poison', 'unreachable', 'undeletable'] as const;
type Source = (typeof SOURCES)[number];

beforeAll(async () => {
  stack = await startLocalStack({ sources: SOURCES.map((name) => testSource({ name, provider: 'token', header: 'x-token', maxReceiveCount: 2 })), visibilityTimeoutSeconds: 1 });
  const clients = localClients(stack.endpoints);
  sqs = new SQSClient(clients.sqs);
  s3 = new S3Client(clients.s3);
}, 30_000);
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
});
afterAll(async () => {
  sqs.destroy();
  s3.destroy();
  await stack.stop();
});

const queuesOf = (source: Source): { queueUrl: string; dlqUrl: string } => stack.resources.queues[source] as { queueUrl: string; dlqUrl: string };
const bucket = (): string => stack.resources.bucket;

function metaFor(source: Source, n: number): MessageMetadata {
  return { source, dedupeKey: `${source}:evt_${n}`, eventId: `evt_${n}`, eventType: 'thing.happened', receivedAt: new Date().toISOString(), typeSigned: true };
}

/** Enqueues as the verifier does; a small inline limit sends the ciphertext through S3. */
async function send(meta: MessageMetadata, body: Buffer, viaS3: boolean): Promise<void> {
  const { queueUrl } = queuesOf(meta.source as Source);
  const sent = await enqueue(meta, body, { 'content-type': 'application/json' }, { envelope, sqs, s3, queueUrl, bucket: bucket(), ...(viaS3 ? { maxMessageBytes: 1024 } : {}) });
  expect(sent.payload).toBe(viaS3 ? 's3' : 'inline');
}

async function objectsOf(source: Source): Promise<number> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket(), Prefix: `${source}/` }));
  return listed.KeyCount ?? 0;
}

async function queued(queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function receiveAll(queueUrl: string): Promise<Message[]> {
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30, MessageAttributeNames: ['All'], AttributeNames: ['All'] }));
  return got.Messages ?? [];
}

/** Runs the processor of `source` as AWS wires it, with what a test overrides; records every open attempt. */
async function runProcessor(source: Source, handler: EventHandler, overrides: Partial<ProcessorDeps> = {}): Promise<{ opens: string[]; counts: Record<string, number> }> {
  const opens: string[] = [];
  const counts: Record<string, number> = {};
  const { queueUrl, dlqUrl } = queuesOf(source);
  const processor = createProcessorHandler({
    open: (record) => {
      opens.push(record.attributes.ApproximateReceiveCount);
      return openMessage(record, { envelope, s3, bucket: bucket(), source });
    },
    release: (message) => deletePayload(message, { s3, bucket: bucket() }),
    deadLetter: (record, reason) => moveToDeadLetterQueue(record, reason, { sqs, queueUrl: dlqUrl }),
    handlers: defineHandlers({ [source]: { '*': handler } }),
    logger: memoryLogger(),
    metrics: { count: (name, value) => void (counts[name] = (counts[name] ?? 0) + value), flush: () => undefined },
    ...overrides,
  });
  poller = await startPoller({ sqs, queueUrl, handler: processor, functionName: `p-${source}`, batchSize: 10, functionTimeoutMs: 30_000, waitTimeSeconds: 1 });
  return { opens, counts };
}

describe('processor on the emulated queues', () => {
  it('deletes a payload object from the bucket once its handler succeeded', async () => {
    const body = Buffer.alloc(4096, 0x61);
    await send(metaFor('large', 1), body, true);
    await send(metaFor('large', 2), Buffer.from('{"small":true}'), false);
    const seen: number[] = [];
    expect(await objectsOf('large')).toBe(1);

    await runProcessor('large', (event) => void seen.push(event.body.length));
    await until(async () => seen.length === 2 && (await queued(queuesOf('large').queueUrl)) === 0);

    expect(seen.sort()).toEqual([14, 4096]);
    await until(async () => (await objectsOf('large')) === 0);
  });

  it('keeps the payload object while the handler fails, so the message in the DLQ can still be opened', async () => {
    await send(metaFor('failing', 1), Buffer.alloc(4096, 0x62), true);

    const { opens } = await runProcessor('failing', () => {
      throw new Error('downstream refused');
    });
    let dead: Message[] = [];
    await until(async () => (dead = await receiveAll(queuesOf('failing').dlqUrl)).length > 0);

    expect(opens).toEqual(['1', '2']);
    expect(await objectsOf('failing')).toBe(1);
    const record = toSqsRecord(dead[0] as Message, 'arn:aws:sqs:us-east-1:000000000000:hookgate-failing-dlq', 'us-east-1');
    expect((await openMessage(record, { envelope, s3, bucket: bucket(), source: 'failing' })).body.length).toBe(4096);
  });

  it('moves a record that can never open to the DLQ on its first receive, with its body and attributes as sent', async () => {
    const meta = metaFor('poison', 1);
    const sealed = await envelope.seal(Buffer.from('{}'), { source: meta.source, dedupeKey: meta.dedupeKey }, { receivedAt: meta.receivedAt, typeSigned: true });
    // Sealed for one dedupe key, announced under another: EnvelopeMismatchError, forever.
    const attributes = messageAttributes({ ...meta, dedupeKey: 'poison:evt_other' }, 'inline');
    await sqs.send(new SendMessageCommand({ QueueUrl: queuesOf('poison').queueUrl, MessageBody: sealed.toString('base64'), MessageAttributes: attributes }));
    const handled: string[] = [];

    const { opens, counts } = await runProcessor('poison', (event) => void handled.push(event.dedupeKey));
    let dead: Message[] = [];
    await until(async () => (dead = await receiveAll(queuesOf('poison').dlqUrl)).length > 0);
    await until(async () => (await queued(queuesOf('poison').queueUrl)) === 0);

    expect(opens).toEqual(['1']);
    expect(handled).toEqual([]);
    expect(counts.DeadLettered).toBe(1);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.Body).toBe(sealed.toString('base64'));
    const { [DEAD_LETTER_REASON]: reason, ...kept } = dead[0]?.MessageAttributes ?? {};
    expect(reason?.StringValue).toBe('envelope_mismatch');
    expect(Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, v.StringValue]))).toEqual(
      Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, v.StringValue])),
    );
  });

  it('leaves a record that can never open to the normal retries when the DLQ refuses the copy, and SQS still dead-letters it', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queuesOf('unreachable').queueUrl, MessageBody: 'not a hookgate message' }));

    const { opens, counts } = await runProcessor('unreachable', () => undefined, {
      deadLetter: (record: SQSRecord, reason: string) => moveToDeadLetterQueue(record, reason, { sqs, queueUrl: `${queuesOf('unreachable').dlqUrl}-missing` }),
    });
    let dead: Message[] = [];
    await until(async () => (dead = await receiveAll(queuesOf('unreachable').dlqUrl)).length > 0);

    expect(opens).toEqual(['1', '2']);
    expect(counts.DeadLettered).toBeUndefined();
    expect(dead.map((m) => m.Body)).toEqual(['not a hookgate message']);
    expect(dead[0]?.MessageAttributes?.[DEAD_LETTER_REASON]).toBeUndefined();
  });

  it('counts a payload delete that fails and still reports the record done, so it is not processed again', async () => {
    await send(metaFor('undeletable', 1), Buffer.alloc(4096, 0x63), true);
    const seen: string[] = [];

    const { counts } = await runProcessor('undeletable', (event) => void seen.push(event.dedupeKey), {
      release: (message) => deletePayload(message, { s3, bucket: 'hookgate-no-such-bucket' }),
    });
    await until(async () => seen.length === 1 && (await queued(queuesOf('undeletable').queueUrl)) === 0);
    // One more visibility timeout: a record reported failed would come back by then.
    await new Promise((r) => setTimeout(r, 1500));

    expect(seen).toEqual(['undeletable:evt_1']);
    expect(counts).toMatchObject({ Processed: 1, PayloadDeleteFailures: 1 });
    expect(await objectsOf('undeletable')).toBe(1);
  });
});
