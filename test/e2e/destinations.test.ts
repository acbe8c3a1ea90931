import { statSync, existsSync, mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type ArchivedEvent, listArchived, readArchived } from '../../lambda/archive/reader';
import type { DestinationConfigInput, NamedDestination } from '../../lambda/config/destinations';
import { namedSource } from '../../lambda/config/schema';
import { readCircuit } from '../../lambda/delivery/circuit';
import type { Target } from '../../lambda/delivery/contract';
import { DELIVERY_DLQ_REASON } from '../../lambda/delivery/engine';
import { attemptsOf } from '../../lambda/delivery/history';
import { DEAD_LETTER_REASON } from '../../lambda/ingest/dead-letter';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { openMessage } from '../../lambda/ingest/message';
import { signRequest } from '../../lambda/signatures/sign';
import { parseConfig } from '../../lib/config-file';
import { type LocalApp, type LocalClient, startLocal } from '../../local/app';
import { localClients } from '../../local/emulators';
import { localKeyring } from '../../local/kms';
import { type Receiver, startReceiver } from '../../local/receive';
import { localKmsOf, readLocalState } from '../../local/state';
import { runCli } from '../../cli/main';
import { localTarget } from '../../cli/targets/local';
import { toSqsRecord } from '../../local/poller';
import { memoryMetrics, seeded } from '../delivery/harness';
import { handled } from './fixtures/team-handlers';
import { jsonBody } from './providers';

/**
 * Destinations end to end in local mode: signed request -> local API -> verifier -> source queue
 * -> fan-out -> destination queues -> delivery engine (http target, real SSRF guard and signing)
 * -> a fault gate -> the real `npm run receive` receiver, which verifies every request with
 * `standardwebhooks`; and a `lambda` destination whose `entry` module runs in-process.
 *
 * One app, one set of emulators: every scenario is its own source, sent at once in beforeAll,
 * then each test waits (with a deadline) for its outcome. Jitter is 0 (backoff waits are 0 s
 * unless a Retry-After asks more); the retry window is crossed with a per-destination clock.
 */

const SECRET = 'whsec_e2e_dest_source_3f9a';
const SIGNING = 'whsec_ZTJlLWRlc3RpbmF0aW9ucy1zaWduaW5nLXNlY3JldA==';
const HOUR_MS = 3_600_000;
const WAIT_MS = 25_000;

type Script = 'ok' | 'flaky' | 'throttled' | 'reject' | 'gone' | 'down' | 'broken' | 'chaos';

let app: LocalApp;
let receiver: Receiver;
let gate: Server;
let stateDir: string;
let statePath: string;
const logs: { level: string; message: string; fields: Record<string, unknown> }[] = [];
const metrics = new Map<string, ReturnType<typeof memoryMetrics>>();
/** Requests the gate saw, per destination path and webhook-id. */
const gateSeen = new Map<string, number>();
/** Whether the flappy destination is broken (503) right now. */
let flappyBroken = true;
/** The clock skew of the `down` destination, ms: moved past its retry window by the test. */
let downSkew = 0;
const chance = seeded(7);
const sent = new Map<string, { key: string; body: Buffer; type: string }[]>();
let seq = 0;
/** The DLQ copy of the event the receiver refused with 400 (opened again in the state file test). */
let rejectedCopy: Message | undefined;

