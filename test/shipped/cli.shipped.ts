import { getClient, KMS, KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, CreateLogGroupCommand, DeleteLogGroupCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { type AuditRecord, auditStreamName } from '../../cli/audit';
import { runCli } from '../../cli/main';
import { archiveBatch } from '../../lambda/archive/writer';
import { destinationSchema } from '../../lambda/config/destinations';
import { createHistoryStore } from '../../lambda/delivery/history';
import { enqueue } from '../../lambda/ingest/enqueue';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { ATTR, type MessageMetadata } from '../../lambda/ingest/message';
import { RESOURCES_OUTPUT, SOURCE_OUTPUT_PREFIX, type SourceResources, type StackResources } from '../../lib/stack-outputs';
import { createResources, type LocalResources } from '../../local/emulators';
import { toSqsRecord } from '../../local/poller';
import { MOTO_ACCOUNT, MOTO_REGION, type Moto, startMoto } from './moto';
import { ADMIN_ACCESS_KEY } from './resources';

/**
 * The `hookgate` command against a deployed environment, every AWS service of it moto's: the
 * stack's resources (queues, buckets, the delivery table, the KMS key, the audit log group) and a
 * CloudFormation stack whose outputs describe them as lib/hookgate.ts writes them. Bodies are
 * sealed and enqueued by the verifier's own code (a KMS keyring on moto's key), archived by the
 * processor's writer; the command then finds everything from `--stack` alone, with the standard
 * credential chain (an operator's assumed-role session) and `AWS_ENDPOINT_URL`.
 *
 * Not here: `dlq redrive`, whose message move task moto does not implement
 * (test/cli/redrive-task.test.ts runs it on an SQS emulator that does).
 */

const STACK = 'hookgate-moto';
const AUDIT_GROUP = 'hookgate-moto-AuditLog';
const OPERATOR_ROLE = `arn:aws:iam::${MOTO_ACCOUNT}:role/HookgateOperator`;
const CALLER = `arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/HookgateOperator/alice`;
/** The command's view of time: real time (CloudWatch Logs refuses events far from it), fixed for the suite. */
const NOW = new Date();
const minutesAgo = (n: number): string => new Date(NOW.getTime() - n * 60_000).toISOString();

/** Bytes that are not valid UTF-8, so only an exact write gets them through. */
const BINARY_BODY = Buffer.from([0x7b, 0xff, 0x00, 0xfe, 0x0a, 0x7d]);
/** Over the SQS limit once sealed: enqueued through the payload bucket, archived from there. */
const LARGE_BODY = Buffer.alloc(900 * 1024, 0x62);

const EVENTS = [
  { source: 'stripe', key: 'stripe:evt_1', eventId: 'evt_1', type: 'invoice.paid', at: minutesAgo(50), body: Buffer.from('{"id":"evt_1","patient":"PHI-MARKER-1"}') },
  { source: 'stripe', key: 'stripe:evt_2', eventId: 'evt_2', type: 'invoice.failed', at: minutesAgo(40), body: BINARY_BODY },
  { source: 'stripe', key: 'stripe:evt_3', eventId: 'evt_3', type: 'invoice.paid', at: minutesAgo(30), body: LARGE_BODY },
  { source: 'orders', key: 'orders:ord_1', eventId: 'ord_1', type: 'order.created', at: minutesAgo(20), body: Buffer.from('{"order":1}') },
] as const;

let moto: Moto;
let created: LocalResources;
let admin: { sqs: SQSClient; s3: S3Client; dynamodb: DynamoDBClient; kms: KMSClient; logs: CloudWatchLogsClient; cfn: CloudFormationClient; sts: STSClient };
/** What the verifier enqueued, per dedupe key: the message body (base64 ciphertext, or a pointer). */
const enqueued = new Map<string, Message>();
const ENV_NAMES = ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_PROFILE'];
const saved: Record<string, string | undefined> = {};

interface Run {
  readonly code: number;
  /** Stdout exactly as written (text and bytes). */
  readonly out: Buffer;
  readonly err: string;
}

/** `hookgate <args> --stack hookgate-moto`, in-process, stdout kept as bytes. */
async function hookgate(...args: string[]): Promise<Run> {
  const chunks: Buffer[] = [];
  let err = '';
  const code = await runCli([...args, '--stack', STACK], {
    now: () => NOW,
    sleep: () => Promise.resolve(),
    io: { out: (t) => void chunks.push(Buffer.from(t, 'utf8')), err: (t) => void (err += t), bytes: (b) => void chunks.push(Buffer.from(b)) },
  });
  return { code, out: Buffer.concat(chunks), err };
}

const text = (r: Run): string => r.out.toString('utf8');

/** Receives and deletes every message now on a queue. */
async function drain(queueUrl: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const { Messages = [] } = await admin.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'], MessageAttributeNames: ['All'] }));
    if (Messages.length === 0) return out;
    out.push(...Messages);
    await admin.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
  }
}

