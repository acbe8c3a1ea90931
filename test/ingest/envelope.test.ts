import { createEnvelope, frame, unframe } from '../../lambda/ingest/envelope';
import { EncryptionError, EnvelopeMismatchError } from '../../lambda/ingest/errors';
import { createLocalKms, localKeyring } from '../../local/kms';

const binding = { source: 'orders', dedupeKey: 'orders:sha256:abc' };
const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x7b, 0x22, 0xc3, 0x28, 0x0a]);

describe('envelope', () => {
  it('opens what it sealed byte for byte, including bytes that are not UTF-8', async () => {
    const envelope = createEnvelope(localKeyring(createLocalKms()));

    const sealed = await envelope.seal(bytes, binding);

    expect(sealed.includes(bytes)).toBe(false);
    expect((await envelope.open(sealed, binding)).body.equals(bytes)).toBe(true);
  });

  it('refuses to open a message for another dedupe key or another source', async () => {
    const envelope = createEnvelope(localKeyring(createLocalKms()));
    const sealed = await envelope.seal(bytes, binding);

    await expect(envelope.open(sealed, { ...binding, dedupeKey: 'orders:sha256:other' })).rejects.toBeInstanceOf(EnvelopeMismatchError);
    await expect(envelope.open(sealed, { ...binding, source: 'billing' })).rejects.toBeInstanceOf(EnvelopeMismatchError);
  });

  it('cannot be opened with another key', async () => {
    const sealed = await createEnvelope(localKeyring(createLocalKms())).seal(bytes, binding);

    await expect(createEnvelope(localKeyring(createLocalKms())).open(sealed, binding)).rejects.toBeInstanceOf(EncryptionError);
  });

  it('calls KMS at most once to seal 1,000 events of one source and once to open them', async () => {
    const kms = createLocalKms();
    const producer = createEnvelope(localKeyring(kms));
    const consumer = createEnvelope(localKeyring(kms));

    const sealed: Buffer[] = [];
    for (let i = 0; i < 1000; i += 1) sealed.push(await producer.seal(Buffer.from(`event ${i}`), { source: 'orders', dedupeKey: `orders:${i}` }));
    const afterSeal = { ...kms.calls };
    for (let i = 0; i < 1000; i += 1) await consumer.open(sealed[i] as Buffer, { source: 'orders', dedupeKey: `orders:${i}` });

    expect(afterSeal.generateDataKey + afterSeal.encrypt + afterSeal.decrypt).toBe(1);
    expect(kms.calls.decrypt).toBe(1);
  });

  it('reports a failing KMS as an EncryptionError and works again once KMS is back', async () => {
    const kms = createLocalKms();
    const envelope = createEnvelope(localKeyring(kms));
    kms.failNext();

    await expect(envelope.seal(bytes, binding)).rejects.toBeInstanceOf(EncryptionError);
    expect((await envelope.open(await envelope.seal(bytes, binding), binding)).body.equals(bytes)).toBe(true);
  });

  it('seals a 900 KiB body in a handful of large frames (4 KiB frames made big bodies take seconds under load)', async () => {
    const envelope = createEnvelope(localKeyring(createLocalKms()));
    const body = Buffer.alloc(900 * 1024, 0x61);

    const sealed = await envelope.seal(body, binding);

    // Per-frame overhead is ~32 bytes: 225 default frames would add ~7 KiB, 4 large ones ~128 bytes.
    expect(sealed.length - body.length).toBeLessThan(2048);
    expect((await envelope.open(sealed, binding)).body.equals(body)).toBe(true);
  });

  it('seals the safe headers with the body and gives them back on open', async () => {
    const envelope = createEnvelope(localKeyring(createLocalKms()));
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-github-delivery': 'd-1' };

    const sealed = await envelope.seal(bytes, binding, headers);

    expect(sealed.includes(Buffer.from('x-github-delivery'))).toBe(false);
    expect(await envelope.open(sealed, binding)).toEqual({ body: bytes, headers });
  });

  it('frames and unframes a binding and refuses truncated frames', () => {
    const framed = frame(bytes, binding);

    expect(unframe(framed)).toEqual({ binding, headers: {}, body: bytes });
    expect(() => unframe(framed.subarray(0, 8))).toThrow(EnvelopeMismatchError);
  });
});
