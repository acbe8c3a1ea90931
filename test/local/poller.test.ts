import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { localClients, type LocalStack, startLocalStack } from '../../local/emulators';
import { testSource } from '../config/sources';
import { type Poller, startPoller, successes } from '../../local/poller';

const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
};

async function visibleAndInFlight(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

describe('SQS poller', () => {
  let stack: LocalStack;
  let sqs: SQSClient;
  let poller: Poller | undefined;
  beforeAll(async () => {
    stack = await startLocalStack({
      sources: [
        testSource({ name: 'batches', provider: 'github', maxReceiveCount: 2 }),
        testSource({ name: 'poison', provider: 'github', maxReceiveCount: 2 }),
        testSource({ name: 'thrower', provider: 'github', maxReceiveCount: 5 }),
      ],
      visibilityTimeoutSeconds: 1,
    });
    sqs = new SQSClient(localClients(stack.endpoints).sqs);
  }, 30_000);
  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
  });
  afterAll(async () => {
    sqs.destroy();
    await stack.stop();
  });

  it('feeds Lambda-shaped batches and deletes the records that succeeded', async () => {
    const { queueUrl } = stack.resources.queues.batches!;
    for (let i = 0; i < 12; i += 1) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `m${i}`, MessageAttributes: { source: { DataType: 'String', StringValue: 'batches' } } }));
    }
    const batches: SQSEvent[] = [];

    poller = await startPoller({ sqs, queueUrl, functionName: 'p', batchSize: 5, functionTimeoutMs: 30_000, waitTimeSeconds: 1, handler: async (event) => void batches.push(event) });
    await until(() => batches.flatMap((b) => b.Records).length >= 12);
    await poller.stop();

    expect(Math.max(...batches.map((b) => b.Records.length))).toBeLessThanOrEqual(5);
    const record = batches[0]!.Records[0]!;
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      awsRegion: 'us-east-1',
      eventSourceARN: expect.stringMatching(/^arn:aws:sqs:.*hookgate-batches$/),
      messageAttributes: { source: { dataType: 'String', stringValue: 'batches', stringListValues: [], binaryListValues: [] } },
      attributes: { ApproximateReceiveCount: '1' },
    });
    expect(record.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(record.receiptHandle.length).toBeGreaterThan(0);
    expect(new Set(batches.flatMap((b) => b.Records.map((r) => r.body))).size).toBe(12);
    expect(await visibleAndInFlight(sqs, queueUrl)).toBe(0);
  });

  it('retries only the reported failure, which ends in the DLQ after maxReceiveCount', async () => {
    const { queueUrl, dlqUrl } = stack.resources.queues.poison!;
    for (const body of ['good-1', 'bad', 'good-2']) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const attempts: Record<string, string[]> = {};
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      for (const r of event.Records) (attempts[r.body] ??= []).push(r.attributes.ApproximateReceiveCount);
      return { batchItemFailures: event.Records.filter((r) => r.body === 'bad').map((r) => ({ itemIdentifier: r.messageId })) };
    };

    poller = await startPoller({ sqs, queueUrl, functionName: 'p', batchSize: 10, functionTimeoutMs: 30_000, waitTimeSeconds: 1, handler });
    const moved: string[] = [];
    await until(async () => {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1 }));
      moved.push(...(got.Messages ?? []).map((m) => m.Body ?? ''));
      return moved.length > 0;
    });

    expect(moved).toEqual(['bad']);
    expect(attempts.bad).toEqual(['1', '2']);
    expect(attempts['good-1']).toEqual(['1']);
    expect(attempts['good-2']).toEqual(['1']);
    expect(await visibleAndInFlight(sqs, queueUrl)).toBe(0);
  });

  it('deletes nothing when the function throws, so the whole batch comes back', async () => {
    const { queueUrl } = stack.resources.queues.thrower!;
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));
    const errors: string[] = [];
    const seen: string[] = [];
    let calls = 0;
    const handler = async (event: SQSEvent): Promise<void> => {
      calls += 1;
      seen.push(...event.Records.map((r: SQSRecord) => r.attributes.ApproximateReceiveCount));
      if (calls === 1) throw new TypeError('crash');
    };

    poller = await startPoller({ sqs, queueUrl, functionName: 'p', batchSize: 10, functionTimeoutMs: 30_000, waitTimeSeconds: 1, handler, onError: (what, name) => errors.push(`${what}:${name}`) });
    await until(() => calls >= 2);
    await poller.stop();

    expect(seen).toEqual(['1', '2']);
    expect(errors).toEqual(['invoke:TypeError']);
    await until(async () => (await visibleAndInFlight(sqs, queueUrl)) === 0);
  });
});

describe('which records the poller deletes', () => {
  const records = ['a', 'b', 'c'].map((messageId) => ({ messageId }) as SQSRecord);

  it('deletes all records when the function returns nothing or no failures', () => {
    expect(successes(records, undefined).map((r) => r.messageId)).toEqual(['a', 'b', 'c']);
    expect(successes(records, { batchItemFailures: [] }).map((r) => r.messageId)).toEqual(['a', 'b', 'c']);
  });

  it('keeps every record when a failure names no record of the batch, as Lambda does', () => {
    expect(successes(records, { batchItemFailures: [{ itemIdentifier: 'zzz' }] })).toEqual([]);
    expect(successes(records, { batchItemFailures: [{ itemIdentifier: '' }] })).toEqual([]);
  });
});
