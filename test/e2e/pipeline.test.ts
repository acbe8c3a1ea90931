import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { listArchived } from '../../lambda/archive/reader';
import { namedSource } from '../../lambda/config/schema';
import { parseConfig } from '../../lib/config-file';
import { payloadKey } from '../../lambda/ingest/message';
import type { EventHandler } from '../../lambda/processor/api';
import { signRequest } from '../../lambda/signatures/sign';
import { type LocalApp, type LocalClient, startLocal } from '../../local/app';
import { localClients } from '../../local/emulators';
import type { SinkLine } from '../../local/sink';
import { jsonBody, PROVIDER_ROWS, type ProviderEvent, type ProviderRow } from './providers';

/**
 * The whole path through the real local HTTP server: signed request -> verifier -> dedupe ->
 * envelope -> SQS (fauxqs, S3 for large bodies) -> poller -> processor -> sink file.
 *
 * All traffic of every provider row is sent at once in `beforeAll` (as providers would: in
 * parallel), then each test checks one behaviour of one row on what happened. This keeps the
 * suite's time flat as rows are added.
 */

const FLAKY = 'flaky';
const FLAKY_SECRET = 'e2e-flaky-token-77c1';
const KIB = 1024;

interface Reply {
  readonly status: number;
  readonly json: { readonly id?: string; readonly status?: string; readonly error?: string };
}

interface RowRun {
  readonly single: { readonly event: ProviderEvent; readonly reply: Reply };
  readonly duplicate: { readonly first: Reply; readonly second: Reply };
  readonly concurrent: { readonly replies: readonly Reply[] };
  readonly large: { readonly event: ProviderEvent; readonly reply: Reply };
  readonly tooLarge: { readonly reply: Reply };
}

let app: LocalApp;
let sinkFile: string;
let sink: SinkLine[] = [];
const runs = new Map<string, RowRun>();
const logs: string[] = [];
/** Every dedupe key the API answered 2xx for (accepted or duplicate): each must end processed or dead-lettered. */
const acknowledged = new Set<string>();
const deadLettered: string[] = [];
const flakyAttempts = new Map<string, number>();
/** Payload object keys written by verifiers and deleted by processors (S3 calls seen by `instrument`). */
const payloadCalls = { put: new Set<string>(), deleted: new Set<string>() };
const flakyProcessed = new Set<string>();
let flakyKeys: string[] = [];
let seq = 0;

const marker = (): string => `PHI-MARKER-${(seq += 1)}`;

/** The flaky source's processor: fails every time for a body marked poison, else succeeds. */
const flaky: EventHandler = (event, { attempt }) => {
  flakyAttempts.set(event.dedupeKey, attempt);
  // The message quotes the body: the processor must log the error's name only.
  if (event.body.includes('"poison"')) throw new Error(`cannot handle ${event.body.toString('utf8')}`);
  flakyProcessed.add(event.dedupeKey);
};

type Sendable = Pick<ProviderRow, 'name' | 'source' | 'contentType'>;

/**
 * Sends like a provider: signs (signRequest), POSTs through the local API, and retries a 5xx or
 * 409 with a fresh signature, as providers do. `copies` identical deliveries run at once.
 * Returns each copy's final answer.
 */
async function post(row: Sendable, event: ProviderEvent, copies = 1): Promise<Reply[]> {
  const url = `${app.url}/webhooks/${row.name}`;
  const source = namedSource({ ...row.source, name: row.name });
  const once = async (): Promise<Reply> => {
    const signed = signRequest(source, row.source.secrets[0] as string, event.body, { now: Date.now(), url, ...(event.eventId !== undefined ? { eventId: event.eventId } : {}) });
    const headers = { 'Content-Type': row.contentType, ...(event.headers ?? {}), ...signed.headers };
    const res = await fetch(signed.url, { method: 'POST', headers, body: event.body });
    const text = await res.text();
    try {
      return { status: res.status, json: JSON.parse(text) as Reply['json'] };
    } catch {
      return { status: res.status, json: {} };
    }
  };
  const deliver = async (): Promise<Reply> => {
    for (let attempt = 1; ; attempt += 1) {
      const reply = await once();
      if ((reply.status < 500 && reply.status !== 409) || attempt === 8) return reply;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  };
  const replies = await Promise.all(Array.from({ length: copies }, deliver));
  for (const r of replies) if (r.status === 200 && r.json.id !== undefined) acknowledged.add(r.json.id);
  return replies;
}

/** Records the payload keys each side's S3 client writes and deletes. */
function watchPayloads(client: LocalClient, side: 'verifier' | 'processor'): void {
  if (!(client instanceof S3Client)) return;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const key = (args.input as { Key?: unknown }).Key;
      if (typeof key === 'string' && side === 'verifier' && context.commandName === 'PutObjectCommand') payloadCalls.put.add(key);
      const result = await next(args);
      if (typeof key === 'string' && side === 'processor' && context.commandName === 'DeleteObjectCommand') payloadCalls.deleted.add(key);
      return result;
    },
    { step: 'initialize' },
  );
}

