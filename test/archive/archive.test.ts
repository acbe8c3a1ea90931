import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { ARCHIVE_MAGIC, archiveKey, decodeIndex, encodeArchive, encodeArchiveWithIndex, hoursBetween, indexKeyOf, objectKeyOf, parseIndex } from '../../lambda/archive/format';
import { ArchiveObjectMissingError, type ArchivedEvent, findArchived, listArchived, readArchived } from '../../lambda/archive/reader';
import { archiveBatch, MAX_POINTERS_PER_OBJECT } from '../../lambda/archive/writer';
import { enqueue } from '../../lambda/ingest/enqueue';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { type MessageMetadata, openMessage, payloadKey } from '../../lambda/ingest/message';
import { defineHandlers } from '../../lambda/processor/api';
import { ArchiveFailedError, createProcessorHandler } from '../../lambda/processor/batch';
import { createFanOutHandler } from '../../lambda/processor/fan-out';
import { type Emulator, localClients, startFauxqs } from '../../local/emulators';
import { createLocalKms, localKeyring } from '../../local/kms';
import { toSqsRecord } from '../../local/poller';
import { context, memoryLogger } from '../processor/fixtures';
import { countCalls, recordOf } from './rig';

/**
 * The archive on fauxqs's S3 (which serves ranged GETs as S3 does): the writer over records as
 * Lambda hands them over (written by the verifier's enqueue with the real envelope, inline and
 * through the payload bucket), the reader's metadata-only listing, and both processor paths
 * archiving each batch before any work.
 */

const SOURCE = 'stripe';
const PAYLOADS = 'hookgate-payloads';
let fauxqs: Emulator;
let s3: S3Client;
let sqs: SQSClient;
const envelope = createEnvelope(localKeyring(createLocalKms()));
let buckets = 0;

beforeAll(async () => {
  fauxqs = await startFauxqs();
  const clients = localClients({ dynamodb: '', sqs: fauxqs.endpoint, s3: fauxqs.endpoint });
  s3 = new S3Client(clients.s3);
  sqs = new SQSClient(clients.sqs);
  await s3.send(new CreateBucketCommand({ Bucket: PAYLOADS }));
}, 30_000);
afterAll(async () => {
  s3.destroy();
  sqs.destroy();
  await fauxqs.stop();
});