/** The outputs lib/hookgate.ts gives the stack, for these resources. */
function stackOutputs(keyArn: string): Record<string, { Description: string; Value: string }> {
  const resources: StackResources = {
    environment: 'moto',
    auditLogGroup: AUDIT_GROUP,
    payloadBucket: created.bucket,
    archiveBucket: created.archiveBucket,
    keyArn,
    ...(created.deliveryTableName === undefined ? {} : { deliveryTable: created.deliveryTableName }),
  };
  const sources = Object.entries(created.queues).map(([source, queues]): SourceResources => ({ source, ...queues, destinations: created.destinations[source] ?? {} }));
  return {
    WebhooksUrl: { Description: 'Base URL of the webhooks', Value: `https://example.execute-api.${MOTO_REGION}.amazonaws.com/prod/webhooks` },
    [RESOURCES_OUTPUT]: { Description: 'hookgate command: stack-wide resources (JSON)', Value: JSON.stringify(resources) },
    ...Object.fromEntries(sources.map((s, i) => [`${SOURCE_OUTPUT_PREFIX}${i}`, { Description: `hookgate command: source ${s.source} (JSON)`, Value: JSON.stringify(s) }])),
  };
}

/** Seals and enqueues each event as the verifier does, then archives each work queue's batch as its processor does. */
async function acceptAndArchive(keyArn: string): Promise<void> {
  const envelope = createEnvelope(new KmsKeyringNode({ generatorKeyId: keyArn, clientProvider: getClient(KMS, { endpoint: moto.endpoint, credentials: { accessKeyId: 'verifier', secretAccessKey: 'verifier' } }) }));
  for (const e of EVENTS) {
    const meta: MessageMetadata = { source: e.source, dedupeKey: e.key, eventId: e.eventId, eventType: e.type, receivedAt: e.at, typeSigned: true };
    const queueUrl = created.queues[e.source]?.queueUrl ?? '';
    await enqueue(meta, e.body, { 'content-type': 'application/json' }, { envelope, sqs: admin.sqs, s3: admin.s3, queueUrl, bucket: created.bucket });
  }
  for (const [source, { queueUrl }] of Object.entries(created.queues)) {
    const { Attributes } = await admin.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    const messages = await drain(queueUrl);
    for (const m of messages) enqueued.set(m.MessageAttributes?.[ATTR.dedupeKey]?.StringValue ?? '', m);
    const records = messages.map((m) => toSqsRecord(m, Attributes?.QueueArn ?? '', MOTO_REGION));
    const result = await archiveBatch(records, { s3: admin.s3, bucket: created.archiveBucket, payloadBucket: created.bucket, source });
    if (result.archived !== records.length) throw new Error(`archived ${result.archived} of ${records.length} ${source} events`);
  }
}

/** The command's environment: moto for every service, an operator's session from the standard chain. */
async function useOperatorSession(): Promise<void> {
  const { Credentials } = await admin.sts.send(new AssumeRoleCommand({ RoleArn: OPERATOR_ROLE, RoleSessionName: 'alice' }));
  for (const name of ENV_NAMES) saved[name] = process.env[name];
  delete process.env.AWS_PROFILE;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: Credentials?.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: Credentials?.SecretAccessKey,
    AWS_SESSION_TOKEN: Credentials?.SessionToken,
    AWS_REGION: MOTO_REGION,
  });
}

