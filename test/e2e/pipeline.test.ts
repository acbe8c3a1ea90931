import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { NamedSource } from '../../lambda/config/types';
import { validateConfig } from '../../lambda/config/validate';
import type { EventHandler } from '../../lambda/processor/handlers';
import { type LocalApp, startLocal } from '../../local/app';
import { localClients } from '../../local/emulators';
import { signRequest } from '../../local/sign';
import type { SinkLine } from '../../local/sink';
import { jsonBody, PROVIDER_ROWS, type ProviderRow } from './providers';

/**
 * The whole path through the real local HTTP server: signed request -> verifier -> dedupe ->
 * envelope -> SQS (fauxqs) -> poller -> processor -> sink file. Every test runs for every row
 * of the provider table.
 */

const FLAKY = 'flaky';
const FLAKY_SECRET = 'e2e-flaky-token-77c1';
const KIB = 1024;

let app: LocalApp;
let sinkFile: string;
const logs: string[] = [];
const flakyAttempts = new Map<string, number>();
const flakyProcessed = new Set<string>();
/** Every dedupe key the API answered `accepted` for: what must be processed or dead-lettered. */
const accepted = new Set<string>();
/** Dedupe keys found (and removed) in the DLQs so far. */
const deadLettered: string[] = [];
let seq = 0;

const marker = (): string => `PHI-MARKER-${process.pid}-${(seq += 1)}`;

/** The flaky source's processor: fails every time for a body marked poison, else succeeds. */
const flaky: EventHandler = (event, { attempt }) => {
  flakyAttempts.set(event.dedupeKey, attempt);
  if (event.body.includes('"poison"')) throw new Error(`cannot handle ${event.body.toString('utf8')}`);
  flakyProcessed.add(event.dedupeKey);
};

function named(row: Pick<ProviderRow, 'name' | 'source'>): NamedSource {
  return { ...row.source, name: row.name };
}

interface Sent {
  readonly status: number;
  readonly json: { id?: string; status?: string; error?: string };
}

/** Signs like the provider (signRequest) and POSTs through the local API, `copies` times at once. */
async function post(row: Pick<ProviderRow, 'name' | 'source' | 'contentType'>, body: Buffer, eventId?: string, copies = 1): Promise<Sent[]> {
  const url = `${app.url}/webhooks/${row.name}`;
  const signed = signRequest(named(row), row.source.secrets[0] as string, body, { now: Date.now(), url, ...(eventId !== undefined ? { eventId } : {}) });
  const headers = { 'Content-Type': row.contentType, ...signed.headers };
  const replies = await Promise.all(
    Array.from({ length: copies }, async () => {
      const res = await fetch(signed.url, { method: 'POST', headers, body });
      const text = await res.text();
      let json: Sent['json'] = {};
      try {
        json = JSON.parse(text) as Sent['json'];
      } catch {
        // 413 and 404 bodies are JSON too; anything else stays empty.
      }
      return { status: res.status, json };
    }),
  );
  for (const r of replies) if (r.json.status === 'accepted' && r.json.id !== undefined) accepted.add(r.json.id);
  return replies;
}

function sinkLines(): SinkLine[] {
  const text = readFileSync(sinkFile, 'utf8');
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as SinkLine);
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until `key` is in the sink, then one more visibility timeout for any second copy. */
async function processedLines(key: string): Promise<SinkLine[]> {
  await until(() => (sinkLines().some((l) => l.dedupeKey === key) ? true : undefined));
  await new Promise((r) => setTimeout(r, 1500));
  return sinkLines().filter((l) => l.dedupeKey === key);
}

async function drain(queueUrl: string): Promise<string[]> {
  const sqs = new SQSClient(localClients(app.stack.endpoints).sqs);
  const bodies: string[] = [];
  try {
    for (;;) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30, MessageAttributeNames: ['All'] }));
      const messages = got.Messages ?? [];
      if (messages.length === 0) return bodies;
      bodies.push(...messages.map((m) => m.MessageAttributes?.dedupeKey?.StringValue ?? ''));
    }
  } finally {
    sqs.destroy();
  }
}

beforeAll(async () => {
  // Logs of the whole run: every verifier and processor logger writes through these.
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logs.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
  }
  sinkFile = join(mkdtempSync(join(tmpdir(), 'hookgate-e2e-')), 'sink.jsonl');
  const sources = Object.fromEntries([
    ...PROVIDER_ROWS.map((row) => [row.name, row.source]),
    [FLAKY, { provider: 'token', secrets: [FLAKY_SECRET], header: 'x-webhook-token', maxReceiveCount: 2 }],
  ]);
  app = await startLocal({
    config: validateConfig({ sources }, 'test'),
    port: 0,
    sink: sinkFile,
    routes: { [FLAKY]: { '*': flaky } },
    visibilityTimeoutSeconds: 1,
    waitTimeSeconds: 1,
  });
}, 30_000);

afterAll(async () => {
  await app?.stop();
  jest.restoreAllMocks();
});