async function runRow(row: ProviderRow): Promise<void> {
  const single = row.event((seq += 1), marker());
  const repeated = row.event((seq += 1), marker());
  const concurrent = row.event((seq += 1), marker());
  const large = row.event((seq += 1), marker(), 900 * KIB);
  const tooLarge = row.event((seq += 1), marker(), 2048 * KIB);
  const [singleReply, duplicate, concurrentReplies, largeReply, tooLargeReply] = await Promise.all([
    post(row, single),
    (async () => {
      const [first] = await post(row, repeated);
      const [second] = await post(row, repeated);
      return { first: first as Reply, second: second as Reply };
    })(),
    post(row, concurrent, 25),
    post(row, large),
    post(row, tooLarge),
  ]);
  runs.set(row.name, {
    single: { event: single, reply: singleReply[0] as Reply },
    duplicate,
    concurrent: { replies: concurrentReplies },
    large: { event: large, reply: largeReply[0] as Reply },
    tooLarge: { reply: tooLargeReply[0] as Reply },
  });
}

function readSink(): SinkLine[] {
  // Only whole lines: a large line may be half-written while the processor appends it.
  const lines = readFileSync(sinkFile, 'utf8').split('\n').slice(0, -1);
  return lines.map((l) => JSON.parse(l) as SinkLine);
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the pipeline');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Receives (and hides) everything in a queue; returns the dedupe keys. */
async function drain(queueUrl: string): Promise<string[]> {
  const sqs = new SQSClient(localClients(app.stack.endpoints).sqs);
  const keys: string[] = [];
  try {
    for (;;) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }));
      const messages = got.Messages ?? [];
      if (messages.length === 0) return keys;
      keys.push(...messages.map((m) => m.MessageAttributes?.dedupeKey?.StringValue ?? ''));
    }
  } finally {
    sqs.destroy();
  }
}

beforeAll(async () => {
  // The logs of the whole run: every verifier and processor logger writes through these.
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
    config: parseConfig({ sources }, 'test'),
    port: 0,
    sink: sinkFile,
    routes: { [FLAKY]: { '*': flaky } },
    visibilityTimeoutSeconds: 1,
    waitTimeSeconds: 1,
    instrument: watchPayloads,
  });

  const flakyRow: Sendable = { name: FLAKY, source: { provider: 'token', secrets: [FLAKY_SECRET], header: 'x-webhook-token' }, contentType: 'application/json' };
  const flakyBodies = ['ok-1', 'poison', 'ok-2'].map((kind) => ({ body: jsonBody({ id: `${kind}-${(seq += 1)}`, kind, marker: marker() }) }));
  const [, flakyReplies] = await Promise.all([
    Promise.all(PROVIDER_ROWS.map(runRow)),
    Promise.all(flakyBodies.map((event) => post(flakyRow, event))),
  ]);
  flakyKeys = flakyReplies.flat().map((r) => r.json.id ?? '');

  // Everything accepted is processed, and the poison message reaches the DLQ...
  const poison = flakyKeys[1];
  await until(() => {
    const done = new Set([...readSink().map((l) => l.dedupeKey), ...flakyProcessed]);
    return [...acknowledged].every((k) => k === poison || done.has(k));
  }, 30_000);
  await until(async () => {
    deadLettered.push(...(await drain(app.stack.resources.queues[FLAKY]!.dlqUrl)));
    return deadLettered.length > 0;
  }, 15_000);
  // ...then one more visibility timeout, so a second processing of anything would show.
  await new Promise((r) => setTimeout(r, 1500));
  sink = readSink();
}, 80_000);

afterAll(async () => {
  await app?.stop();
  jest.restoreAllMocks();
});

const linesFor = (key: string | undefined): SinkLine[] => sink.filter((l) => l.dedupeKey === key);