/** Crash classes used by the fault injection, so their logs are recognisable. */
class Crash extends Error {
  constructor(where: string) {
    super(`injected crash: ${where}`);
    this.name = 'Crash';
  }
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Passes a request on to the receiver (which verifies it) and answers what it answered. */
async function forward(path: string, headers: IncomingMessage['headers'], body: Buffer): Promise<number> {
  const pass: Record<string, string> = { 'x-test-destination': path };
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string' && name !== 'host' && name !== 'content-length') pass[name] = value;
  const res = await fetch(`${receiver.url}${path}`, { method: 'POST', headers: pass, body });
  return res.status;
}

/**
 * The fault gate in front of the receiver: what each destination path answers, by the event's
 * script (in its body) and how many times this destination has seen it.
 */
async function gateAnswer(path: string, script: Script, seen: number): Promise<{ status: number; headers?: Record<string, string> } | 'forward'> {
  if (path === '/gone') return { status: 410 };
  if (path === '/broken') return { status: 500 };
  if (path === '/flappy') return flappyBroken ? { status: 503 } : 'forward';
  if (script === 'flaky' && seen <= 2) return { status: 500 };
  if (script === 'throttled' && seen === 1) return { status: 429, headers: { 'retry-after': '2' } };
  if (script === 'reject') return { status: 400 };
  if (script === 'chaos' && seen === 1 && chance() < 0.4) return { status: 503 };
  return 'forward';
}

async function startGate(): Promise<Server> {
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const path = request.url ?? '/';
      const id = String(request.headers['webhook-id']);
      const seen = (gateSeen.get(`${path} ${id}`) ?? 0) + 1;
      gateSeen.set(`${path} ${id}`, seen);
      const script = ((/"script" : {2}"([a-z]+)"/.exec(body.toString('utf8')) ?? [])[1] ?? 'ok') as Script;
      const decision = await gateAnswer(path, script, seen);
      const status = decision === 'forward' ? await forward(path, request.headers, body) : decision.status;
      response.writeHead(status, decision === 'forward' ? {} : (decision.headers ?? {})).end();
    })().catch(() => response.destroy());
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return server;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

const FAST = { backoffBaseSeconds: 1, maxBackoffSeconds: 2, retryWindowHours: 1, timeoutSeconds: 2, batchSize: 5 } as const;

function http(url: string, fields: Partial<DestinationConfigInput> = {}): DestinationConfigInput {
  return { type: 'http', url, secrets: [SIGNING], ...FAST, ...fields } as DestinationConfigInput;
}

/** Sends one stripe-signed event to a source; returns its dedupe key once the API accepted it. */
async function send(source: string, script: Script, type = 'payment_intent.succeeded'): Promise<string> {
  const id = `evt_${source}_${(seq += 1)}_${Date.now()}`;
  const body = jsonBody({ id, object: 'event', type, script, patient: `PHI-MARKER-${seq}` });
  const url = `${app.url}/webhooks/${source}`;
  const named = namedSource({ name: source, provider: 'stripe', secrets: [SECRET] });
  for (let attempt = 1; ; attempt += 1) {
    const signed = signRequest(named, SECRET, body, { now: Date.now(), url });
    const res = await fetch(signed.url, { method: 'POST', headers: { 'content-type': 'application/json', ...signed.headers }, body });
    const json = (await res.json()) as { id?: string };
    if (res.status === 200 && json.id !== undefined) {
      const list = sent.get(source) ?? [];
      list.push({ key: json.id, body, type });
      sent.set(source, list);
      return json.id;
    }
    if (attempt === 8) throw new Error(`source ${source} answered ${res.status}`);
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The receiver's verified requests through one destination path. */
const deliveredVia = (path: string) => receiver.events.filter((e) => e.headers['x-test-destination'] === path);
const deliveredKeys = (path: string): Set<string> => new Set(deliveredVia(path).filter((e) => e.verified).map((e) => bodyKey(e.body)));
/** The dedupe key of a sent body (the test's own record). */
const bodyKey = (body: Buffer): string => [...sent.values()].flat().find((s) => s.body.equals(body))?.key ?? '(unknown body)';

/** Receives (and hides for a minute) everything in a DLQ. */
async function drainDlq(source: string, destination: string): Promise<Message[]> {
  const sqs = new SQSClient(localClients(app.stack.endpoints).sqs);
  const url = app.stack.resources.destinations[source]?.[destination]?.dlqUrl ?? '';
  const out: Message[] = [];
  try {
    for (;;) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: ['All'], AttributeNames: ['All'] }));
      if ((got.Messages ?? []).length === 0) return out;
      out.push(...(got.Messages ?? []));
    }
  } finally {
    sqs.destroy();
  }
}
const dlqKey = (m: Message): string => m.MessageAttributes?.dedupeKey?.StringValue ?? '';
const dlqReason = (m: Message): string => m.MessageAttributes?.[DEAD_LETTER_REASON]?.StringValue ?? '';

const counts = (source: string, destination: string) => metrics.get(`${source}/${destination}`)?.counts ?? {};
const linesOf = (source: string, message: string) => logs.filter((l) => l.fields.source === source && l.message === message);

/** Injected crashes by where they happened (`before X`, `after X`, `after delivery`). */
const crashes = new Map<string, number>();
function crash(where: string): Crash {
  crashes.set(where, (crashes.get(where) ?? 0) + 1);
  return new Crash(where);
}

