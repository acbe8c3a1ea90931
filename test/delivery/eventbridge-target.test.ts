import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { bodyRefKey, fetchEventBody, storeEventBody } from '../../lambda/delivery/body-ref';
import { type DeliveryEvent, webhookIdOf } from '../../lambda/delivery/contract';
import { createEventBridgeTarget, type EventBridgeDestination, type EventBridgeDetail, putEventsEntrySize } from '../../lambda/delivery/eventbridge-target';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { EnvelopeMismatchError, MessageFormatError, PayloadStoreError } from '../../lambda/ingest/errors';
import { type Emulator, localClients, startFauxqs } from '../../local/emulators';
import { createLocalKms, localKeyring } from '../../local/kms';
import { type BusBehaviour, clientConfig, EVENTBRIDGE_MAX_ENTRY_BYTES, type FakeEventBridge, startFakeEventBridge } from './aws-fakes';

/**
 * The `eventbridge` target against a local server speaking EventBridge's PutEvents protocol,
 * through the real SDK client; bodies too large for an event stored by reference in fauxqs's S3,
 * sealed with the real envelope over the local KMS, and read back with fetchEventBody.
 */

const BUS_ARN = 'arn:aws:events:us-east-1:123456789012:event-bus/clinical-events';
const BUSES: Record<string, BusBehaviour> = {
  'clinical-events': 'ok',
  [BUS_ARN]: 'ok',
  'throttled-entry': 'throttled-entry',
  'internal-entry': 'internal-entry',
  'invalid-entry': 'invalid-argument-entry',
  'unauthorized-entry': 'not-authorized-entry',
  'throttled-request': 'throttled-request',
  denied: 'access-denied',
  slow: 'hang',
};
const BUCKET = 'hookgate-payloads';

let fake: FakeEventBridge;
let eventBridge: EventBridgeClient;
let fauxqs: Emulator;
let s3: S3Client;
const envelope = createEnvelope(localKeyring(createLocalKms()));