describe.each(PROVIDER_ROWS.map((row) => [row.name, row] as const))('end to end, provider %s', (name, row) => {
  const run = (): RowRun => runs.get(name) as RowRun;

  it('accepts a signed event and processes it once with the exact bytes received', () => {
    const { event, reply } = run().single;
    const lines = linesFor(reply.json.id);

    expect(reply.status).toBe(200);
    // 'duplicate' only when a first delivery was enqueued but answered late (then retried).
    expect(['accepted', 'duplicate']).toContain(reply.json.status);
    expect(lines).toHaveLength(1);
    expect(Buffer.from(lines[0]?.body ?? '', 'utf8').equals(event.body)).toBe(true);
    expect(lines[0]).toMatchObject({ source: name, dedupeKey: reply.json.id });
    if (event.eventId !== undefined) expect(lines[0]?.eventId).toBe(event.eventId);
  });

  it('hands the sink the content type and ids, never a signature, token or timestamp header', () => {
    const [line] = linesFor(run().single.reply.json.id);
    const names = Object.keys(line?.headers ?? {});

    expect(line?.headers['content-type']).toBe(row.contentType);
    expect(names.filter((h) => /signature|hmac|timestamp|authorization/i.test(h))).toEqual([]);
    if (row.source.provider === 'token' && row.source.header !== undefined) expect(names).not.toContain(row.source.header.toLowerCase());
    expect(JSON.stringify(line?.headers)).not.toContain(row.source.secrets[0]);
  });

  it('answers a repeated event as a duplicate and processes it once', () => {
    const { first, second } = run().duplicate;

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.json).toEqual({ id: first.json.id, status: 'duplicate' });
    expect(linesFor(first.json.id)).toHaveLength(1);
  });

  it('enqueues and processes 25 concurrent copies of one event once', () => {
    const { replies } = run().concurrent;
    const ids = new Set(replies.map((r) => r.json.id));

    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(replies.filter((r) => r.json.status === 'accepted').length).toBeLessThanOrEqual(1);
    expect(ids.size).toBe(1);
    expect(linesFor([...ids][0])).toHaveLength(1);
  });

  it('processes a 900 KiB body byte for byte through an S3 pointer, then deletes the payload object', async () => {
    const { event, reply } = run().large;
    expect(reply.status).toBe(200);
    const key = payloadKey(name, reply.json.id ?? '');
    const s3 = new S3Client(localClients(app.stack.endpoints).s3);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: app.stack.resources.bucket, Prefix: key }));
    s3.destroy();
    const lines = linesFor(reply.json.id);

    expect(event.body.length).toBe(900 * KIB);
    expect(payloadCalls.put.has(key)).toBe(true);
    expect(lines).toHaveLength(1);
    expect(Buffer.from(lines[0]?.body ?? '', 'utf8').equals(event.body)).toBe(true);
    expect(payloadCalls.deleted.has(key)).toBe(true);
    expect(left.KeyCount ?? 0).toBe(0);
  });

  it('refuses a 2 MiB body with 413 and enqueues nothing', () => {
    const { reply } = run().tooLarge;

    expect(reply.status).toBe(413);
    expect(reply.json.id).toBeUndefined();
  });
});

describe('end to end, processor failures', () => {
  it('retries only the record whose processor throws, then moves it to the DLQ, and processes the rest once', () => {
    const [ok1, poison, ok2] = flakyKeys;

    expect(flakyKeys.every((k) => acknowledged.has(k))).toBe(true);
    expect(deadLettered).toEqual([poison]);
    expect(flakyAttempts.get(poison ?? '')).toBe(2);
    expect(flakyAttempts.get(ok1 ?? '')).toBe(1);
    expect(flakyAttempts.get(ok2 ?? '')).toBe(1);
    expect([...flakyProcessed].sort()).toEqual([ok1, ok2].sort());
  });
});

describe('end to end, the whole run', () => {
  it('loses nothing: acknowledged events = processed once + dead-lettered, and no queue holds anything else', async () => {
    const processed = new Set([...sink.map((l) => l.dedupeKey), ...flakyProcessed]);
    const left: string[] = [];
    const dead = [...deadLettered];
    for (const { queueUrl, dlqUrl } of Object.values(app.stack.resources.queues)) {
      left.push(...(await drain(queueUrl)));
      dead.push(...(await drain(dlqUrl)));
    }

    expect(left).toEqual([]);
    expect(acknowledged.size).toBeGreaterThan(PROVIDER_ROWS.length);
    expect(new Set(sink.map((l) => l.dedupeKey)).size).toBe(sink.length);
    expect(acknowledged.size).toBe(processed.size + dead.length);
    expect(new Set([...processed, ...dead])).toEqual(acknowledged);
  });

  it('archives every acknowledged event, the poison one too, before its source\'s handlers ran', async () => {
    const s3 = new S3Client(localClients(app.stack.endpoints).s3);
    try {
      const archived: string[] = [];
      for (const source of Object.keys(app.stack.resources.queues)) {
        const range = { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) };
        const events = await listArchived({ s3, bucket: app.stack.resources.archiveBucket, source, ...range });
        expect(events.every((e) => e.source === source)).toBe(true);
        archived.push(...events.map((e) => e.dedupeKey));
      }
      expect(archived.sort()).toEqual([...acknowledged].sort());
    } finally {
      s3.destroy();
    }
  });

  it('logs metadata only: no body content and no secret in anything written during the run', () => {
    const text = logs.join('');
    const secrets = [...PROVIDER_ROWS.flatMap((r) => r.source.secrets), FLAKY_SECRET];

    expect(text).toContain('webhook accepted');
    expect(text).toContain('webhook processed');
    expect(text).toContain('processor handler failed');
    expect(text).not.toMatch(/PHI-MARKER/);
    expect(text).not.toMatch(/Zoë|naïve/);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