beforeAll(async () => {
  moto = await startMoto();
  const config = { endpoint: moto.endpoint, region: MOTO_REGION, credentials: { accessKeyId: ADMIN_ACCESS_KEY, secretAccessKey: 'suite-admin' }, maxAttempts: 1 };
  admin = {
    sqs: new SQSClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    dynamodb: new DynamoDBClient(config),
    kms: new KMSClient(config),
    logs: new CloudWatchLogsClient(config),
    cfn: new CloudFormationClient(config),
    sts: new STSClient(config),
  };
  const billing = destinationSchema.parse({ type: 'http', url: 'https://billing.example/hooks', secretName: 'hookgate/moto/out/billing' });
  const [resources, key] = await Promise.all([
    createResources(
      { dynamodb: moto.endpoint, sqs: moto.endpoint, s3: moto.endpoint },
      { sources: [{ name: 'stripe', maxReceiveCount: 5, processorTimeoutSeconds: 30, destinations: { billing } }, { name: 'orders', maxReceiveCount: 5, processorTimeoutSeconds: 30 }] },
    ),
    admin.kms.send(new CreateKeyCommand({ Description: 'hookgate-moto stack key' })),
    admin.logs.send(new CreateLogGroupCommand({ logGroupName: AUDIT_GROUP })),
  ]);
  created = resources;
  const keyArn = key.KeyMetadata?.Arn ?? '';
  await admin.cfn.send(
    new CreateStackCommand({
      StackName: STACK,
      TemplateBody: JSON.stringify({ Resources: { Placeholder: { Type: 'AWS::CloudFormation::WaitConditionHandle' } }, Outputs: stackOutputs(keyArn) }),
    }),
  );
  await acceptAndArchive(keyArn);
  const history = createHistoryStore({ client: admin.dynamodb, tableName: created.deliveryTableName ?? '', days: 30 });
  await history.record({ dedupeKey: 'stripe:evt_1', source: 'stripe', destination: 'billing', attempt: 1, at: minutesAgo(49), statusCode: 200, latencyMs: 80, verdict: 'delivered' });
  await history.record({ dedupeKey: 'stripe:evt_2', source: 'stripe', destination: 'billing', attempt: 1, at: minutesAgo(39), statusCode: 400, latencyMs: 70, verdict: 'reject' });
  await useOperatorSession();
}, 120_000);