/** A fresh archive bucket (each test its own). */
async function archiveBucket(): Promise<string> {
  buckets += 1;
  const bucket = `hookgate-archive-${buckets}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

async function keysOf(bucket: string, prefix?: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ...(prefix === undefined ? {} : { Prefix: prefix }) }));
  return (listed.Contents ?? []).map(({ Key }) => Key as string).sort();
}

/** The archive objects of a bucket; fails unless each has its index object and every index its object. */
async function objectsOf(bucket: string): Promise<string[]> {
  const objects = await keysOf(bucket, 'archive/');
  expect((await keysOf(bucket, 'index/')).map(objectKeyOf).sort()).toEqual(objects);
  return objects;
}

async function bytesOf(bucket: string, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

let seq = 0;
function meta(receivedAt: string, eventType?: string): Omit<MessageMetadata, 'typeSigned'> {
  seq += 1;
  return { source: SOURCE, dedupeKey: `${SOURCE}:evt_${seq}`, eventId: `evt_${seq}`, ...(eventType === undefined ? {} : { eventType }), receivedAt };
}

/** An inline record with random ciphertext bytes (the archive never decrypts). */
function fake(receivedAt: string, eventType?: string): SQSRecord {
  return recordOf(meta(receivedAt, eventType), randomBytes(40 + (seq % 50)).toString('base64'));
}

/** Records written exactly as the verifier writes them (real envelope; `viaS3`: the payload bucket), received as Lambda hands them over. */
async function verifierRecords(events: readonly { receivedAt: string; eventType: string; viaS3?: boolean }[]): Promise<{ records: SQSRecord[]; bodies: Map<string, string> }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `archive-work-${(seq += 1)}`, Attributes: { MaximumMessageSize: String(1024 * 1024) } }));
  const bodies = new Map<string, string>();
  for (const event of events) {
    const m = meta(event.receivedAt, event.eventType);
    const body = `{"id":"${m.eventId ?? ''}","marker":"PHI-${seq}"}`;
    bodies.set(m.dedupeKey, body);
    await enqueue({ ...m, typeSigned: true }, Buffer.from(body), { 'content-type': 'application/json' }, { envelope, sqs, s3, queueUrl: QueueUrl as string, bucket: PAYLOADS, ...(event.viaS3 === true ? { maxMessageBytes: 64 } : {}) });
  }
  const messages: Message[] = [];
  while (messages.length < events.length) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60, MessageAttributeNames: ['All'], AttributeNames: ['All'] }));
    messages.push(...(out.Messages ?? []));
  }
  return { records: messages.map((m) => toSqsRecord(m, 'arn:aws:sqs:us-east-1:000000000000:hookgate-stripe', 'us-east-1')), bodies };
}

const at = (iso: string): Date => new Date(iso);

/** Runs `work` while every PutObject of a key matching `keys` fails as S3 would (a 503). */
async function failingPuts(keys: RegExp, work: () => Promise<void>): Promise<void> {
  const name = 'failingPuts';
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const { Key } = args.input as { Key?: string };
      if (context.commandName === 'PutObjectCommand' && Key !== undefined && keys.test(Key)) throw Object.assign(new Error('injected PUT failure'), { name: 'ServiceUnavailable', $retryable: {} });
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    await work();
  } finally {
    s3.middlewareStack.remove(name);
  }
}

describe('format', () => {
  it('HGA1: magic, index length, JSON index whose offsets point at each ciphertext', () => {
    const items = [1, 2, 3].map((n) => ({ dedupeKey: `${SOURCE}:k${n}`, receivedAt: '2026-12-01T10:00:00.000Z', ciphertext: Buffer.alloc(n * 1000, n) }));
    const object = encodeArchive(SOURCE, items);
    expect(object.toString('ascii', 0, 4)).toBe(ARCHIVE_MAGIC);
    const index = decodeIndex(object);
    expect(index.source).toBe(SOURCE);
    index.events.forEach((entry, i) => {
      expect(object.subarray(entry.offset, entry.offset + entry.length)).toEqual(items[i]?.ciphertext);
      expect(entry.size).toBe(entry.length);
    });
    expect(() => decodeIndex(Buffer.from('HGB1\0\0\0\0'))).toThrow('not an HGA1 archive object');
    // The index alone: the very bytes embedded in the object.
    const { object: same, index: alone } = encodeArchiveWithIndex(SOURCE, items);
    expect(same.equals(object)).toBe(true);
    expect(object.subarray(8, 8 + alone.length).equals(alone)).toBe(true);
    expect(parseIndex(alone)).toEqual(index);
    expect(() => parseIndex(Buffer.from('{"version":2}'))).toThrow('unknown HGA1 index');
  });

  it('index keys: the object key under index/ with .json, and back; nothing else maps', () => {
    const key = archiveKey(SOURCE, at('2026-12-01T10:04:05.123Z'), ['stripe:a']);
    const index = indexKeyOf(key);
    expect(index).toBe(key.replace(/^archive\//, 'index/').replace(/\.hga$/, '.json'));
    expect(objectKeyOf(index)).toBe(key);
    expect(() => indexKeyOf('index/stripe/x.json')).toThrow('is not a key under archive/');
    expect(() => objectKeyOf('archive/stripe/x.hga')).toThrow('is not a key under index/');
    expect(() => objectKeyOf('index/stripe/x.hga')).toThrow('is not a key under index/');
  });

  it('keys: per source and UTC hour, the first receive time, and a digest of the sorted dedupe keys', () => {
    const key = archiveKey(SOURCE, at('2026-12-01T10:04:05.123Z'), ['stripe:b', 'stripe:a']);
    expect(key).toMatch(/^archive\/stripe\/2026\/12\/01\/10\/20261201T100405123Z-[0-9a-f]{16}\.hga$/);
    expect(archiveKey(SOURCE, at('2026-12-01T10:04:05.123Z'), ['stripe:a', 'stripe:b'])).toBe(key);
    expect(archiveKey(SOURCE, at('2026-12-01T10:04:05.123Z'), ['stripe:a'])).not.toBe(key);
    expect(hoursBetween(at('2026-12-01T10:30:00Z'), at('2026-12-01T12:00:00Z')).map((d) => d.toISOString())).toEqual(['2026-12-01T10:00:00.000Z', '2026-12-01T11:00:00.000Z']);
  });
});

describe('writer and reader round trip', () => {
  it('archives inline and pointer messages as enqueued: listing gives metadata, a body read opens with the envelope', async () => {
    const bucket = await archiveBucket();
    const { records, bodies } = await verifierRecords([
      { receivedAt: '2026-12-01T10:01:00.000Z', eventType: 'invoice.paid' },
      { receivedAt: '2026-12-01T10:02:00.000Z', eventType: 'invoice.paid', viaS3: true },
      { receivedAt: '2026-12-01T10:03:00.000Z', eventType: 'charge.failed' },
    ]);
    expect(records.filter((r) => r.messageAttributes.payload?.stringValue === 's3')).toHaveLength(1);
    const result = await archiveBatch(records, { s3, bucket, payloadBucket: PAYLOADS, source: SOURCE });
    expect(result).toMatchObject({ archived: 3, skipped: 0 });
    expect(await objectsOf(bucket)).toEqual(result.objects.map(({ key }) => key).sort());
    expect(result.objects.map(({ indexKey }) => indexKey)).toEqual(result.objects.map(({ key }) => indexKeyOf(key)));

    const listed = await listArchived({ s3, bucket, source: SOURCE, since: at('2026-12-01T10:00:00Z'), until: at('2026-12-01T11:00:00Z') });
    expect(listed.map((e) => e.eventType)).toEqual(['invoice.paid', 'invoice.paid', 'charge.failed']);
    for (const event of listed) {
      const record = records.find((r) => r.messageAttributes.dedupeKey?.stringValue === event.dedupeKey) as SQSRecord;
      const ciphertext = await readArchived({ s3, bucket }, event);
      // Byte for byte what was enqueued: the inline body, or the payload object.
      const enqueued =
        record.messageAttributes.payload?.stringValue === 's3'
          ? Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: PAYLOADS, Key: payloadKey(SOURCE, event.dedupeKey) }))).Body!.transformToByteArray())
          : Buffer.from(record.body, 'base64');
      expect(ciphertext.equals(enqueued)).toBe(true);
      expect(event.size).toBe(enqueued.length);
      const opened = await envelope.open(ciphertext, { source: SOURCE, dedupeKey: event.dedupeKey });
      expect(opened.body.toString('utf8')).toBe(bodies.get(event.dedupeKey));
    }
    // The index object holds the object's own index (metadata only: no body, no marker).
    const index = decodeIndex(await bytesOf(bucket, result.objects[0]?.key as string));
    expect(parseIndex(await bytesOf(bucket, result.objects[0]?.indexKey as string))).toEqual(index);
    expect(JSON.stringify(index)).not.toContain('PHI-');
    expect(await findArchived({ s3, bucket, source: SOURCE, dedupeKey: listed[1]?.dedupeKey as string, until: at('2026-12-01T11:00:00Z') })).toEqual(listed[1]);
    expect(await findArchived({ s3, bucket, source: SOURCE, dedupeKey: 'stripe:unknown', until: at('2026-12-01T11:00:00Z') })).toBeUndefined();
  });

  it('groups a batch by UTC hour (one object and its index per hour) and keeps separate batches of one hour in separate objects', async () => {
    const bucket = await archiveBucket();
    const first = [fake('2026-12-01T10:59:59.999Z'), fake('2026-12-01T11:00:00.000Z'), fake('2026-12-01T10:10:00.000Z')];
    const second = [fake('2026-12-01T11:30:00.000Z')];
    const calls = countCalls(s3);
    await archiveBatch(first, { s3, bucket, payloadBucket: PAYLOADS });
    expect(calls.of('PutObjectCommand')).toBe(4);
    await archiveBatch(second, { s3, bucket, payloadBucket: PAYLOADS });
    const keys = await objectsOf(bucket);
    expect(keys.map((k) => k.split('/').slice(0, 6).join('/'))).toEqual(['archive/stripe/2026/12/01/10', 'archive/stripe/2026/12/01/11', 'archive/stripe/2026/12/01/11']);
    // The 10:00 object is named after its earliest event.
    expect(keys[0]).toContain('/20261201T101000000Z-');
    const listed = await listArchived({ s3, bucket, source: SOURCE, since: at('2026-12-01T10:00:00Z'), until: at('2026-12-01T12:00:00Z') });
    expect(listed.map((e) => e.receivedAt)).toEqual(['2026-12-01T10:10:00.000Z', '2026-12-01T10:59:59.999Z', '2026-12-01T11:00:00.000Z', '2026-12-01T11:30:00.000Z']);
    // [since, until): the boundary event belongs to the next hour only.
    const tenOClock = await listArchived({ s3, bucket, source: SOURCE, since: at('2026-12-01T10:00:00Z'), until: at('2026-12-01T11:00:00Z') });
    expect(tenOClock.map((e) => e.receivedAt)).toEqual(['2026-12-01T10:10:00.000Z', '2026-12-01T10:59:59.999Z']);
  });

  it('a retried identical batch overwrites its object, a different retry adds one, and listings dedupe by dedupe key', async () => {
    const bucket = await archiveBucket();
    const batch = [fake('2026-12-01T10:01:00.000Z', 'a'), fake('2026-12-01T10:02:00.000Z', 'b'), fake('2026-12-01T10:03:00.000Z', 'a')];
    await archiveBatch(batch, { s3, bucket, payloadBucket: PAYLOADS });
    // SQS may hand the same records back in another order.
    await archiveBatch([...batch].reverse(), { s3, bucket, payloadBucket: PAYLOADS });
    expect(await objectsOf(bucket)).toHaveLength(1);
    // A partial retry (the first record was deleted after success) writes another object.
    await archiveBatch(batch.slice(1), { s3, bucket, payloadBucket: PAYLOADS });
    expect(await objectsOf(bucket)).toHaveLength(2);
    const range = { s3, bucket, source: SOURCE, since: at('2026-12-01T10:00:00Z'), until: at('2026-12-01T11:00:00Z') };
    const listed = await listArchived(range);
    expect(listed.map((e) => e.dedupeKey)).toEqual(batch.map((r) => r.messageAttributes.dedupeKey?.stringValue));
    expect((await listArchived({ ...range, type: 'a' })).map((e) => e.eventType)).toEqual(['a', 'a']);
    expect(await listArchived({ ...range, type: 'none' })).toEqual([]);
    await expect(listArchived({ ...range, since: range.until, until: range.since })).rejects.toThrow('since is after until');
  });

  it('a crash between the two PUTs fails the batch and lists none of its events; the retry archives them; no index is put before its object', async () => {
    const bucket = await archiveBucket();
    const deps = { s3, bucket, payloadBucket: PAYLOADS };
    const range = { s3, bucket, source: SOURCE, since: at('2026-12-01T10:00:00Z'), until: at('2026-12-01T11:00:00Z') };
    const batch = [fake('2026-12-01T10:01:00.000Z'), fake('2026-12-01T10:02:00.000Z')];
    // The object is stored, then its index PUT fails (the invocation dies there).
    await failingPuts(/^index\//, () => expect(archiveBatch(batch, deps)).rejects.toThrow('injected PUT failure'));
    expect(await keysOf(bucket, 'archive/')).toHaveLength(1);
    expect(await keysOf(bucket, 'index/')).toEqual([]);
    // Nothing of the failed batch is listed as archived (and nothing of it was handled or forwarded).
    expect(await listArchived(range)).toEqual([]);
    // SQS hands the records back in another composition: every event is archived and listed, the
    // object without an index stays unlisted (it holds only events archived again here).
    const extra = fake('2026-12-01T10:03:00.000Z');
    await archiveBatch([batch[1] as SQSRecord, extra, batch[0] as SQSRecord], deps);
    expect((await listArchived(range)).map((e) => e.dedupeKey)).toEqual([...batch, extra].map((r) => r.messageAttributes.dedupeKey?.stringValue));
    expect(await keysOf(bucket, 'archive/')).toHaveLength(2);
    expect(await keysOf(bucket, 'index/')).toHaveLength(1);
    // The retry of the identical batch completes the first object with its index.
    await archiveBatch(batch, deps);
    expect(await objectsOf(bucket)).toHaveLength(2);

    // When the object PUT fails, its index is never put.
    const other = await archiveBucket();
    await failingPuts(/^archive\//, () => expect(archiveBatch(batch, { ...deps, bucket: other })).rejects.toThrow('injected PUT failure'));
    expect(await keysOf(other)).toEqual([]);
  });

  it('leaves out records that can never open (another source, not hookgate format, a missing payload object) and fails when S3 does', async () => {
    const bucket = await archiveBucket();
    const other = recordOf({ ...meta('2026-12-01T10:00:00.000Z'), source: 'github' }, 'AAAA');
    const foreign = { ...fake('2026-12-01T10:00:00.000Z'), messageAttributes: {} };
    const m = meta('2026-12-01T10:00:00.000Z');
    const missing = recordOf(m, JSON.stringify({ bucket: PAYLOADS, key: payloadKey(SOURCE, m.dedupeKey) }), 's3');
    const forged = recordOf(meta('2026-12-01T10:00:00.000Z'), JSON.stringify({ bucket: PAYLOADS, key: 'github/x' }), 's3');
    const good = fake('2026-12-01T10:00:00.000Z');
    const result = await archiveBatch([other, foreign, missing, forged, good], { s3, bucket, payloadBucket: PAYLOADS, source: SOURCE });
    expect(result).toMatchObject({ archived: 1, skipped: 4 });
    expect(await archiveBatch([foreign], { s3, bucket, payloadBucket: PAYLOADS })).toEqual({ objects: [], archived: 0, skipped: 1 });
    await expect(archiveBatch([good], { s3, bucket: 'no-such-archive', payloadBucket: PAYLOADS })).rejects.toThrow();
  });

  it('splits a group after MAX_POINTERS_PER_OBJECT large bodies, written one object after another', async () => {
    const bucket = await archiveBucket();
    const pointers = await Promise.all(
      Array.from({ length: MAX_POINTERS_PER_OBJECT + 2 }, async () => {
        const m = meta('2026-12-01T10:00:00.000Z');
        const key = payloadKey(SOURCE, m.dedupeKey);
        await s3.send(new PutObjectCommand({ Bucket: PAYLOADS, Key: key, Body: randomBytes(2000) }));
        return recordOf(m, JSON.stringify({ bucket: PAYLOADS, key }), 's3');
      }),
    );
    const batch = [...pointers, fake('2026-12-01T10:00:00.000Z')];
    const result = await archiveBatch(batch, { s3, bucket, payloadBucket: PAYLOADS });
    expect(result.objects.map(({ events }) => events).sort()).toEqual([3, MAX_POINTERS_PER_OBJECT].sort());
    // The same records give the same objects again (a retried batch overwrites).
    await archiveBatch([...batch].reverse(), { s3, bucket, payloadBucket: PAYLOADS });
    expect(await objectsOf(bucket)).toHaveLength(2);
    const listed = await listArchived({ s3, bucket, source: SOURCE, since: at('2026-12-01T10:00:00Z'), until: at('2026-12-01T11:00:00Z') });
    expect(listed).toHaveLength(batch.length);
  });

  it('reads a long index (over 64 KiB) with one GET of its index object, never touching the archive object', async () => {
    const bucket = await archiveBucket();
    const batch = Array.from({ length: 700 }, () => fake('2026-12-01T10:00:00.000Z', 'bulk.event.with.a.rather.long.type.name'));
    const { objects } = await archiveBatch(batch, { s3, bucket, payloadBucket: PAYLOADS });
    expect((await bytesOf(bucket, objects[0]?.indexKey as string)).length).toBeGreaterThan(64 * 1024);
    const calls = countCalls(s3);
    const listed = await listArchived({ s3, bucket, source: SOURCE, since: at('2026-12-01T10:00:00Z'), until: at('2026-12-01T11:00:00Z') });
    expect(listed).toHaveLength(700);
    expect(calls.calls.filter((c) => c.command === 'GetObjectCommand').map((c) => c.key)).toEqual([objects[0]?.indexKey]);
  });

  it('lists one hour among a day of events with one LIST and one GET per index object of that hour', async () => {
    const bucket = await archiveBucket();
    // A day: 24 hours, 4 batches an hour of 25 events each.
    const batches: SQSRecord[][] = [];
    for (let hour = 0; hour < 24; hour += 1) {
      for (let batch = 0; batch < 4; batch += 1) {
        batches.push(Array.from({ length: 25 }, (_, i) => fake(`2026-12-01T${String(hour).padStart(2, '0')}:${String(batch * 15).padStart(2, '0')}:${String(i).padStart(2, '0')}.000Z`)));
      }
    }
    await Promise.all(batches.map((batch) => archiveBatch(batch, { s3, bucket, payloadBucket: PAYLOADS })));
    const calls = countCalls(s3);
    const listed = await listArchived({ s3, bucket, source: SOURCE, since: at('2026-12-01T13:00:00Z'), until: at('2026-12-01T14:00:00Z') });
    expect(listed).toHaveLength(100);
    expect(listed.every((e) => e.receivedAt.startsWith('2026-12-01T13:'))).toBe(true);
    // Measured: of 96 objects (2,400 events), the hour costs 1 LIST of its index prefix and 4 GETs
    // (its 4 index objects); no archive object is read.
    expect(Object.fromEntries(calls.counts)).toEqual({ ListObjectsV2Command: 1, GetObjectCommand: 4 });
    expect(calls.calls.map((c) => c.prefix ?? c.key)).toEqual(['index/stripe/2026/12/01/13/', ...Array.from({ length: 4 }, () => expect.stringMatching(/^index\/stripe\/2026\/12\/01\/13\/.*\.json$/))]);
    // findArchived reads the same way: index objects only.
    calls.clear();
    expect(await findArchived({ s3, bucket, source: SOURCE, dedupeKey: listed[7]?.dedupeKey as string, since: at('2026-12-01T13:00:00Z'), until: at('2026-12-01T14:00:00Z') })).toEqual(listed[7]);
    expect(calls.calls.every((c) => (c.prefix ?? c.key ?? '').startsWith('index/'))).toBe(true);
  });
});

describe('processors archive each batch before any work', () => {
  it('the handlers\' processor archives first; a failed archive handles nothing and fails the whole batch', async () => {
    const bucket = await archiveBucket();
    const { records } = await verifierRecords([{ receivedAt: '2026-12-01T10:00:00.000Z', eventType: 'a' }, { receivedAt: '2026-12-01T10:00:01.000Z', eventType: 'b' }]);
    const steps: string[] = [];
    const logger = memoryLogger();
    const counts: Record<string, number> = {};
    const build = (archiveTo: string) =>
      createProcessorHandler({
        open: (record) => openMessage(record, { envelope, s3, bucket: PAYLOADS, source: SOURCE }),
        handlers: defineHandlers({ [SOURCE]: { '*': (event) => void steps.push(`handle ${event.dedupeKey}`) } }),
        logger,
        metrics: { count: (name, value) => void (counts[name] = (counts[name] ?? 0) + value), flush: () => undefined },
        archive: async (batch) => {
          steps.push('archive');
          await archiveBatch(batch, { s3, bucket: archiveTo, payloadBucket: PAYLOADS, source: SOURCE });
        },
      });
    await expect(build('no-such-archive')({ Records: records }, context)).rejects.toThrow(ArchiveFailedError);
    expect(steps).toEqual(['archive']);
    expect(counts).toEqual({ ProcessingFailures: 2 });
    expect(logger.lines.join('\n')).toContain('batch not archived');

    steps.length = 0;
    expect(await build(bucket)({ Records: records }, context)).toEqual({ batchItemFailures: [] });
    expect(steps[0]).toBe('archive');
    expect(steps.slice(1).sort()).toEqual(records.map((r) => `handle ${r.messageAttributes.dedupeKey?.stringValue}`).sort());
    expect(await listArchived({ s3, bucket, source: SOURCE, since: at('2026-12-01T10:00:00Z'), until: at('2026-12-01T11:00:00Z') })).toHaveLength(2);
  });

  it('the fan-out archives first; a failed archive forwards nothing', async () => {
    const bucket = await archiveBucket();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `archive-destination-${(seq += 1)}` }));
    const { records } = await verifierRecords([{ receivedAt: '2026-12-01T10:00:00.000Z', eventType: 'a', viaS3: true }, { receivedAt: '2026-12-01T10:00:01.000Z', eventType: 'b' }]);
    const steps: string[] = [];
    sqs.middlewareStack.add(
      (next, ctx) => async (args) => {
        if (ctx.commandName === 'SendMessageBatchCommand') steps.push('forward');
        return next(args);
      },
      { step: 'initialize', name: 'archiveOrder' },
    );
    const build = (archiveTo: string) =>
      createFanOutHandler({
        destinations: [{ name: 'billing', queueUrl: QueueUrl as string }],
        open: (record) => openMessage(record, { envelope, s3, bucket: PAYLOADS, source: SOURCE }),
        sqs,
        logger: memoryLogger(),
        archive: async (batch) => {
          steps.push('archive');
          await archiveBatch(batch, { s3, bucket: archiveTo, payloadBucket: PAYLOADS, source: SOURCE });
        },
      });
    try {
      await expect(build('no-such-archive')({ Records: records })).rejects.toThrow(ArchiveFailedError);
      expect(steps).toEqual(['archive']);
      const none = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      expect(none.Messages ?? []).toHaveLength(0);

      steps.length = 0;
      expect(await build(bucket)({ Records: records })).toEqual({ batchItemFailures: [] });
      expect(steps).toEqual(['archive', 'forward']);
      expect(await listArchived({ s3, bucket, source: SOURCE, since: at('2026-12-01T10:00:00Z'), until: at('2026-12-01T11:00:00Z') })).toHaveLength(2);
    } finally {
      sqs.middlewareStack.remove('archiveOrder');
    }
  });

  it('an index whose object expired first (lifecycle deletes in no set order) lists, and its body read says the object is gone', async () => {
    const bucket = await archiveBucket();
    const { objects } = await archiveBatch([fake('2026-12-01T10:00:00.000Z')], { s3, bucket, payloadBucket: PAYLOADS });
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: objects[0]?.key }));
    const [event] = await listArchived({ s3, bucket, source: SOURCE, since: at('2026-12-01T10:00:00Z'), until: at('2026-12-01T11:00:00Z') });
    await expect(readArchived({ s3, bucket }, event as ArchivedEvent)).rejects.toThrow(ArchiveObjectMissingError);
  });

  it('an unreadable index object, or a stray key under index/, is refused, not misread', async () => {
    const range = { s3, source: SOURCE, since: at('2026-12-01T10:00:00Z'), until: at('2026-12-01T11:00:00Z') };
    const unreadable = await archiveBucket();
    await s3.send(new PutObjectCommand({ Bucket: unreadable, Key: 'index/stripe/2026/12/01/10/x.json', Body: 'not an index' }));
    await expect(listArchived({ ...range, bucket: unreadable })).rejects.toThrow('unreadable HGA1 index');
    const stray = await archiveBucket();
    await s3.send(new PutObjectCommand({ Bucket: stray, Key: 'index/stripe/2026/12/01/10/x.hga', Body: '{}' }));
    await expect(listArchived({ ...range, bucket: stray })).rejects.toThrow('is not a key under index/');
  });
});