/**
 * Fails the chaos source's fan-out and delivery calls: the first call of each kind after it
 * reached the emulator (the answer lost), the second before, then one in ten either way.
 */
function injectCrashes(client: LocalClient, side: 'verifier' | 'processor'): void {
  if (side !== 'processor') return;
  const crashing = new Set(['SendMessageBatchCommand', 'DeleteMessageBatchCommand', 'ChangeMessageVisibilityCommand', 'SendMessageCommand', 'PutItemCommand', 'UpdateItemCommand', 'GetItemCommand']);
  const calls = new Map<string, number>();
  (client as SQSClient).middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      if (!JSON.stringify(args.input).includes('chaos') || !crashing.has(command)) return next(args);
      const call = (calls.get(command) ?? 0) + 1;
      calls.set(command, call);
      if (call === 2 || (call > 2 && chance() < 0.1)) throw crash(`before ${command}`);
      const result = await next(args);
      if (call === 1 || chance() < 0.1) throw crash(`after ${command}`);
      return result;
    },
    { step: 'initialize' },
  );
}

/** The chaos destinations' target: now and then the receiver got the event but the answer never came back. */
function crashAfterDelivery(target: Target): Target {
  return {
    async deliver(event, context) {
      const result = await target.deliver(event, context);
      if (result.verdict === 'delivered' && chance() < 0.15) throw crash('after delivery');
      return result;
    },
  };
}

function hooks(destination: NamedDestination) {
  const memory = memoryMetrics();
  metrics.set(`${destination.source}/${destination.name}`, memory);
  return {
    random: () => 0,
    metrics: memory,
    ...(destination.name === 'down' ? { now: () => Date.now() + downSkew } : {}),
    ...(destination.source === 'chaos' ? { wrapTarget: crashAfterDelivery } : {}),
  };
}

beforeAll(async () => {
  // The verifiers' EMF metrics go to stdout: kept out of the test output.
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  gate = await startGate();
  receiver = await startReceiver({ secrets: [SIGNING], print: () => undefined, keepEvents: 10_000 });
  const gateUrl = `http://127.0.0.1:${(gate.address() as AddressInfo).port}`;
  const nowhere = `http://127.0.0.1:${await closedPort()}/nowhere`;
  const source = (destinations: Record<string, DestinationConfigInput>) => ({ provider: 'stripe', secrets: [SECRET], destinations });
  const sources = {
    loop: source({
      main: http(`${gateUrl}/main`),
      team: { type: 'lambda', entry: 'test/e2e/fixtures/team-handlers.ts', events: ['payment_intent.*'] },
    }),
    gone: source({ gone: http(`${gateUrl}/gone`) }),
    down: source({ down: http(nowhere, { circuitBreaker: { failureThreshold: 3, openSeconds: 1 } }) }),
    flappy: source({ flappy: http(`${gateUrl}/flappy`, { circuitBreaker: { failureThreshold: 2, openSeconds: 1 } }) }),
    duo: source({ good: http(`${gateUrl}/good`), bad: http(`${gateUrl}/broken`, { circuitBreaker: { failureThreshold: 2, openSeconds: 1 } }) }),
    chaos: source({
      all: http(`${gateUrl}/all`, { circuitBreaker: { failureThreshold: 50, openSeconds: 1 } }),
      orders: http(`${gateUrl}/orders`, { events: ['order.*'], circuitBreaker: { failureThreshold: 50, openSeconds: 1 } }),
    }),
  };
  stateDir = mkdtempSync(join(tmpdir(), 'hookgate-state-'));
  app = await startLocal({
    config: parseConfig({ sources }, 'test'),
    port: 0,
    visibilityTimeoutSeconds: 1,
    waitTimeSeconds: 1,
    projectRoot: join(__dirname, '..', '..'),
    stateDir,
    deliveryHooks: hooks,
    instrument: injectCrashes,
    // Each source's logger: its lines carry the source, as the Powertools logger's keys do.
    logger: (name: string) => {
      const log = (level: string) => (message: string, fields?: Record<string, unknown>) => void logs.push({ level, message, fields: { ...fields, source: name } });
      return { info: log('info'), warn: log('warn'), error: log('error') } as never;
    },
  });
  statePath = app.statePath ?? '';

  await Promise.all([
    ...(['ok', 'flaky', 'throttled', 'reject'] as const).map((script) => send('loop', script)),
    send('loop', 'ok', 'customer.created'),
    send('gone', 'gone'),
    send('down', 'down'),
    ...Array.from({ length: 4 }, () => send('flappy', 'ok')),
    ...Array.from({ length: 10 }, () => send('duo', 'ok')),
    ...Array.from({ length: 30 }, (_, i) => send('chaos', i % 7 === 0 ? 'reject' : 'chaos', i % 2 === 0 ? 'order.created' : 'payment.done')),
  ]);
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await receiver?.close();
  await new Promise((r) => gate?.close(r));
});

