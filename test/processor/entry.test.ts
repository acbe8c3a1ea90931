import dns from 'node:dns';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { listArchived } from '../../lambda/archive/reader';
import { enqueue } from '../../lambda/ingest/enqueue';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { payloadKey } from '../../lambda/ingest/message';
import { defineHandlers } from '../../lambda/processor/api';
import { ArchiveFailedError } from '../../lambda/processor/batch';
import { createFanOutEntry, createProcessorEntry, destinationQueuesOf } from '../../lambda/processor/entry';
import { ENV } from '../../lambda/runtime/env';
import { type Emulator, localClients, startFauxqs } from '../../local/emulators';
import { createLocalKms, localKeyring } from '../../local/kms';
import { toSqsRecord } from '../../local/poller';
import { lambdaContext } from '../ingest/helpers';
import { captureOutput } from '../verifier/harness';

/**
 * The entry points as Lambda loads them: built from the environment the stack sets, with the
 * real KMS keyring reaching a local server that speaks KMS's JSON protocol over the local key,
 * and SQS and S3 on fauxqs.
 */

const kms = createLocalKms();
const envelope = createEnvelope(localKeyring(kms));
const BUCKET = 'hookgate-payloads';
type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** What the local KMS answers (local/kms.ts). */
interface DataKey {
  readonly KeyId: string;
  readonly Plaintext: Uint8Array;
  readonly CiphertextBlob: Uint8Array;
}

