import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toWebhookEvent } from '../../lambda/processor/batch';
import { createSinkHandler, type SinkLine, sinkLine } from '../../local/sink';

const event = (body: Buffer, headers: Record<string, string> = {}) =>
  toWebhookEvent({ source: 'orders', dedupeKey: 'orders:k', receivedAt: '2026-11-23T00:00:00.000Z', typeSigned: false, body, headers });
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
