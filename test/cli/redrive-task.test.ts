import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ListMessageMoveTasksCommand, type Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import type { AuditRecord } from '../../cli/audit';
import { ATTR, messageAttributes } from '../../lambda/ingest/message';
import { type QueuePair, RESOURCES_OUTPUT, SOURCE_OUTPUT_PREFIX } from '../../lib/stack-outputs';
import { type FakeAws, startFakeAws } from './fake-aws';
import { type FakeLogs, startFakeLogs } from './fake-logs';
import { run } from './harness';

// `dlq redrive` on a deployed environment: SQS's message move task (StartMessageMoveTask, then
// ListMessageMoveTasks until it ends), on local-aws-sqs, an SQS emulator that runs move tasks
// (fauxqs and moto do not). Its tasks move messages on a real one-second tick: the command's
// two-second wait between polls is replaced by a wait for that tick (untilTaskEnds).

const GROUP = 'hookgate-staging-Audit';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/HookgateOperator/alice';
const NOW = new Date('2026-12-01T12:00:00.000Z');
const STACK = ['--stack', 'hookgate-staging'];
const ENV_NAMES = ['AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDWATCH_LOGS', 'AWS_ENDPOINT_URL_SQS', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_PROFILE'];

/** local-aws-sqs behind a server that notes each action and whether the audit log held a redrive record when it arrived. */
interface TaskSqs {
  readonly endpoint: string;
  readonly actions: { action: string; audited: boolean }[];
  stop(): Promise<void>;
}

let sqsServer: TaskSqs;
let aws: FakeAws;
let logs: FakeLogs;
let sqs: SQSClient;
const queues: Record<string, QueuePair> = {};
const saved: Record<string, string | undefined> = {};

const redriveRecords = (): AuditRecord[] =>
  [...logs.streams.values()].flat().map((e) => JSON.parse(e.message) as AuditRecord).filter((r) => r.action === 'redrive');

async function startTaskSqs(): Promise<TaskSqs> {
  const { service, requestHandler } = createRequestHandler({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const actions: TaskSqs['actions'] = [];
  const server: Server = createServer((req, res) => {
    actions.push({ action: String(req.headers['x-amz-target'] ?? '').replace('AmazonSQS.', ''), audited: redriveRecords().length > 0 });
    void requestHandler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  service.PORT = (server.address() as AddressInfo).port;
  return { endpoint: `http://127.0.0.1:${service.PORT}`, actions, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A queue and its DLQ, the queue's redrive policy naming the DLQ (as the stack creates them). */
async function createPair(name: string): Promise<QueuePair> {
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl ?? '';
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 5 }) } }))).QueueUrl ?? '';
  return { queueUrl, dlqUrl };
}

/** Dead-letters hookgate messages of `source` (sealed bodies stand in as opaque text). */
async function deadLetter(source: string, dlqUrl: string, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const attributes = messageAttributes({ source, dedupeKey: `${source}:${id}`, eventId: id, eventType: 'invoice.paid', receivedAt: '2026-12-01T11:00:00.000Z' }, 'inline');
    await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: `sealed-${id}`, MessageAttributes: attributes }));
  }
}

async function receiveAll(queueUrl: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30, MessageAttributeNames: ['All'] }));
    if (Messages.length === 0) return out;
    out.push(...Messages);
  }
}

const keysOf = (messages: readonly Message[]): string[] => messages.map((m) => m.MessageAttributes?.[ATTR.dedupeKey]?.StringValue ?? '').sort();

/**
 * The command's wait between polls: records what it asked for, runs `before` (once per wait),
 * then waits (real time, in short steps) only until the DLQ's move task has left RUNNING, which
 * the emulator's one-second tick decides; so every run polls exactly twice.
 */
function untilTaskEnds(dlqUrl: string, asked: number[], before?: () => Promise<void>): (ms: number) => Promise<void> {
  return async (ms) => {
    asked.push(ms);
    await before?.();
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
    for (let i = 0; i < 250; i++) {
      const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: Attributes?.QueueArn, MaxResults: 1 }));
      if (Results[0]?.Status !== 'RUNNING') return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
}

beforeAll(async () => {
  [sqsServer, aws, logs] = await Promise.all([startTaskSqs(), startFakeAws(), startFakeLogs(GROUP)]);
  sqs = new SQSClient({ endpoint: sqsServer.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  for (const name of ['stripe', 'stripe_billing', 'orders', 'refunds']) queues[name] = await createPair(`hookgate-${name}`);
  const source = (name: string, destinations: Record<string, QueuePair> = {}): string => JSON.stringify({ source: name, ...queues[name], destinations });
  aws.callerArn = ALICE;
  aws.stacks.set('hookgate-staging', [
    { OutputKey: RESOURCES_OUTPUT, OutputValue: JSON.stringify({ environment: 'staging', auditLogGroup: GROUP, payloadBucket: 'payloads' }) },
    { OutputKey: `${SOURCE_OUTPUT_PREFIX}0`, OutputValue: source('stripe', { billing: queues.stripe_billing as QueuePair }) },
    { OutputKey: `${SOURCE_OUTPUT_PREFIX}1`, OutputValue: source('orders') },
    { OutputKey: `${SOURCE_OUTPUT_PREFIX}2`, OutputValue: source('refunds') },
  ]);
  for (const name of ENV_NAMES) saved[name] = process.env[name];
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_CLOUDFORMATION: aws.endpoint,
    AWS_ENDPOINT_URL_STS: aws.endpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
  });
  delete process.env.AWS_PROFILE;
}, 20_000);