const keysOf = (source: string): string[] => (sent.get(source) ?? []).map((s) => s.key);
const sentOf = (source: string, script: Script) => (sent.get(source) ?? []).filter((s) => s.body.includes(`"script" :  "${script}"`));

describe('destinations in local mode', () => {
  it('delivers each event byte for byte, signed, to a receiver that verifies it with standardwebhooks', async () => {
    const ok = sentOf('loop', 'ok');
    await until(() => ok.every((s) => deliveredKeys('/main').has(s.key)), 'the ok events');
    for (const s of ok) {
      const got = deliveredVia('/main').find((e) => e.body.equals(s.body));
      expect(got?.verified).toBe(true);
      expect(got?.source).toBe('loop');
      expect(got?.eventType).toBe(s.type);
      expect(got?.headers['webhook-id']).toMatch(/^msg_/);
      expect(got?.headers['stripe-signature']).toBeUndefined();
    }
  });

  it('runs a lambda destination\'s entry module in-process, for the events its filter matches', async () => {
    const matching = (sent.get('loop') ?? []).filter((s) => s.type.startsWith('payment_intent.'));
    await until(() => matching.every((s) => handled.some((e) => e.dedupeKey === s.key)), 'the team handlers');
    const other = (sent.get('loop') ?? []).find((s) => s.type === 'customer.created');
    expect(handled.some((e) => e.dedupeKey === other?.key)).toBe(false);
    expect(handled.find((e) => e.dedupeKey === matching[0]?.key)?.body.equals(matching[0]?.body as Buffer)).toBe(true);
  });

  it('retries 500s (the delay comes from SQS visibility) until the receiver takes the event', async () => {
    const [flaky] = sentOf('loop', 'flaky');
    await until(() => deliveredKeys('/main').has(flaky?.key ?? ''), 'the flaky event');
    const table = { client: new DynamoDBClient(localClients(app.stack.endpoints).dynamodb), tableName: app.stack.resources.deliveryTableName ?? '' };
    let attempts: Awaited<ReturnType<typeof attemptsOf>> = [];
    try {
      // The attempt is recorded as the receiver answers: wait for its record.
      await until(async () => (attempts = await attemptsOf(table, flaky?.key ?? '', 'main')).some((a) => a.verdict === 'delivered'), 'the history');
    } finally {
      table.client.destroy();
    }
    expect(attempts.map((a) => [a.attempt, a.verdict, a.statusCode])).toEqual([
      [1, 'retry', 500],
      [2, 'retry', 500],
      [3, 'delivered', 204],
    ]);
    expect(attempts.every((a) => a.source === 'loop' && a.destination === 'main')).toBe(true);
  });

  it('honours Retry-After on a 429', async () => {
    const [throttled] = sentOf('loop', 'throttled');
    await until(() => deliveredKeys('/main').has(throttled?.key ?? ''), 'the throttled event');
    const failed = linesOf('loop', 'delivery attempt failed; it will be retried').filter((l) => l.fields.dedupeKey === throttled?.key);
    // Jitter is 0 here: without Retry-After the wait would be 0 s.
    expect(failed.map((l) => [l.fields.statusCode, l.fields.delaySeconds])).toEqual([[429, 2]]);
  });

  it('moves a 400 to the destination\'s DLQ at once, with its reason and metric', async () => {
    const [rejected] = sentOf('loop', 'reject');
    let dlq: Message[] = [];
    await until(async () => (dlq = [...dlq, ...(await drainDlq('loop', 'main'))]).some((m) => dlqKey(m) === rejected?.key), 'the rejected event in the DLQ');
    expect(dlq.filter((m) => dlqKey(m) === rejected?.key).map(dlqReason)).toEqual([DELIVERY_DLQ_REASON.rejected(400)]);
    rejectedCopy = dlq.find((m) => dlqKey(m) === rejected?.key);
    expect(counts('loop', 'main').DeliveryRejected).toBe(1);
  });

  it('pauses a destination that answers 410, holding its events', async () => {
    const table = { client: new DynamoDBClient(localClients(app.stack.endpoints).dynamodb), tableName: app.stack.resources.deliveryTableName ?? '' };
    try {
      await until(async () => (await readCircuit(table, { source: 'gone', destination: 'gone' })).state === 'paused', 'the pause');
      expect(await readCircuit(table, { source: 'gone', destination: 'gone' })).toMatchObject({ state: 'paused', reason: 'gone' });
    } finally {
      table.client.destroy();
    }
    expect(counts('gone', 'gone').DestinationGone).toBe(1);
    expect(await drainDlq('gone', 'gone')).toEqual([]);
  });

  it('moves an event to the DLQ when its destination is down for the whole retry window, with RetriesExhausted', async () => {
    const [down] = keysOf('down');
    await until(() => (counts('down', 'down').DeliveryFailures ?? 0) >= 2, 'failed attempts to the down destination');
    downSkew = 2 * HOUR_MS;
    let dlq: Message[] = [];
    await until(async () => (dlq = [...dlq, ...(await drainDlq('down', 'down'))]).length > 0, 'the exhausted event in the DLQ');
    expect(dlq.map((m) => [dlqKey(m), dlqReason(m)])).toEqual([[down, DELIVERY_DLQ_REASON.retriesExhausted]]);
    expect(counts('down', 'down').RetriesExhausted).toBe(1);
    expect(linesOf('down', 'message moved to the DLQ').map((l) => l.fields.reason)).toEqual([DELIVERY_DLQ_REASON.retriesExhausted]);
    // A down receiver costs one warn line per failed attempt, naming the error class only.
    const failed = linesOf('down', 'delivery attempt failed; it will be retried');
    expect(failed.length).toBe(counts('down', 'down').DeliveryFailures);
    expect(failed.every((l) => l.level === 'warn' && typeof l.fields.errorClass === 'string' && !('stack' in l.fields))).toBe(true);
  });

  it('opens the breaker, holds the events while it is open, and closes it on a successful probe', async () => {
    await until(() => (counts('flappy', 'flappy').CircuitOpened ?? 0) >= 1, 'the breaker to open');
    flappyBroken = false;
    await until(() => keysOf('flappy').every((k) => deliveredKeys('/flappy').has(k)), 'every flappy event');
    expect(counts('flappy', 'flappy').CircuitClosed).toBe(1);
    const attempts = logs.filter((l) => l.fields.source === 'flappy' && (l.message === 'delivered' || l.message === 'delivery attempt failed; it will be retried'));
    // While open, nothing but probes reaches the destination: the failed non-probe attempts are the threshold.
    expect(attempts.filter((l) => l.fields.verdict === 'retry' && l.fields.probe !== true)).toHaveLength(2);
    const closed = logs.findIndex((l) => l.fields.source === 'flappy' && l.message === 'circuit breaker closed after a successful probe');
    const opened = logs.find((o) => o.fields.source === 'flappy' && o.message === 'circuit breaker opened');
    // The attempt after the one that opened it (whose own failure line follows the breaker's) is a
    // probe; under load that probe may be the opener's own message coming back for its retry.
    const openedAt = logs.indexOf(opened as (typeof logs)[number]);
    const later = attempts.filter((l) => logs.indexOf(l) > openedAt);
    const openersLine = later.find((l) => l.fields.messageId === opened?.fields.messageId && l.fields.verdict === 'retry' && l.fields.probe !== true);
    const afterOpen = later.filter((l) => l !== openersLine);
    expect(afterOpen[0]?.fields.probe).toBe(true);
    expect(closed).toBeGreaterThan(-1);
  });

  it('keeps delivering to a healthy destination while its sibling is broken', async () => {
    await until(() => keysOf('duo').every((k) => deliveredKeys('/good').has(k)), 'every event at the good destination');
    expect(deliveredVia('/broken')).toEqual([]);
    expect(counts('duo', 'bad').CircuitOpened ?? 0).toBeGreaterThanOrEqual(1);
  });

  it('brings every event to every matching destination or its DLQ, never neither, under concurrency and crashes', async () => {
    const events = sent.get('chaos') ?? [];
    const dlq = { all: [] as Message[], orders: [] as Message[] };
    const settled = (dest: 'all' | 'orders'): boolean => {
      const done = new Set([...deliveredKeys(`/${dest}`), ...dlq[dest].map(dlqKey)]);
      return events.filter((e) => dest === 'all' || e.type.startsWith('order.')).every((e) => done.has(e.key));
    };
    await until(async () => {
      dlq.all.push(...(await drainDlq('chaos', 'all')));
      dlq.orders.push(...(await drainDlq('chaos', 'orders')));
      return settled('all') && settled('orders');
    }, 'every chaos event settled', 40_000);
    // The rejected events are in the DLQs of the destinations they match, the rest were delivered.
    for (const e of events) {
      const rejected = e.body.includes('"script" :  "reject"');
      for (const dest of ['all', 'orders'] as const) {
        const matches = dest === 'all' || e.type.startsWith('order.');
        expect([dest, e.key, deliveredKeys(`/${dest}`).has(e.key)]).toEqual([dest, e.key, matches && !rejected]);
        if (matches && rejected) expect(dlq[dest].map(dlqKey)).toContain(e.key);
      }
    }
    // Crashes hit the fan-out's sends, the deliveries' queue and table calls, and deliveries whose answer was lost.
    for (const where of ['after SendMessageBatchCommand', 'before SendMessageBatchCommand', 'after ChangeMessageVisibilityCommand', 'after DeleteMessageBatchCommand', 'after UpdateItemCommand', 'after delivery']) {
      expect([where, (crashes.get(where) ?? 0) > 0]).toEqual([where, true]);
    }
  }, 60_000);

  it('archives every accepted event once, by its source\'s fan-out, the ciphertext opening to the exact body', async () => {
    const s3 = new S3Client(localClients(app.stack.endpoints).s3);
    const store = { s3, bucket: app.stack.resources.archiveBucket };
    const envelope = createEnvelope(localKeyring(localKmsOf(readLocalState(statePath))));
    try {
      const range = { since: new Date(Date.now() - HOUR_MS), until: new Date(Date.now() + 60_000) };
      for (const source of ['loop', 'duo']) {
        await until(async () => (await listArchived({ ...store, source, ...range })).length === keysOf(source).length, `the ${source} archive`);
        const listed = await listArchived({ ...store, source, ...range });
        expect(listed.map((e) => e.dedupeKey).sort()).toEqual([...keysOf(source)].sort());
        const first = (sent.get(source) ?? [])[0];
        const event = listed.find((e) => e.dedupeKey === first?.key);
        expect(event).toMatchObject({ source, eventType: first?.type });
        const opened = await envelope.open(await readArchived(store, event as ArchivedEvent), { source, dedupeKey: first?.key ?? '' });
        expect(opened.body.equals(first?.body as Buffer)).toBe(true);
      }
    } finally {
      s3.destroy();
    }
  });

  it('writes the state file (0600) with what another process needs, including the key to open envelopes', async () => {
    expect(statSync(statePath).mode & 0o777).toBe(0o600);
    const state = readLocalState(statePath);
    expect(state).toMatchObject({
      version: 1,
      pid: process.pid,
      port: app.port,
      url: app.url,
      endpoints: app.stack.endpoints,
      region: 'us-east-1',
      resources: { dedupeTable: app.stack.resources.tableName, deliveryTable: app.stack.resources.deliveryTableName, bucket: app.stack.resources.bucket, archiveBucket: app.stack.resources.archiveBucket },
      auditFile: join(stateDir, `audit-${app.port}.jsonl`),
    });
    expect(state.resources.sources.duo?.destinations).toEqual({
      good: { type: 'http', ...app.stack.resources.destinations.duo?.good },
      bad: { type: 'http', ...app.stack.resources.destinations.duo?.bad },
    });
    expect(state.resources.sources.loop?.destinations.team?.type).toBe('lambda');
    expect(statSync(state.keyFile ?? '').mode & 0o777).toBe(0o600);
    // Another process opens what this run sealed (the 400's DLQ copy) with the key file's key.
    const source = sentOf('loop', 'reject')[0];
    expect(rejectedCopy).toBeDefined();
    const envelope = createEnvelope(localKeyring(localKmsOf(state)));
    const record = toSqsRecord(rejectedCopy as Message, 'arn:aws:sqs:us-east-1:000000000000:hookgate-loop_main-dlq', 'us-east-1');
    const opened = await openMessage(record, { envelope, s3: () => Promise.reject(new Error('no payload bucket needed')), bucket: state.resources.bucket, source: 'loop' });
    expect(opened.body.equals(source?.body as Buffer)).toBe(true);
  });

  it('is what the hookgate command reads: status shows this run\'s destinations, and pause then resume drive the breaker after an audit record each', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hookgate-cli-e2e-'));
    let out = '';
    const run = (args: readonly string[]): Promise<number> =>
      runCli(args, {
        cwd,
        io: { out: (t) => void (out += t), err: (t) => void (out += t) },
        resolveTarget: async () => localTarget({ ...readLocalState(statePath), cwd }),
      });
    expect(await run(['status', '--local', '--json'])).toBe(0);
    const status = JSON.parse(out) as { sources: { source: string; destinations: { name: string; circuit: unknown }[] }[] };
    expect(status.sources.find((s) => s.source === 'duo')?.destinations.map((d) => d.name).sort()).toEqual(['bad', 'good']);
    out = '';
    const table = { client: new DynamoDBClient(localClients(app.stack.endpoints).dynamodb), tableName: app.stack.resources.deliveryTableName ?? '' };
    expect(await run(['destinations', 'pause', 'duo/good', '--local', '--reason', 'receiver maintenance'])).toBe(0);
    expect((await readCircuit(table, { source: 'duo', destination: 'good' })).state).toBe('paused');
    expect(await run(['destinations', 'resume', 'duo/good', '--local', '--reason', 'maintenance over'])).toBe(0);
    expect((await readCircuit(table, { source: 'duo', destination: 'good' })).state).toBe('closed');
    table.client.destroy();
    out = '';
    expect(await run(['audit', 'list', '--local', '--json'])).toBe(0);
    expect((JSON.parse(out) as { records: { action: string; reason: string }[] }).records.map((r) => [r.action, r.reason])).toEqual([
      ['pause', 'receiver maintenance'],
      ['resume', 'maintenance over'],
    ]);
  });

  it('is what events list and events show read: statuses from the history, and the exact body after an audit record', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hookgate-events-e2e-'));
    const chunks: Buffer[] = [];
    const run = (args: readonly string[]): Promise<number> =>
      runCli([...args, '--local'], {
        cwd,
        io: { out: (t) => void chunks.push(Buffer.from(t)), err: (t) => void chunks.push(Buffer.from(t)), bytes: (b) => void chunks.push(Buffer.from(b)) },
        resolveTarget: async () => localTarget({ ...readLocalState(statePath), cwd }),
      });
    const output = (): Buffer => Buffer.concat(chunks.splice(0));
    const [flaky] = sentOf('loop', 'flaky');
    const [rejected] = sentOf('loop', 'reject');
    expect(await run(['events', 'list', '--source', 'loop', '--since', '1h', '--destination', 'main', '--json'])).toBe(0);
    const listed = JSON.parse(output().toString('utf8')) as { events: { key: string; destinations: { main: string } }[] };
    expect(listed.events.map((e) => e.key).sort()).toEqual([...keysOf('loop')].sort());
    expect(listed.events.find((e) => e.key === flaky?.key)?.destinations.main).toBe('delivered');
    expect(listed.events.find((e) => e.key === rejected?.key)?.destinations.main).toBe('failed');
    expect(await run(['events', 'show', flaky?.key ?? '', '--since', '1h', '--body', '--reason', 'e2e: check the archived body'])).toBe(0);
    expect(output().equals(flaky?.body as Buffer)).toBe(true);
    expect(await run(['audit', 'list', '--json'])).toBe(0);
    const audit = JSON.parse(output().toString('utf8')) as { records: { action: string; keys: string[] }[] };
    expect(audit.records.at(-1)).toMatchObject({ action: 'show-body', keys: [flaky?.key] });
  });
});

describe('stopping', () => {
  it('removes the state and key files', async () => {
    const state = readLocalState(statePath);
    await app.stop();
    expect(existsSync(statePath)).toBe(false);
    expect(existsSync(state.keyFile ?? '')).toBe(false);
    app = { stop: async () => undefined } as unknown as LocalApp;
  });
});