describe.each(PROVIDER_ROWS.map((row) => [row.name, row] as const))('end to end, provider %s', (_name, row) => {
  it('accepts a signed event and processes it with the exact bytes received', async () => {
    const id = `evt-${marker()}`;
    const { body, eventId } = row.event(id, marker());

    const [reply] = await post(row, body, eventId);
    const lines = await processedLines(reply!.json.id!);

    expect(reply!.status).toBe(200);
    expect(reply!.json.status).toBe('accepted');
    expect(lines).toHaveLength(1);
    expect(Buffer.from(lines[0]!.body ?? '', 'utf8').equals(body)).toBe(true);
    expect(lines[0]).toMatchObject({ source: row.name, dedupeKey: reply!.json.id });
    expect(lines[0]!.headers['content-type']).toBe(row.contentType);
    expect(JSON.stringify(lines[0]!.headers)).not.toContain(row.source.secrets[0]);
  });

  it('answers a repeated event as a duplicate and processes it once', async () => {
    const { body, eventId } = row.event(`evt-${marker()}`, marker());

    const [first] = await post(row, body, eventId);
    const [second] = await post(row, body, eventId);
    const lines = await processedLines(first!.json.id!);

    expect(first!.json.status).toBe('accepted');
    expect(second!.status).toBe(200);
    expect(second!.json).toEqual({ id: first!.json.id, status: 'duplicate' });
    expect(lines).toHaveLength(1);
  });

  it('enqueues and processes 25 concurrent copies of one event once', async () => {
    const { body, eventId } = row.event(`evt-${marker()}`, marker());

    const replies = await post(row, body, eventId, 25);
    const acceptedReplies = replies.filter((r) => r.json.status === 'accepted');
    const lines = await processedLines(acceptedReplies[0]!.json.id!);

    expect(acceptedReplies).toHaveLength(1);
    expect(replies.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    expect(lines).toHaveLength(1);
  });

  it('processes a 900 KiB body byte for byte (stored in S3 behind a pointer)', async () => {
    const { body, eventId } = row.event(`evt-${marker()}`, marker(), 900 * KIB);

    const [reply] = await post(row, body, eventId);
    const lines = await processedLines(reply!.json.id!);

    const s3 = new S3Client(localClients(app.stack.endpoints).s3);
    const stored = await s3.send(new ListObjectsV2Command({ Bucket: app.stack.resources.bucket, Prefix: `${row.name}/` }));
    s3.destroy();

    expect(reply!.json.status).toBe('accepted');
    expect(stored.KeyCount ?? 0).toBeGreaterThan(0);
    expect(body.length).toBe(900 * KIB);
    expect(Buffer.from(lines[0]!.body ?? '', 'utf8').equals(body)).toBe(true);
  });

  it('refuses a 2 MiB body with 413 and enqueues nothing', async () => {
    const { body, eventId } = row.event(`evt-${marker()}`, marker(), 2048 * KIB);

    const [reply] = await post(row, body, eventId);

    expect(reply!.status).toBe(413);
    expect(reply!.json.id).toBeUndefined();
  });
});

describe('end to end, processor failures', () => {
  const flakyRow = { name: FLAKY, source: { provider: 'token' as const, secrets: [FLAKY_SECRET], header: 'x-webhook-token' }, contentType: 'application/json' };

  it('retries only the record whose processor throws, then moves it to the DLQ, and processes the rest once', async () => {
    const bodies = ['ok-1', 'poison', 'ok-2'].map((kind) => jsonBody({ id: `${kind}-${marker()}`, kind, marker: marker() }));

    const replies = (await Promise.all(bodies.map((b) => post(flakyRow, b)))).flat();
    const keys = replies.map((r) => r.json.id!);
    const dead = await until(async () => {
      deadLettered.push(...(await drain(app.stack.resources.queues[FLAKY]!.dlqUrl)));
      return deadLettered.length > 0 ? [...deadLettered] : undefined;
    });

    expect(replies.map((r) => r.json.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(dead).toEqual([keys[1]]);
    expect(flakyAttempts.get(keys[1]!)).toBe(2);
    expect(flakyAttempts.get(keys[0]!)).toBe(1);
    expect(flakyAttempts.get(keys[2]!)).toBe(1);
    expect([...flakyProcessed].filter((k) => keys.includes(k)).sort()).toEqual([keys[0], keys[2]].sort());
  });
});

describe('end to end, the whole run', () => {
  it('loses nothing: every accepted event was processed or is in a DLQ', async () => {
    const queues = app.stack.resources.queues;
    const processed = new Set([...sinkLines().map((l) => l.dedupeKey), ...flakyProcessed]);
    const left: string[] = [];
    for (const { queueUrl, dlqUrl } of Object.values(queues)) {
      left.push(...(await drain(queueUrl)));
      deadLettered.push(...(await drain(dlqUrl)));
    }

    expect(left).toEqual([]);
    expect(accepted.size).toBeGreaterThan(0);
    expect(accepted.size).toBe(processed.size + deadLettered.length);
    expect(new Set([...processed, ...deadLettered])).toEqual(accepted);
  });

  it('logged metadata only: no body content and no secret in anything written', () => {
    const text = logs.join('');
    const secrets = [...PROVIDER_ROWS.flatMap((r) => r.source.secrets), FLAKY_SECRET];

    expect(text).toContain('webhook accepted');
    expect(text).toContain('webhook processed');
    expect(text).not.toMatch(/PHI-MARKER/);
    expect(text).not.toMatch(/Zoë|naïve/);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