afterAll(async () => {
  for (const name of ENV_NAMES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  sqs?.destroy();
  await Promise.all([sqsServer?.stop(), aws?.stop(), logs?.stop()]);
});

beforeEach(() => {
  sqsServer.actions.length = 0;
  logs.deny.clear();
});

describe('dlq redrive through a message move task (--stack)', () => {
  it('writes the audit record, starts the move task, shows its progress until it completes; the messages are back in the source queue', async () => {
    const stripe = queues.stripe as QueuePair;
    await deadLetter('stripe', stripe.dlqUrl, ['evt_1', 'evt_2', 'evt_3']);
    const asked: number[] = [];

    const r = await run(['dlq', 'redrive', '--source', 'stripe', '--reason', 'INC-12 fixed', ...STACK], { now: () => NOW, sleep: untilTaskEnds(stripe.dlqUrl, asked) });

    expect(r).toEqual({ code: 0, out: 'moved 3 message(s) from the DLQ of stripe back to its queue (message move task)\n', err: 'moving: 0 of ~3\n' });
    expect(asked).toEqual([2000]);
    expect(redriveRecords()).toEqual([{ at: NOW.toISOString(), who: ALICE, action: 'redrive', keys: ['dlq:stripe'], reason: 'INC-12 fixed', host: expect.any(String) }]);
    const start = sqsServer.actions.filter((a) => a.action === 'StartMessageMoveTask');
    expect(start).toEqual([{ action: 'StartMessageMoveTask', audited: true }]);
    const moved = await receiveAll(stripe.queueUrl);
    expect(keysOf(moved)).toEqual(['stripe:evt_1', 'stripe:evt_2', 'stripe:evt_3']);
    expect(moved.map((m) => m.Body).sort()).toEqual(['sealed-evt_1', 'sealed-evt_2', 'sealed-evt_3']);
    expect(await receiveAll(stripe.dlqUrl)).toEqual([]);
  });

  it('--destination moves a destination\'s DLQ back to that destination\'s queue; --json prints the result without progress lines', async () => {
    const billing = queues.stripe_billing as QueuePair;
    await deadLetter('stripe', billing.dlqUrl, ['evt_9']);

    const r = await run(['dlq', 'redrive', '--source', 'stripe', '--destination', 'billing', '--reason', 'INC-13', '--json', ...STACK], { now: () => NOW, sleep: untilTaskEnds(billing.dlqUrl, []) });

    expect(r).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(r.out)).toEqual({
      dlq: 'stripe/billing',
      moved: 1,
      status: 'COMPLETED',
      method: 'message move task',
      audit: { at: NOW.toISOString(), who: ALICE, action: 'redrive', keys: ['dlq:stripe/billing'], reason: 'INC-13', host: expect.any(String) },
    });
    expect(keysOf(await receiveAll(billing.queueUrl))).toEqual(['stripe:evt_9']);
  });

  it('a move task that fails (its destination queue deleted while it runs) ends the command with one line, exit 1; the messages stay in the DLQ', async () => {
    const orders = queues.orders as QueuePair;
    await deadLetter('orders', orders.dlqUrl, ['ord_1', 'ord_2']);
    let deleted = false;
    const deleteDestination = async (): Promise<void> => {
      if (deleted) return;
      deleted = true;
      await sqs.send(new DeleteQueueCommand({ QueueUrl: orders.queueUrl }));
    };

    const r = await run(['dlq', 'redrive', '--source', 'orders', '--reason', 'INC-14', ...STACK], { now: () => NOW, sleep: untilTaskEnds(orders.dlqUrl, [], deleteDestination) });

    expect(r).toEqual({ code: 1, out: '', err: 'moving: 0 of ~2\nhookgate: the move task of orders ended FAILED: AWS.SimpleQueueService.NonExistentQueue after 0 message(s)\n' });
    expect(deleted).toBe(true);
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: orders.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    // Received by the task and left there (nothing deleted): visible again after their visibility timeout.
    expect(Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('2');
    expect(redriveRecords().filter((rec) => rec.keys[0] === 'dlq:orders')).toHaveLength(1);
  });

  it('when the audit write is denied, no move task is started: exit 1, one line, the messages stay in the DLQ', async () => {
    const refunds = queues.refunds as QueuePair;
    await deadLetter('refunds', refunds.dlqUrl, ['re_1']);
    logs.deny.add('PutLogEvents');

    const r = await run(['dlq', 'redrive', '--source', 'refunds', '--reason', 'INC-15', ...STACK], { now: () => NOW, sleep: untilTaskEnds(refunds.dlqUrl, []) });

    expect(r).toEqual({ code: 1, out: '', err: 'hookgate: the audit record could not be written, so nothing was done (access denied: AccessDeniedException)\n' });
    expect(sqsServer.actions.map((a) => a.action)).not.toContain('StartMessageMoveTask');
    expect(keysOf(await receiveAll(refunds.dlqUrl))).toEqual(['refunds:re_1']);
  });
});
