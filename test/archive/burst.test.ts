import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { ARCHIVE_PREFIX, decodeIndex, INDEX_PREFIX, objectKeyOf } from '../../lambda/archive/format';
import { listArchived } from '../../lambda/archive/reader';
import { archiveBatch } from '../../lambda/archive/writer';
import { inlineSecretsOf, namedSource, type NamedSource } from '../../lambda/config/schema';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { openMessage } from '../../lambda/ingest/message';
import { defineHandlers } from '../../lambda/processor/api';
import { createProcessorHandler } from '../../lambda/processor/batch';
import type { IngestLogger, IngestMetrics } from '../../lambda/runtime/observability';
import { METRICS } from '../../lambda/runtime/telemetry';
import { signRequest } from '../../lambda/signatures/sign';
import { lambdaContext, toProxyEvent } from '../../local/apigateway';
import { type LocalStack, localClients, startLocalStack } from '../../local/emulators';
import { createLocalKms, localKeyring } from '../../local/kms';
import { type Poller, startPoller } from '../../local/poller';
import { createLocalVerifier } from '../../local/verifier';
import { memoryLogger } from '../processor/fixtures';

/**
 * "Archive writes under load lose nothing": a burst through the real verifier (signature,
 * dedupe on dynalite, envelope, SQS and S3 on fauxqs) into the processor as Lambda's event source
 * mapping feeds it, with crashes injected after the archive write and before any handler ran
 * (the invocation dies; SQS hands the batch back after the visibility timeout). At the end,
 * accepted count == archived count (distinct dedupe keys) == handled count.
 */

const SECRET = 'whsec_archive_burst_1c9e';
const ARCHIVE = 'hookgate-archive';
const BURST = 60;
const CRASHES = 3;

let local: LocalStack;
let s3: S3Client;
let sqs: SQSClient;
let poller: Poller | undefined;
const envelope = createEnvelope(localKeyring(createLocalKms()));
const source: NamedSource = namedSource({ name: 'stripe', provider: 'stripe', secrets: [SECRET], maxReceiveCount: 10, processorTimeoutSeconds: 5 });

beforeAll(async () => {
  local = await startLocalStack({ sources: [source], visibilityTimeoutSeconds: 1 });
  const clients = localClients(local.endpoints);
  s3 = new S3Client(clients.s3);
  sqs = new SQSClient(clients.sqs);
  await s3.send(new CreateBucketCommand({ Bucket: ARCHIVE }));
}, 30_000);
afterAll(async () => {
  await poller?.stop();
  s3.destroy();
  sqs.destroy();
  await local.stop();
});

const quiet: IngestLogger = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as IngestLogger;

it('accepted count == archived count == handled count after a burst with crashes between archive and delivery', async () => {
  const counts = new Map<string, number>();
  const metrics = {
    addMetric: (name: string, _unit: unknown, value: number) => void counts.set(name, (counts.get(name) ?? 0) + value),
    publishStoredMetrics: () => undefined,
  } as unknown as IngestMetrics;
  const verifier = createLocalVerifier({ source, secrets: inlineSecretsOf(source), endpoints: local.endpoints, resources: local.resources, envelope, dedupeTtlDays: 7, logger: quiet, metrics });
  const started = new Date();

  // The burst: every event at once, then a third of them again (a provider's retries; sent at
  // once with the originals they could meet them in flight and get a 409 to retry later).
  const post = async (n: number): Promise<number> => {
    const body = Buffer.from(JSON.stringify({ id: `evt_burst_${n}`, type: n % 2 === 0 ? 'invoice.paid' : 'charge.failed', marker: `PHI-${n}` }));
    const url = '/webhooks/stripe';
    const signed = signRequest(source, SECRET, body, { now: Date.now(), url: `http://127.0.0.1${url}` });
    const rawHeaders = Object.entries({ 'Content-Type': 'application/json', ...signed.headers }).flat();
    const reply = await verifier(toProxyEvent({ method: 'POST', url, rawHeaders, body, sourceIp: '127.0.0.1', serverPort: 80 }, source.name), lambdaContext('verifier', 15_000));
    return reply.statusCode;
  };
  const statuses = await Promise.all(Array.from({ length: BURST }, (_, n) => post(n)));
  statuses.push(...(await Promise.all(Array.from({ length: BURST / 3 }, (_, n) => post(n * 3)))));
  verifier.close();
  expect(statuses.every((status) => status === 200)).toBe(true);
  const accepted = counts.get(METRICS.accepted) ?? 0;
  expect(accepted).toBe(BURST);

  // The processor: archives each batch first; the first invocations crash right after the archive write.
  const handled = new Set<string>();
  let crashes = 0;
  const processor = createProcessorHandler({
    open: (record) => openMessage(record, { envelope, s3, bucket: local.resources.bucket, source: source.name }),
    handlers: defineHandlers({ stripe: { '*': (event) => void handled.add(event.dedupeKey) } }),
    logger: memoryLogger(),
    archive: async (records: readonly SQSRecord[]) => {
      await archiveBatch(records, { s3, bucket: ARCHIVE, payloadBucket: local.resources.bucket, source: source.name });
      if (crashes < CRASHES) {
        crashes += 1;
        throw new Error('injected crash between archive and delivery');
      }
    },
  });
  const queue = local.resources.queues[source.name];
  poller = await startPoller({ sqs, queueUrl: queue?.queueUrl as string, handler: processor, functionName: 'processor', batchSize: 10, waitTimeSeconds: 1, functionTimeoutMs: 5_000 });
  for (let round = 0; round < 300 && handled.size < accepted; round += 1) await new Promise((resolve) => setTimeout(resolve, 100));
  await poller.stop();
  poller = undefined;
  expect(crashes).toBe(CRASHES);

  const archived = await listArchived({ s3, bucket: ARCHIVE, source: source.name, since: new Date(started.getTime() - 60_000), until: new Date(Date.now() + 60_000) });
  const archivedKeys = new Set(archived.map((event) => event.dedupeKey));
  expect(archived).toHaveLength(archivedKeys.size);
  expect(archivedKeys.size).toBe(accepted);
  expect(handled.size).toBe(accepted);
  expect([...handled].sort()).toEqual([...archivedKeys].sort());
  // Every object written, crashed batches' included, has its index object: at least one index
  // entry per accepted event, more when a retried batch came back in another composition (the
  // listing dedupes those).
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: ARCHIVE, Prefix: ARCHIVE_PREFIX }));
  const indexes = await s3.send(new ListObjectsV2Command({ Bucket: ARCHIVE, Prefix: INDEX_PREFIX }));
  expect((indexes.Contents ?? []).map(({ Key }) => objectKeyOf(Key as string)).sort()).toEqual((listed.Contents ?? []).map(({ Key }) => Key).sort());
  const entries = await Promise.all(
    (listed.Contents ?? []).map(async ({ Key }) => {
      const object = await s3.send(new GetObjectCommand({ Bucket: ARCHIVE, Key }));
      return decodeIndex(await object.Body!.transformToByteArray()).events.length;
    }),
  );
  expect(entries.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(accepted);
}, 60_000);