afterAll(async () => {
  for (const name of ENV_NAMES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  if (admin !== undefined) for (const client of Object.values(admin)) client.destroy();
  await moto?.stop();
});

describe('the hookgate command on a deployed environment (moto: CloudFormation, KMS, SQS, S3, DynamoDB, CloudWatch Logs, STS)', () => {
  it('events list finds the stack from its outputs and lists the archive with each destination\'s status, as a table and as JSON', async () => {
    const r = await hookgate('events', 'list', '--source', 'stripe', '--since', '2h');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = text(r).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KEY\s+RECEIVED AT\s+TYPE\s+SIZE\s+BILLING$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).filter((_, i) => i !== 3))).toEqual([
      ['stripe:evt_1', EVENTS[0].at, 'invoice.paid', 'delivered'],
      ['stripe:evt_2', EVENTS[1].at, 'invoice.failed', 'failed'],
      ['stripe:evt_3', EVENTS[2].at, 'invoice.paid', 'pending'],
    ]);

    const json = await hookgate('events', 'list', '--source', 'stripe', '--since', '2h', '--status', 'failed', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(text(json))).toEqual({
      source: 'stripe',
      since: minutesAgo(120),
      until: NOW.toISOString(),
      events: [{ key: 'stripe:evt_2', receivedAt: EVENTS[1].at, eventType: 'invoice.failed', eventId: 'evt_2', size: expect.any(Number), destinations: { billing: 'failed' } }],
    });
  });

  it('events show without --body prints metadata only and writes no audit record', async () => {
    const r = await hookgate('events', 'show', 'stripe:evt_1', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(text(r))).toMatchObject({ event: { key: 'stripe:evt_1', eventType: 'invoice.paid', objectKey: expect.stringMatching(/^archive\/stripe\//) }, attempts: [{ destination: 'billing', verdict: 'delivered' }] });
    expect(text(r)).not.toContain('PHI-MARKER');
    expect((await admin.logs.send(new FilterLogEventsCommand({ logGroupName: AUDIT_GROUP }))).events ?? []).toEqual([]);
  });

  it('events show --body opens the archived envelope through KMS and prints the exact bytes, after its audit record reached CloudWatch Logs under the STS caller', async () => {
    for (const [i, reason] of [[1, 'INC-7 binary'], [2, 'INC-7 large'], [0, 'INC-7 json']] as const) {
      const r = await hookgate('events', 'show', EVENTS[i].key, '--body', '--reason', reason);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out.equals(EVENTS[i].body)).toBe(true);
    }

    const audit = await hookgate('audit', 'list', '--json');
    expect(audit.code).toBe(0);
    const { log, records } = JSON.parse(text(audit)) as { log: string; records: AuditRecord[] };
    expect(log).toBe(`cloudwatch:${AUDIT_GROUP}`);
    expect(records).toEqual(
      [['stripe:evt_2', 'INC-7 binary'], ['stripe:evt_3', 'INC-7 large'], ['stripe:evt_1', 'INC-7 json']].map(([key, reason]) => ({ at: NOW.toISOString(), who: CALLER, action: 'show-body', keys: [key], reason, host: expect.any(String) })),
    );
    const stored = await admin.logs.send(new FilterLogEventsCommand({ logGroupName: AUDIT_GROUP }));
    expect(new Set(stored.events?.map((e) => e.logStreamName))).toEqual(new Set([auditStreamName({ at: NOW.toISOString(), who: CALLER })]));
    expect(stored.events?.map((e) => e.message).join('\n')).not.toContain('PHI-MARKER');
  });

  it('replay sends the archived ciphertext again, with its replay id, to the destination queue (and, for a source without destinations, its work queue)', async () => {
    const r = await hookgate('replay', 'stripe:evt_1', 'orders:ord_1', '--reason', 'INC-8', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const { replayed } = JSON.parse(text(r)) as { replayed: { key: string; replayId: string; sentTo: string[] }[] };
    expect(replayed).toEqual([
      { key: 'stripe:evt_1', replayId: expect.any(String), sentTo: ['billing'] },
      { key: 'orders:ord_1', replayId: expect.any(String), sentTo: ['work queue'] },
    ]);

    for (const [queueUrl, key, n] of [[created.destinations.stripe?.billing?.queueUrl ?? '', 'stripe:evt_1', 0], [created.queues.orders?.queueUrl ?? '', 'orders:ord_1', 1]] as const) {
      const [message, ...more] = await drain(queueUrl);
      expect(more).toEqual([]);
      expect(enqueued.get(key)?.Body).toMatch(/^[A-Za-z0-9+/]{200,}={0,2}$/);
      expect(message?.Body).toBe(enqueued.get(key)?.Body);
      expect(message?.MessageAttributes?.[ATTR.replayId]?.StringValue).toBe(replayed[n]?.replayId);
      expect(message?.MessageAttributes?.[ATTR.dedupeKey]?.StringValue).toBe(key);
    }
    const audit = JSON.parse(text(await hookgate('audit', 'list', '--who', 'alice', '--json'))) as { records: AuditRecord[] };
    expect(audit.records.filter((rec) => rec.action === 'replay')).toEqual(
      replayed.map((o) => ({ at: NOW.toISOString(), who: CALLER, action: 'replay', keys: [o.key], reason: 'INC-8', host: expect.any(String), replayId: o.replayId })),
    );
  });

  it('with the audit log group gone, events show --body prints no body and replay sends nothing: exit 1, one line each', async () => {
    await admin.logs.send(new DeleteLogGroupCommand({ logGroupName: AUDIT_GROUP }));
    try {
      const show = await hookgate('events', 'show', 'stripe:evt_1', '--body', '--reason', 'INC-9');
      expect({ code: show.code, out: text(show), err: show.err }).toEqual({ code: 1, out: '', err: 'hookgate: the audit record could not be written, so nothing was done (ResourceNotFoundException)\n' });

      const replay = await hookgate('replay', 'stripe:evt_1', '--reason', 'INC-9', '--json');
      expect(replay.code).toBe(1);
      expect(JSON.parse(text(replay))).toEqual(expect.objectContaining({ replayed: [{ key: 'stripe:evt_1', sentTo: [], error: 'the audit record could not be written, so nothing was done (ResourceNotFoundException)' }], summary: expect.objectContaining({ sent: 0, notSent: 1 }) }));
      expect(replay.err).toBe('hookgate: 1 of 1 keys were not (fully) replayed\n');
      expect(await drain(created.destinations.stripe?.billing?.queueUrl ?? '')).toEqual([]);
    } finally {
      await admin.logs.send(new CreateLogGroupCommand({ logGroupName: AUDIT_GROUP }));
    }
  });
});
