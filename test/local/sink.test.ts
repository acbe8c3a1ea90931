import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toWebhookEvent } from '../../lambda/processor/handler';
import { HeaderJournal, safeHeaders } from '../../local/headers';
import { createSinkHandler, type SinkLine, sinkLine } from '../../local/sink';

const event = (body: Buffer, headers: Record<string, string> = {}) =>
  toWebhookEvent({ source: 'orders', dedupeKey: 'orders:k', receivedAt: '2026-11-23T00:00:00.000Z', body, headers });
const ctx = { logger: { info: () => undefined, warn: () => undefined, error: () => undefined }, attempt: 1 };

describe('sink line', () => {
  it('writes a UTF-8 body as text that decodes back to the same bytes, BOM and escapes included', () => {
    const body = Buffer.from('\uFEFF{"a":"é\\n\u2028", "b" : [1,2]}\r\n', 'utf8');

    const line = JSON.parse(JSON.stringify(sinkLine(event(body)))) as SinkLine;

    expect(Buffer.from(line.body ?? '', 'utf8').equals(body)).toBe(true);
    expect(line.bodyBase64).toBeUndefined();
    expect(line).toMatchObject({ source: 'orders', dedupeKey: 'orders:k', eventId: null, eventType: null, receivedAt: '2026-11-23T00:00:00.000Z' });
  });

  it('writes a body that is not valid UTF-8 as base64 with a null body, so no byte is replaced', () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0xc3, 0x7d]);

    const line = sinkLine(event(body));

    expect(line.body).toBeNull();
    expect(Buffer.from(line.bodyBase64 ?? '', 'base64').equals(body)).toBe(true);
  });

  it('appends one line per event, in order, even when writes overlap', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hookgate-sink-')), 'sink.jsonl');
    const sink = createSinkHandler(file);

    await Promise.all(Array.from({ length: 20 }, (_, i) => sink(event(Buffer.from(`{"n":${i}}`)), ctx)));
    const lines = readFileSync(file, 'utf8').split('\n');

    expect(lines.pop()).toBe('');
    expect(lines.map((l) => (JSON.parse(l) as SinkLine).body)).toEqual(Array.from({ length: 20 }, (_, i) => `{"n":${i}}`));
  });

  it('rejects when the file cannot be written, so the record is retried rather than lost', async () => {
    const sink = createSinkHandler(join(tmpdir(), 'no-such-dir-hookgate', 'sink.jsonl'));

    await expect(sink(event(Buffer.from('{}')), ctx)).rejects.toThrow();
  });
});

describe('safe headers', () => {
  const sent = {
    'Content-Type': 'application/json',
    'X-GitHub-Delivery': 'd-1',
    'X-Hub-Signature-256': 'sha256=abc',
    'Stripe-Signature': 't=1,v1=abc',
    'X-Slack-Request-Timestamp': '1',
    'webhook-id': 'msg_1',
    'webhook-signature': 'v1,abc',
    Authorization: 'Bearer x',
    'X-Partner-Delivery': 'dlv_1',
    'I-Twilio-Idempotency-Token': 'idem-1',
  };

  it('keeps content type and provider ids, drops signatures, timestamps and credentials', () => {
    expect(safeHeaders(sent)).toEqual({ 'content-type': 'application/json', 'x-github-delivery': 'd-1', 'webhook-id': 'msg_1', 'i-twilio-idempotency-token': 'idem-1' });
  });

  it('keeps an hmac source id header and never a token source own header', () => {
    const hmac = safeHeaders(sent, { name: 'p', provider: 'hmac', hmac: { header: 'x-partner-signature', idHeader: 'X-Partner-Delivery' } });
    const token = safeHeaders({ 'User-Agent': 'ua', 'content-type': 'a' }, { name: 'o', provider: 'token', header: 'User-Agent' });

    expect(hmac['x-partner-delivery']).toBe('dlv_1');
    expect(token).toEqual({ 'content-type': 'a' });
  });

  it('journals the first request of an event, and forgets one the verifier did not accept', () => {
    const journal = new HeaderJournal();
    journal.note('k1', { a: '1' });
    journal.note('k1', { a: 'second copy' });
    const forget = journal.note('k2', { b: '2' });
    forget();

    expect(journal.find('k1')).toEqual({ a: '1' });
    expect(journal.find('k2')).toEqual({});
  });

  it('keeps the journal bounded, dropping the oldest entries first', () => {
    const journal = new HeaderJournal(2);
    for (const key of ['k1', 'k2', 'k3']) journal.note(key, { key });

    expect(journal.find('k1')).toEqual({});
    expect(journal.find('k2')).toEqual({ key: 'k2' });
    expect(journal.find('k3')).toEqual({ key: 'k3' });
  });
});