/** KMS's GenerateDataKey and Decrypt (JSON 1.1, base64 blobs) over the local KMS. */
async function startKmsServer(): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const blob = (value: unknown): Uint8Array => new Uint8Array(Buffer.from(String(value), 'base64'));
      const b64 = (value: Uint8Array): string => Buffer.from(value).toString('base64');
      const operation = String(request.headers['x-amz-target']).replace('TrentService.', '');
      const calls: Record<string, () => Promise<Record<string, unknown>>> = {
        GenerateDataKey: async () => {
          const out = (await kms.client.generateDataKey(input as unknown as Parameters<typeof kms.client.generateDataKey>[0])) as unknown as DataKey;
          return { KeyId: out.KeyId, Plaintext: b64(out.Plaintext), CiphertextBlob: b64(out.CiphertextBlob) };
        },
        Decrypt: async () => {
          const out = (await kms.client.decrypt({ ...input, CiphertextBlob: blob(input.CiphertextBlob) } as unknown as Parameters<typeof kms.client.decrypt>[0])) as unknown as DataKey;
          return { KeyId: out.KeyId, Plaintext: b64(out.Plaintext) };
        },
      };
      const call = calls[operation];
      if (call === undefined) {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        return response.end(JSON.stringify({ __type: 'UnsupportedOperationException' }));
      }
      void call().then((out) => {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(out));
      });
      return undefined;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * fauxqs names its queues `http://sqs.<region>.localhost:<port>/...`, and an SQS client built as
 * on Lambda (no endpoint of its own) sends to the queue URL's host: resolve `*.localhost` to
 * loopback while this suite runs (what fauxqs's interceptLocalhostDns does).
 */
function resolveLocalhostNames(): () => void {
  const original = dns.lookup;
  const patched = (hostname: string, options: unknown, callback: (...args: unknown[]) => void): void => {
    if (!hostname.endsWith('.localhost')) return void (original as (...args: unknown[]) => void)(hostname, options, callback);
    if (typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true) return callback(null, [{ address: '127.0.0.1', family: 4 }]);
    return callback(null, '127.0.0.1', 4);
  };
  dns.lookup = patched as typeof dns.lookup;
  return () => {
    dns.lookup = original;
  };
}

let restoreDns: () => void;
let fauxqs: Emulator;
let kmsServer: { endpoint: string; server: Server };
let sqs: SQSClient;
let s3: S3Client;
const saved = { ...process.env };

beforeAll(async () => {
  restoreDns = resolveLocalhostNames();
  [fauxqs, kmsServer] = await Promise.all([startFauxqs(), startKmsServer()]);
  const clients = localClients({ dynamodb: '', sqs: fauxqs.endpoint, s3: fauxqs.endpoint });
  sqs = new SQSClient(clients.sqs);
  s3 = new S3Client(clients.s3);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 30_000);
afterEach(() => {
  process.env = { ...saved };
});
afterAll(async () => {
  sqs.destroy();
  s3.destroy();
  restoreDns();
  kmsServer.server.closeAllConnections();
  await Promise.all([fauxqs.stop(), new Promise((resolve) => kmsServer.server.close(resolve))]);
});

let queues = 0;
async function queue(name: string): Promise<string> {
  queues += 1;
  return (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${queues}`, Attributes: { MaximumMessageSize: String(1024 * 1024) } }))).QueueUrl as string;
}

/** The environment the stack sets on a function of source `stripe`. */
async function environment(extra: Record<string, string> = {}): Promise<void> {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_KMS: kmsServer.endpoint,
    AWS_ENDPOINT_URL_SQS: fauxqs.endpoint,
    AWS_ENDPOINT_URL_S3: fauxqs.endpoint,
    POWERTOOLS_METRICS_NAMESPACE: 'Hookgate/test',
    [ENV.source]: JSON.stringify({ name: 'stripe', provider: 'stripe' }),
    [ENV.payloadBucket]: BUCKET,
    [ENV.keyArn]: kms.keyId,
    [ENV.deadLetterQueueUrl]: await queue('dlq'),
    ...extra,
  });
}

let events = 0;
/** One event with its body in S3 (a pointer message), as a record of a Lambda batch. */
async function pointerRecord(eventType: string): Promise<{ record: SQSRecord; dedupeKey: string }> {
  events += 1;
  const queueUrl = await queue('work');
  const meta = { source: 'stripe', dedupeKey: `stripe:evt_${events}`, eventId: `evt_${events}`, eventType, receivedAt: '2026-12-01T10:00:00.000Z', typeSigned: true };
  await enqueue(meta, Buffer.alloc(4096, 0x61), { 'content-type': 'application/json' }, { envelope, sqs, s3, queueUrl, bucket: BUCKET, maxMessageBytes: 1024 });
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], AttributeNames: ['All'], WaitTimeSeconds: 1 }));
  return { record: toSqsRecord((Messages ?? [])[0] as Message, 'arn:aws:sqs:us-east-1:000000000000:work', 'us-east-1'), dedupeKey: meta.dedupeKey };
}

async function stored(dedupeKey: string): Promise<boolean> {
  return s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: payloadKey('stripe', dedupeKey) })).then(
    () => true,
    () => false,
  );
}

function metricLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('processor entry', () => {
  it("runs a source's handlers and deletes the payload object once they succeeded", async () => {
    await environment();
    const seen: string[] = [];
    const handler = createProcessorEntry({ handlers: defineHandlers({ stripe: { '*': (event) => void seen.push(event.dedupeKey) } }) });
    const { record, dedupeKey } = await pointerRecord('a.b');

    const { result } = await captureOutput(() => handler({ Records: [record] }, lambdaContext()));

    expect(result.batchItemFailures).toEqual([]);
    expect(seen).toEqual([dedupeKey]);
    expect(await stored(dedupeKey)).toBe(false);
  });

  it("as a destination's function, keeps the payload object the source's other destinations read, and counts under the destination", async () => {
    await environment({ [ENV.destination]: JSON.stringify({ name: 'ehr', source: 'stripe', type: 'lambda', entry: 'processors/ehr.ts' }) });
    const seen: string[] = [];
    const handler = createProcessorEntry({ handlers: defineHandlers({ stripe: { '*': (event) => void seen.push(event.dedupeKey) } }) });
    const { record, dedupeKey } = await pointerRecord('a.b');

    const { result, lines } = await captureOutput(() => handler({ Records: [record] }, lambdaContext()));

    expect(result.batchItemFailures).toEqual([]);
    expect(seen).toEqual([dedupeKey]);
    expect(await stored(dedupeKey)).toBe(true);
    expect(metricLines(lines).find((line) => 'Processed' in line)).toMatchObject({ source: 'stripe', destination: 'ehr', Processed: 1 });
  });

  it("refuses a destination's environment that names no destination", async () => {
    await environment({ [ENV.destination]: JSON.stringify({ source: 'stripe' }) });

    expect(() => createProcessorEntry({ handlers: defineHandlers({}) })).toThrow(ENV.destination);
  });
});

describe('processor entry point with destinations', () => {
  const load = (): Handler => {
    let mod: { handler: Handler } | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module per environment
      mod = require('../../lambda/processor/index') as { handler: Handler };
    });
    return (mod as { handler: Handler }).handler;
  };

  it('fans out instead of running handlers when the source has destinations, counting per destination', async () => {
    const billing = await queue('billing');
    await environment({ [ENV.destinationQueues]: JSON.stringify([{ name: 'billing', events: ['payment_intent.*'], queueUrl: billing }, { name: 'ehr', events: ['customer.*'], queueUrl: await queue('ehr') }]) });
    const { record, dedupeKey } = await pointerRecord('payment_intent.succeeded');

    const { result, lines } = await captureOutput(() => load()({ Records: [record] }, lambdaContext()));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: billing, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));

    expect(result.batchItemFailures).toEqual([]);
    expect(Messages?.map((m) => m.Body)).toEqual([record.body]);
    expect(await stored(dedupeKey)).toBe(true);
    expect(metricLines(lines).find((line) => 'Forwarded' in line)).toMatchObject({ source: 'stripe', destination: 'billing', Forwarded: 1 });
  });

  it.each([
    ['not JSON', '[{'],
    ['an empty list', '[]'],
    ['an entry without its queue', '[{"name":"billing"}]'],
    ['a filter that is not a list of types', '[{"name":"billing","queueUrl":"https://q","events":"a.*"}]'],
  ])('refuses a destination list that is %s, naming the variable', (_what, value) => {
    expect(() => destinationQueuesOf(value)).toThrow(ENV.destinationQueues);
  });

  it('reads each destination with its filter', () => {
    expect(destinationQueuesOf('[{"name":"billing","queueUrl":"https://q/1","events":["a.*"]},{"name":"all","queueUrl":"https://q/2"}]')).toEqual([
      { name: 'billing', queueUrl: 'https://q/1', events: ['a.*'] },
      { name: 'all', queueUrl: 'https://q/2' },
    ]);
  });
});

describe('the archive, from HOOKGATE_ARCHIVE_BUCKET', () => {
  let archives = 0;
  async function archiveBucket(): Promise<string> {
    archives += 1;
    const bucket = `hookgate-archive-entry-${archives}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return bucket;
  }
  const archivedKeys = async (bucket: string): Promise<string[]> =>
    (await listArchived({ s3, bucket, source: 'stripe', since: new Date('2026-12-01T10:00:00Z'), until: new Date('2026-12-01T11:00:00Z') })).map((e) => e.dedupeKey);
  const handlersSeeing = (seen: string[]): Parameters<typeof createProcessorEntry>[0] => ({ handlers: defineHandlers({ stripe: { '*': (event) => void seen.push(event.dedupeKey) } }) });

  it("a source's processor archives the batch (a pointer's ciphertext included) before its handlers run", async () => {
    const bucket = await archiveBucket();
    await environment({ [ENV.archiveBucket]: bucket });
    const seen: string[] = [];
    const handler = createProcessorEntry(handlersSeeing(seen));
    const { record, dedupeKey } = await pointerRecord('a.b');

    const { result } = await captureOutput(() => handler({ Records: [record] }, lambdaContext()));

    expect(result.batchItemFailures).toEqual([]);
    expect(seen).toEqual([dedupeKey]);
    expect(await archivedKeys(bucket)).toEqual([dedupeKey]);
  });

  it('a batch that cannot be archived runs no handler and fails whole', async () => {
    await environment({ [ENV.archiveBucket]: 'no-such-archive' });
    const seen: string[] = [];
    const handler = createProcessorEntry(handlersSeeing(seen));
    const { record } = await pointerRecord('a.b');

    await expect(captureOutput(() => handler({ Records: [record] }, lambdaContext()))).rejects.toThrow(ArchiveFailedError);
    expect(seen).toEqual([]);
  });

  it("a destination's function never archives (the source's processor did)", async () => {
    const bucket = await archiveBucket();
    await environment({ [ENV.archiveBucket]: bucket, [ENV.destination]: JSON.stringify({ name: 'ehr', source: 'stripe', type: 'lambda', entry: 'processors/ehr.ts' }) });
    const seen: string[] = [];
    const handler = createProcessorEntry(handlersSeeing(seen));
    const { record, dedupeKey } = await pointerRecord('a.b');

    await captureOutput(() => handler({ Records: [record] }, lambdaContext()));

    expect(seen).toEqual([dedupeKey]);
    expect(await archivedKeys(bucket)).toEqual([]);
  });

  it('the fan-out archives the batch before forwarding it', async () => {
    const bucket = await archiveBucket();
    const billing = await queue('billing');
    await environment({ [ENV.archiveBucket]: bucket, [ENV.destinationQueues]: JSON.stringify([{ name: 'billing', queueUrl: billing }]) });
    const { record, dedupeKey } = await pointerRecord('payment_intent.succeeded');

    const { result } = await captureOutput(() => createFanOutEntry()({ Records: [record] }, lambdaContext()));

    expect(result.batchItemFailures).toEqual([]);
    expect(await archivedKeys(bucket)).toEqual([dedupeKey]);
  });
});
