import { createEnvelope, frame, type SealedEvent, unframe } from '../../lambda/ingest/envelope';
import { EncryptionError, EnvelopeMismatchError } from '../../lambda/ingest/errors';
import { createLocalKms, localKeyring } from '../../local/kms';
import { HGB2_KEY, HGB2_MESSAGE } from './fixtures/hgb2';

const binding = { source: 'orders', dedupeKey: 'orders:sha256:abc' };
const facts: SealedEvent = { eventId: 'd-1', eventType: 'orders/create', receivedAt: '2026-11-23T10:00:00.000Z', typeSigned: false };
const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x7b, 0x22, 0xc3, 0x28, 0x0a]);

describe('envelope', () => {
  it('opens what it sealed byte for byte, including bytes that are not UTF-8', async () => {
    const envelope = createEnvelope(localKeyring(createLocalKms()));

    const sealed = await envelope.seal(bytes, binding, facts);

    expect(sealed.includes(bytes)).toBe(false);
    expect((await envelope.open(sealed, binding)).body.equals(bytes)).toBe(true);
  });

  it('refuses to open a message for another dedupe key or another source', async () => {
    const envelope = createEnvelope(localKeyring(createLocalKms()));
    const sealed = await envelope.seal(bytes, binding, facts);

    await expect(envelope.open(sealed, { ...binding, dedupeKey: 'orders:sha256:other' })).rejects.toBeInstanceOf(EnvelopeMismatchError);
    await expect(envelope.open(sealed, { ...binding, source: 'billing' })).rejects.toBeInstanceOf(EnvelopeMismatchError);
  });

  it('cannot be opened with another key', async () => {
    const sealed = await createEnvelope(localKeyring(createLocalKms())).seal(bytes, binding, facts);

    await expect(createEnvelope(localKeyring(createLocalKms())).open(sealed, binding)).rejects.toBeInstanceOf(EncryptionError);
  });

  it('calls KMS at most once to seal 1,000 events of one source and once to open them', async () => {
    const kms = createLocalKms();
    const producer = createEnvelope(localKeyring(kms));
    const consumer = createEnvelope(localKeyring(kms));

    const sealed: Buffer[] = [];
    for (let i = 0; i < 1000; i += 1) sealed.push(await producer.seal(Buffer.from(`event ${i}`), { source: 'orders', dedupeKey: `orders:${i}` }, facts));
    const afterSeal = { ...kms.calls };
    for (let i = 0; i < 1000; i += 1) await consumer.open(sealed[i] as Buffer, { source: 'orders', dedupeKey: `orders:${i}` });

    expect(afterSeal.generateDataKey + afterSeal.encrypt + afterSeal.decrypt).toBe(1);
    expect(kms.calls.decrypt).toBe(1);
  });

  it('reports a failing KMS as an EncryptionError and works again once KMS is back', async () => {
    const kms = createLocalKms();
    const envelope = createEnvelope(localKeyring(kms));
    kms.failNext();

    await expect(envelope.seal(bytes, binding, facts)).rejects.toBeInstanceOf(EncryptionError);
    expect((await envelope.open(await envelope.seal(bytes, binding, facts), binding)).body.equals(bytes)).toBe(true);
  });

  it('seals a 900 KiB body in a handful of large frames (4 KiB frames made big bodies take seconds under load)', async () => {
    const envelope = createEnvelope(localKeyring(createLocalKms()));
    const body = Buffer.alloc(900 * 1024, 0x61);

    const sealed = await envelope.seal(body, binding, facts);

    // Per-frame overhead is ~32 bytes: 225 default frames would add ~7 KiB, 4 large ones ~128 bytes.
    expect(sealed.length - body.length).toBeLessThan(2048);
    expect((await envelope.open(sealed, binding)).body.equals(body)).toBe(true);
  });

  it('seals the event facts and the safe headers with the body and gives them back on open', async () => {
    const envelope = createEnvelope(localKeyring(createLocalKms()));
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-github-delivery': 'd-1' };
    const signedType: SealedEvent = { eventId: 'evt_1', eventType: 'invoice.paid', receivedAt: '2026-11-23T11:00:00.000Z', typeSigned: true };

    const sealed = await envelope.seal(bytes, binding, signedType, headers);
    const bare = await envelope.seal(bytes, binding, { receivedAt: facts.receivedAt, typeSigned: false });

    expect(sealed.includes(Buffer.from('x-github-delivery'))).toBe(false);
    expect(sealed.includes(Buffer.from('invoice.paid'))).toBe(false);
    expect(await envelope.open(sealed, binding)).toEqual({ body: bytes, headers, event: signedType });
    expect(await envelope.open(bare, binding)).toEqual({ body: bytes, headers: {}, event: { receivedAt: facts.receivedAt, typeSigned: false } });
  });

  it('still opens an HGB2 message sealed before the event facts were (in flight across a deploy)', async () => {
    const envelope = createEnvelope(localKeyring(createLocalKms({ key: HGB2_KEY })));

    const opened = await envelope.open(HGB2_MESSAGE.ciphertext, HGB2_MESSAGE.binding);

    expect(opened).toEqual({ body: HGB2_MESSAGE.body, headers: HGB2_MESSAGE.headers });
    expect(opened.event).toBeUndefined();
    await expect(envelope.open(HGB2_MESSAGE.ciphertext, { ...HGB2_MESSAGE.binding, dedupeKey: 'orders:other' })).rejects.toBeInstanceOf(EnvelopeMismatchError);
  });

  it('frames and unframes HGB3, reads HGB2, and refuses truncated frames and unknown flags', () => {
    const framed = frame(bytes, binding, facts, { 'content-encoding': 'gzip' });
    const headers = Buffer.from('{}', 'utf8');
    const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
    const v2 = Buffer.concat([Buffer.from('HGB2'), u16(6), Buffer.from('orders'), u16(17), Buffer.from(binding.dedupeKey), u16(2), headers, bytes]);
    const flagsAt = framed.indexOf(Buffer.from(facts.receivedAt)) + facts.receivedAt.length;
    const newerFlags = Buffer.from(framed);
    newerFlags[flagsAt] = 0x02;

    expect(framed.subarray(0, 4).toString()).toBe('HGB3');
    expect(unframe(framed)).toEqual({ binding, headers: { 'content-encoding': 'gzip' }, event: facts, body: bytes });
    expect(unframe(v2)).toEqual({ binding, headers: {}, body: bytes });
    expect(() => unframe(framed.subarray(0, 8))).toThrow(EnvelopeMismatchError);
    expect(() => unframe(newerFlags)).toThrow(EnvelopeMismatchError);
    expect(() => unframe(Buffer.concat([Buffer.from('HGB9'), framed.subarray(4)]))).toThrow(EnvelopeMismatchError);
  });
});