beforeAll(async () => {
  [fake, fauxqs] = await Promise.all([startFakeEventBridge(BUSES), startFauxqs()]);
  eventBridge = new EventBridgeClient(clientConfig(fake));
  s3 = new S3Client(localClients({ dynamodb: '', sqs: fauxqs.endpoint, s3: fauxqs.endpoint }).s3);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 30_000);
afterAll(async () => {
  eventBridge.destroy();
  s3.destroy();
  await Promise.all([fake.stop(), fauxqs.stop()]);
});

function destination(busName = 'clinical-events'): EventBridgeDestination {
  return { type: 'eventbridge', name: 'bus', source: 'stripe', busName, detailType: 'hookgate.webhook', retryWindowHours: 24, backoffBaseSeconds: 30, maxBackoffSeconds: 3600, timeoutSeconds: 15, maxInFlight: 10, batchSize: 10, circuitBreaker: { failureThreshold: 5, openSeconds: 60 } };
}

const storeBody = (event: DeliveryEvent): ReturnType<typeof storeEventBody> => storeEventBody(event, { envelope, s3, bucket: BUCKET });

function event(body: Buffer | string, overrides: Partial<DeliveryEvent> = {}): DeliveryEvent {
  return {
    source: 'stripe',
    destination: 'bus',
    dedupeKey: 'stripe:evt_1',
    eventId: 'evt_1',
    eventType: 'payment_intent.succeeded',
    typeSigned: true,
    receivedAt: '2026-12-01T10:00:00.000Z',
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    headers: { 'content-type': 'application/json; charset=utf-8' },
    ...overrides,
  };
}
const ATTEMPT = { attempt: 1, timeoutMs: 5000 };

/** Delivers and returns the detail the bus received. */
async function deliverAndReceive(target: ReturnType<typeof createEventBridgeTarget>, delivered: DeliveryEvent): Promise<EventBridgeDetail> {
  const before = fake.events.length;
  const result = await target.deliver(delivered, ATTEMPT);
  expect(result).toMatchObject({ verdict: 'delivered', statusCode: 200 });
  expect(fake.events.length).toBe(before + 1);
  return fake.events[before]?.detail as unknown as EventBridgeDetail;
}

describe('eventbridge target', () => {
  it('puts one event on the bus: source hookgate.<source>, the detail type, the facts, the exact body and the parsed payload', async () => {
    const target = createEventBridgeTarget({ destination: destination(), eventBridge, storeBody });
    const body = '{"id":"evt_1","type":"payment_intent.succeeded","amount":2000,"name":"Zoë"}';
    const before = fake.events.length;

    const detail = await deliverAndReceive(target, event(body, { replayId: 'rpl_1' }));

    expect(fake.events[before]).toMatchObject({ bus: 'clinical-events', source: 'hookgate.stripe', detailType: 'hookgate.webhook' });
    expect(detail).toEqual({
      source: 'stripe',
      destination: 'bus',
      dedupeKey: 'stripe:evt_1',
      webhookId: webhookIdOf('stripe:evt_1'),
      eventId: 'evt_1',
      eventType: 'payment_intent.succeeded',
      typeSigned: true,
      receivedAt: '2026-12-01T10:00:00.000Z',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body,
      bodyEncoding: 'utf-8',
      payload: { id: 'evt_1', type: 'payment_intent.succeeded', amount: 2000, name: 'Zoë' },
      replayId: 'rpl_1',
    });
  });

  it('puts the event on a bus given by ARN', async () => {
    const before = fake.events.length;

    await deliverAndReceive(createEventBridgeTarget({ destination: destination(BUS_ARN), eventBridge, storeBody }), event('{}'));

    expect(fake.events[before]?.bus).toBe(BUS_ARN);
  });

  it('sends a body that is not UTF-8 as base64, byte for byte, with no payload', async () => {
    const bytes = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);

    const detail = await deliverAndReceive(createEventBridgeTarget({ destination: destination(), eventBridge, storeBody }), event(bytes));

    expect(detail.bodyEncoding).toBe('base64');
    expect(Buffer.from(detail.body ?? '', 'base64').equals(bytes)).toBe(true);
    expect(detail.payload).toBeUndefined();
  });

  it('parses no payload for a body that is not JSON, or does not parse', async () => {
    const target = createEventBridgeTarget({ destination: destination(), eventBridge, storeBody });

    const form = await deliverAndReceive(target, event('a=1&b=2', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
    const broken = await deliverAndReceive(target, event('{"a":', { headers: { 'content-type': 'application/json' } }));
    const vendor = await deliverAndReceive(target, event('{"a":1}', { headers: { 'content-type': 'application/vnd.api+json' } }));

    expect(form).toMatchObject({ body: 'a=1&b=2', bodyEncoding: 'utf-8' });
    expect(form.payload).toBeUndefined();
    expect(broken).toMatchObject({ body: '{"a":', bodyEncoding: 'utf-8' });
    expect(broken.payload).toBeUndefined();
    expect(vendor.payload).toEqual({ a: 1 });
  });

  it('drops the parsed payload first when the event would not fit with it, and keeps the exact body', async () => {
    const body = JSON.stringify({ notes: 'x'.repeat(150_000) });

    const detail = await deliverAndReceive(createEventBridgeTarget({ destination: destination(), eventBridge, storeBody }), event(body));

    expect(detail.body).toBe(body);
    expect(detail.payload).toBeUndefined();
    expect(detail.bodyRef).toBeUndefined();
  });

  it('counts the entry as AWS documents it: an entry of exactly 256 KB goes inline, one byte more goes by reference', async () => {
    const target = createEventBridgeTarget({ destination: destination(), eventBridge, storeBody });
    const text = { headers: { 'content-type': 'text/plain' } };
    // Dedupe keys of one length: the detail's size differs by the body only.
    const probe = await deliverAndReceive(target, event('a', { ...text, dedupeKey: 'stripe:evt_p' }));
    // What the bus received, less the one body byte: Source, DetailType and Detail in UTF-8.
    const overhead = Buffer.byteLength('hookgate.stripe') + Buffer.byteLength('hookgate.webhook') + Buffer.byteLength(JSON.stringify(probe)) - 1;
    const atLimit = 'a'.repeat(EVENTBRIDGE_MAX_ENTRY_BYTES - overhead);

    const inline = await deliverAndReceive(target, event(atLimit, { ...text, dedupeKey: 'stripe:evt_l' }));
    const byReference = await deliverAndReceive(target, event(`${atLimit}a`, { ...text, dedupeKey: 'stripe:evt_o' }));

    expect(inline.body === atLimit).toBe(true);
    expect(byReference.body === undefined && byReference.bodyEncoding === undefined).toBe(true);
    expect(byReference.bodyRef).toEqual({ bucket: BUCKET, key: bodyRefKey('stripe', 'stripe:evt_o') });
    expect(putEventsEntrySize({ Source: 'hookgate.stripe', DetailType: 'hookgate.webhook', Detail: JSON.stringify({ ...inline }) })).toBe(EVENTBRIDGE_MAX_ENTRY_BYTES);
  });

  it('counts Time as 14 bytes and each resource in UTF-8', () => {
    expect(putEventsEntrySize({ Time: new Date(0), Source: 'é', DetailType: 'ab', Detail: '{}', Resources: ['r', 'ü'] })).toBe(14 + 2 + 2 + 2 + 1 + 2);
  });

  it('stores a large body sealed under <source>/refs/, which fetchEventBody reads back byte for byte', async () => {
    const body = Buffer.concat([Buffer.from('{"scan":"'), Buffer.alloc(400_000, 0x41), Buffer.from('"}')]);
    const delivered = event(body, { dedupeKey: 'stripe:evt_large' });

    const detail = await deliverAndReceive(createEventBridgeTarget({ destination: destination(), eventBridge, storeBody }), delivered);
    const stored = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: bodyRefKey('stripe', 'stripe:evt_large') }));
    const sealed = Buffer.from(await (stored.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());

    expect(bodyRefKey('stripe', 'stripe:evt_large')).toMatch(/^stripe\/refs\/[0-9a-f]{64}$/);
    expect(sealed.includes(Buffer.alloc(64, 0x41))).toBe(false);
    expect(detail.payload).toBeUndefined();
    const fetched = await fetchEventBody({ source: detail.source, dedupeKey: detail.dedupeKey, bodyRef: detail.bodyRef as NonNullable<EventBridgeDetail['bodyRef']> }, { envelope, s3, bucket: BUCKET });
    expect(fetched.equals(body)).toBe(true);
  });

  it('refuses an object swapped for another event’s sealed body', async () => {
    const mine = await storeBody(event('{"patient":"a"}', { dedupeKey: 'stripe:evt_mine' }));
    const theirs = await storeBody(event('{"patient":"b"}', { dedupeKey: 'stripe:evt_theirs' }));
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: theirs.key }));
    const bytes = Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: mine.key, Body: bytes }));

    const read = fetchEventBody({ source: 'stripe', dedupeKey: 'stripe:evt_mine', bodyRef: mine }, { envelope, s3 });

    await expect(read).rejects.toBeInstanceOf(EnvelopeMismatchError);
  });

  it('refuses a reference to another object, or another bucket, before reading anything', async () => {
    const theirs = await storeBody(event('{"patient":"c"}', { dedupeKey: 'stripe:evt_other' }));

    const otherKey = fetchEventBody({ source: 'stripe', dedupeKey: 'stripe:evt_mine', bodyRef: theirs }, { envelope, s3 });
    const otherSource = fetchEventBody({ source: 'shopify', dedupeKey: 'stripe:evt_other', bodyRef: theirs }, { envelope, s3 });
    const otherBucket = fetchEventBody({ source: 'stripe', dedupeKey: 'stripe:evt_other', bodyRef: { ...theirs, bucket: 'elsewhere' } }, { envelope, s3, bucket: BUCKET });

    await expect(otherKey).rejects.toBeInstanceOf(MessageFormatError);
    await expect(otherSource).rejects.toBeInstanceOf(MessageFormatError);
    await expect(otherBucket).rejects.toBeInstanceOf(MessageFormatError);
  });

  it('says when the stored body is gone (the lifecycle removed it, or no access)', async () => {
    const read = fetchEventBody({ source: 'stripe', dedupeKey: 'stripe:evt_never', bodyRef: { bucket: BUCKET, key: bodyRefKey('stripe', 'stripe:evt_never') } }, { envelope, s3 });

    await expect(read).rejects.toBeInstanceOf(PayloadStoreError);
  });

  it('retries when the body cannot be stored', async () => {
    const failing = (e: DeliveryEvent): ReturnType<typeof storeEventBody> => storeEventBody(e, { envelope, s3, bucket: 'hookgate-no-such-bucket' });
    const before = fake.events.length;

    const result = await createEventBridgeTarget({ destination: destination(), eventBridge, storeBody: failing }).deliver(event('x'.repeat(300_000)), ATTEMPT);

    expect(result).toMatchObject({ verdict: 'retry', errorClass: 'PayloadStoreError' });
    expect(fake.events.length).toBe(before);
  });

  it('rejects an event too large even by reference', async () => {
    const result = await createEventBridgeTarget({ destination: destination(), eventBridge, storeBody, maxEntryBytes: 100 }).deliver(event('{}'), ATTEMPT);

    expect(result).toMatchObject({ verdict: 'reject', errorClass: 'entry-too-large' });
  });

  it.each([
    ['throttled-entry', 'retry', 'ThrottlingException'],
    ['internal-entry', 'retry', 'InternalFailure'],
    ['unauthorized-entry', 'retry', 'NotAuthorizedForSourceException'],
    ['missing-bus', 'retry', 'ResourceNotFoundException'],
    ['invalid-entry', 'reject', 'InvalidArgument'],
  ])('judges an entry failing on bus %s: %s (%s)', async (bus, verdict, errorClass) => {
    const result = await createEventBridgeTarget({ destination: destination(bus), eventBridge, storeBody }).deliver(event('{}'), ATTEMPT);

    expect(result).toMatchObject({ verdict, errorClass });
  });

  it.each([
    ['throttled-request', 'retry', 'ThrottlingException'],
    ['denied', 'retry', 'AccessDeniedException'],
  ])('judges a request failing on bus %s: %s (%s)', async (bus, verdict, errorClass) => {
    const result = await createEventBridgeTarget({ destination: destination(bus), eventBridge, storeBody }).deliver(event('{}'), ATTEMPT);

    expect(result).toMatchObject({ verdict, errorClass, statusCode: 400 });
  });

  it('rejects an entry EventBridge refuses as invalid for the whole request', async () => {
    // A limit set above EventBridge's lets an oversized entry reach it.
    const target = createEventBridgeTarget({ destination: destination(), eventBridge, storeBody, maxEntryBytes: 1024 * 1024 });

    const result = await target.deliver(event('x'.repeat(EVENTBRIDGE_MAX_ENTRY_BYTES), { headers: { 'content-type': 'text/plain' } }), ATTEMPT);

    expect(result).toMatchObject({ verdict: 'reject', errorClass: 'ValidationException', statusCode: 400 });
  });

  it('gives up the attempt at its timeout and retries', async () => {
    const result = await createEventBridgeTarget({ destination: destination('slow'), eventBridge, storeBody }).deliver(event('{}'), { attempt: 1, timeoutMs: 50 });

    expect(result).toMatchObject({ verdict: 'retry', errorClass: 'timeout' });
  });

  it('refuses a bus name PutEvents would refuse for every event, naming the destination', () => {
    expect(() => createEventBridgeTarget({ destination: destination('clinical events!'), eventBridge, storeBody })).toThrow('destination bus: busName is not an event bus name or ARN');
  });
});
