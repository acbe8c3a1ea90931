import { S3Client } from '@aws-sdk/client-s3';
import type { SQSRecord } from 'aws-lambda';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { EnvelopeMismatchError, MessageFormatError } from '../../lambda/ingest/errors';
import { createLocalKms, localKeyring } from '../../local/kms';
import { lazyS3Client, type MessageMetadata, messageAttributes, messageSize, openMessage, payloadKey } from '../../lambda/ingest/message';
import { HGB2_KEY, HGB2_MESSAGE } from './fixtures/hgb2';

const envelope = createEnvelope(localKeyring(createLocalKms()));
const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 });
const deps = { envelope, s3, bucket: 'payloads', source: 'orders' };
const meta: MessageMetadata = { source: 'orders', dedupeKey: 'orders:evt_1', eventId: 'evt_1', eventType: 'order.paid', receivedAt: '2026-11-23T10:00:00.000Z', typeSigned: true };
const body = Buffer.from([0x00, 0xff, 0x41, 0xc3]);

function record(attributes: ReturnType<typeof messageAttributes>, messageBody: string): SQSRecord {
  return {
    messageId: 'm',
    receiptHandle: 'r',
    body: messageBody,
    attributes: {} as SQSRecord['attributes'],
    messageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { dataType: 'String', stringValue: v.StringValue }])),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
    awsRegion: 'us-east-1',
  };
}

/** A message as the verifier writes it (enqueue.ts): facts sealed, the same facts as attribute hints. */
async function inline(m: MessageMetadata = meta): Promise<SQSRecord> {
  const { source, dedupeKey, eventId, eventType, receivedAt, typeSigned } = m;
  const sealed = await envelope.seal(body, { source, dedupeKey }, { eventId, eventType, receivedAt, typeSigned });
  return record(messageAttributes(m, 'inline'), sealed.toString('base64'));
}

afterAll(() => s3.destroy());

describe('message format', () => {
  it('opens an inline message into its metadata and the exact body', async () => {
    const opened = await openMessage(await inline(), deps);

    expect(opened).toEqual({ ...meta, body, headers: {}, payload: 'inline' });
  });

  it('takes event id, type and receive time from the sealed frame, never from attributes changed in the queue', async () => {
    const tampered = await inline({ ...meta, eventType: 'orders/create', typeSigned: false });
    tampered.messageAttributes.eventType = { dataType: 'String', stringValue: 'customers/redact' };
    tampered.messageAttributes.eventId = { dataType: 'String', stringValue: 'evt_forged' };
    tampered.messageAttributes.receivedAt = { dataType: 'String', stringValue: '2030-01-01T00:00:00.000Z' };

    const opened = await openMessage(tampered, deps);

    expect(opened).toMatchObject({ eventId: 'evt_1', eventType: 'orders/create', receivedAt: meta.receivedAt, typeSigned: false });
  });

  it('opens an HGB2 message in flight across a deploy, with id, type and time from its attributes and the type unsigned', async () => {
    const hgb2 = createEnvelope(localKeyring(createLocalKms({ key: HGB2_KEY })));
    const { binding, attributes } = HGB2_MESSAGE;
    const old = record(messageAttributes({ ...binding, ...attributes }, 'inline'), HGB2_MESSAGE.ciphertext.toString('base64'));

    const opened = await openMessage(old, { ...deps, envelope: hgb2 });

    expect(opened).toEqual({ ...binding, ...attributes, typeSigned: false, body: HGB2_MESSAGE.body, headers: HGB2_MESSAGE.headers, payload: 'inline' });
  });

  it('refuses a message whose dedupeKey attribute was changed after sealing', async () => {
    const tampered = await inline();
    tampered.messageAttributes.dedupeKey = { dataType: 'String', stringValue: 'orders:evt_2' };

    await expect(openMessage(tampered, deps)).rejects.toBeInstanceOf(EnvelopeMismatchError);
  });

  it("refuses a message of another source, even one sealed for that source (wrong queue)", async () => {
    const other = await inline({ ...meta, source: 'billing', dedupeKey: 'billing:evt_1' });

    await expect(openMessage(other, deps)).rejects.toBeInstanceOf(MessageFormatError);
  });

  it('refuses a pointer to another bucket or another key without fetching it', async () => {
    const attributes = messageAttributes(meta, 's3');

    await expect(openMessage(record(attributes, JSON.stringify({ bucket: 'elsewhere', key: payloadKey('orders', meta.dedupeKey) })), deps)).rejects.toBeInstanceOf(MessageFormatError);
    await expect(openMessage(record(attributes, JSON.stringify({ bucket: 'payloads', key: 'orders/other' })), deps)).rejects.toBeInstanceOf(MessageFormatError);
  });

  it('refuses records that are not hookgate messages', async () => {
    const plain = record({}, 'hello');

    await expect(openMessage(plain, deps)).rejects.toBeInstanceOf(MessageFormatError);
  });

  it('keeps metadata attributes within what SQS accepts and counts their bytes in the message size', () => {
    const attributes = messageAttributes({ ...meta, eventId: `bad\u0000id${'x'.repeat(400)}` }, 'inline');

    expect(attributes.eventId?.StringValue).toMatch(/^bad\?idx+$/);
    expect(attributes.eventId?.StringValue).toHaveLength(256);
    expect(attributes.eventType?.StringValue).toBe('order.paid');
    expect(attributes.typeSigned).toBeUndefined();
    expect(messageSize('abc', attributes)).toBeGreaterThan(3 + 256);
  });
});

describe('lazy S3 client', () => {
  it('builds one client with the given settings on first use and returns it on every later call', async () => {
    const load = lazyS3Client({ region: 'eu-west-1', maxAttempts: 2 });

    const [first, second] = await Promise.all([load(), load()]);
    const third = await load();

    expect(first).toBeInstanceOf(S3Client);
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(await first.config.region()).toBe('eu-west-1');
    expect(await first.config.maxAttempts()).toBe(2);
  });

  it('fetches a pointer message through a lazy client, and reports S3 down as a PayloadStoreError', async () => {
    const pointer = record(messageAttributes(meta, 's3'), JSON.stringify({ bucket: 'payloads', key: payloadKey(meta.source, meta.dedupeKey) }));
    const lazy = lazyS3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 });

    await expect(openMessage(pointer, { ...deps, s3: lazy })).rejects.toMatchObject({ name: 'PayloadStoreError' });
  });
});
