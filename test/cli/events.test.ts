import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSRecord } from 'aws-lambda';
import { tmpdir } from 'node:os';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { type AuditRecord } from '../../cli/audit';
import { runCli } from '../../cli/main';
import { deliveryStatusOf } from '../../cli/listing';
import { type LocalState } from '../../cli/targets/local';
import { createHistoryStore } from '../../lambda/delivery/history';
import { createEnvelope, type Envelope } from '../../lambda/ingest/envelope';
import { localClients } from '../../local/emulators';
import { localKeyring } from '../../local/kms';
import { createSharedLocalKms, localKeyPath, writeLocalKeyFile } from '../../local/state';
import { createQueues, type Emulators, queued, receive, startEmulators, TABLE } from '../delivery/rig';
import { replayIdOf } from '../../lambda/ingest/message';
import { openMessage } from '../../lambda/ingest/message';
import { run, writeState, emulatorState } from './harness';
import { putArchived } from '../archive/rig';

// `hookgate events list` and `events show` against the emulators: archive objects written in the
// archive format, attempts in the delivery history, bodies sealed with a local key shared
// through a key file as `npm start` shares it.

const PORT = 3997;
const BROKEN_AUDIT_PORT = 3996;
const NO_KEY_PORT = 3995;
const NOW = new Date('2026-12-01T12:00:00.000Z');
const L = ['--local', '--port', String(PORT)];
const ARCHIVE = 'hookgate-archive';

let emulators: Emulators;
let s3: S3Client;
let cwd: string;
let state: LocalState;
let envelope: Envelope;
type Queues = Awaited<ReturnType<typeof createQueues>>;
let shop: Queues;
let orders: Queues;
let all: Queues;
let plain: Queues;
const deps = (): { cwd: string; now: () => Date } => ({ cwd, now: () => NOW });
const auditLines = (): AuditRecord[] => readFileSync(state.auditFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);

/** Bytes that are not valid UTF-8, so only an exact write gets them through. */
const BINARY_BODY = Buffer.from([0x7b, 0xff, 0x00, 0xfe, 0x0a, 0x7d]);
/** Over the SQS limit once sealed and base64-encoded: replayed through the payload bucket. */
const BIG_BODY = Buffer.alloc(900 * 1024, 0x61);
const EVENTS = [
  { key: 'stripe:evt_1', type: 'invoice.paid', at: '2026-12-01T10:15:00.000Z', body: Buffer.from('{"id":"evt_1","patient":"PHI-MARKER-1"}') },
  { key: 'stripe:evt_2', type: 'invoice.failed', at: '2026-12-01T10:45:00.000Z', body: BINARY_BODY },
  { key: 'stripe:evt_3', type: 'invoice.paid', at: '2026-12-01T11:30:00.000Z', body: Buffer.from('{"id":"evt_3"}') },
] as const;

beforeAll(async () => {
  emulators = await startEmulators();
  s3 = new S3Client(localClients({ ...emulators.endpoints, s3: emulators.endpoints.sqs }).s3);
  await s3.send(new CreateBucketCommand({ Bucket: ARCHIVE }));
  cwd = mkdtempSync(join(tmpdir(), 'hookgate-events-'));
  const shared = createSharedLocalKms();
  const keyFile = localKeyPath(PORT, join(cwd, '.hookgate'));
  writeLocalKeyFile(keyFile, shared.keyFile);
  envelope = createEnvelope(localKeyring(shared.kms));
  // The first hour's two events in one object, the next hour's in another.
  const items = await Promise.all(
    EVENTS.map(async (e) => ({
      dedupeKey: e.key,
      eventType: e.type,
      receivedAt: e.at,
      ciphertext: await envelope.seal(e.body, { source: 'stripe', dedupeKey: e.key }, { receivedAt: e.at, eventType: e.type, typeSigned: true }),
    })),
  );
  for (const group of [items.slice(0, 2), items.slice(2)]) {
    await putArchived(s3, ARCHIVE, 'stripe', group);
  }
  const history = createHistoryStore({ client: emulators.dynamodb, tableName: TABLE, days: 30 });
  await history.record({ dedupeKey: 'stripe:evt_1', source: 'stripe', destination: 'billing', attempt: 1, at: '2026-12-01T10:15:01.000Z', statusCode: 503, latencyMs: 90, verdict: 'retry' });
  await history.record({ dedupeKey: 'stripe:evt_1', source: 'stripe', destination: 'billing', attempt: 2, at: '2026-12-01T10:16:01.000Z', statusCode: 200, latencyMs: 80, verdict: 'delivered' });
  await history.record({ dedupeKey: 'stripe:evt_2', source: 'stripe', destination: 'billing', attempt: 1, at: '2026-12-01T10:45:01.000Z', statusCode: 400, latencyMs: 70, verdict: 'reject' });
  const [stripe, billing] = [await createQueues(emulators.sqs), await createQueues(emulators.sqs)];
  [shop, orders, all, plain] = [await createQueues(emulators.sqs), await createQueues(emulators.sqs), await createQueues(emulators.sqs), await createQueues(emulators.sqs)];
  for (const [source, key, type] of [['shop', 'shop:o1', 'order.created'], ['shop', 'shop:c1', 'customer.created'], ['plain', 'plain:p1', 'ping'], ['plain', 'plain:big', 'ping']] as const) {
    const at = '2026-12-01T11:50:00.000Z';
    const ciphertext = await envelope.seal(key === 'plain:big' ? BIG_BODY : Buffer.from(`{"id":"${key}"}`), { source, dedupeKey: key }, { receivedAt: at, eventType: type, typeSigned: true });
    await putArchived(s3, ARCHIVE, source, [{ dedupeKey: key, eventType: type, receivedAt: at, ciphertext }]);
  }
  state = emulatorState({
    cwd,
    port: PORT,
    endpoints: emulators.endpoints,
    deliveryTable: TABLE,
    archiveBucket: ARCHIVE,
    sources: {
      stripe: { queueUrl: stripe.queueUrl, dlqUrl: stripe.dlqUrl, destinations: { billing: { type: 'http', queueUrl: billing.queueUrl, dlqUrl: billing.dlqUrl } } },
      shop: {
        queueUrl: shop.queueUrl,
        dlqUrl: shop.dlqUrl,
        destinations: { orders: { type: 'http', queueUrl: orders.queueUrl, dlqUrl: orders.dlqUrl, events: ['order.*'] }, all: { type: 'http', queueUrl: all.queueUrl, dlqUrl: all.dlqUrl } },
      },
      plain: { queueUrl: plain.queueUrl, dlqUrl: plain.dlqUrl, destinations: {} },
    },
    keyFile,
  });
  writeState(cwd, state);
  writeState(cwd, { ...state, port: BROKEN_AUDIT_PORT, auditFile: join(cwd, 'missing-folder', 'audit.jsonl') });
  writeState(cwd, { ...state, port: NO_KEY_PORT, auditFile: join(cwd, '.hookgate', `audit-${NO_KEY_PORT}.jsonl`), keyFile: join(cwd, 'no-such-key.json') });
}, 30_000);

afterAll(async () => {
  s3?.destroy();
  await emulators?.stop();
  if (cwd !== undefined) rmSync(cwd, { recursive: true, force: true });
});

describe('deliveryStatusOf', () => {
  it('is delivered when any attempt delivered, failed when the last one sent the event to the DLQ, else pending', () => {
    expect(deliveryStatusOf([{ verdict: 'retry' }, { verdict: 'delivered' }])).toBe('delivered');
    expect(deliveryStatusOf([{ verdict: 'retry' }, { verdict: 'reject' }])).toBe('failed');
    expect(deliveryStatusOf([{ verdict: 'refused-address' }])).toBe('failed');
    expect(deliveryStatusOf([{ verdict: 'retry' }, { verdict: 'retries-exhausted' }])).toBe('failed');
    expect(deliveryStatusOf([{ verdict: 'retry' }])).toBe('pending');
    expect(deliveryStatusOf([{ verdict: 'gone' }])).toBe('pending');
    expect(deliveryStatusOf([])).toBe('pending');
  });
});

describe('events list', () => {
  it('lists the archived events of a range with each destination\'s status, as a table and as JSON', async () => {
    const r = await run(['events', 'list', '--source', 'stripe', '--since', '3h', ...L], deps());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^KEY\s+RECEIVED AT\s+TYPE\s+SIZE\s+BILLING$/m);
    expect(r.out).toMatch(/^stripe:evt_1\s+2026-12-01T10:15:00.000Z\s+invoice.paid\s+\d+\s+delivered$/m);
    expect(r.out).toMatch(/^stripe:evt_2\s+2026-12-01T10:45:00.000Z\s+invoice.failed\s+\d+\s+failed$/m);
    expect(r.out).toMatch(/^stripe:evt_3\s+2026-12-01T11:30:00.000Z\s+invoice.paid\s+\d+\s+pending$/m);
    expect(r.out).not.toContain('PHI-MARKER');
    const json = JSON.parse((await run(['events', 'list', '--source', 'stripe', '--since', '3h', ...L, '--json'], deps())).out) as { events: { key: string; destinations: Record<string, string> }[] };
    expect(json.events.map((e) => [e.key, e.destinations.billing])).toEqual([
      ['stripe:evt_1', 'delivered'],
      ['stripe:evt_2', 'failed'],
      ['stripe:evt_3', 'pending'],
    ]);
  });

  it('filters by --until, --type and --status', async () => {
    const keys = async (...args: string[]): Promise<string[]> =>
      (JSON.parse((await run(['events', 'list', '--source', 'stripe', '--since', '3h', ...args, ...L, '--json'], deps())).out) as { events: { key: string }[] }).events.map((e) => e.key);
    expect(await keys('--until', '2026-12-01T11:00:00Z')).toEqual(['stripe:evt_1', 'stripe:evt_2']);
    expect(await keys('--type', 'invoice.paid')).toEqual(['stripe:evt_1', 'stripe:evt_3']);
    expect(await keys('--status', 'failed')).toEqual(['stripe:evt_2']);
    expect(await keys('--status', 'pending', '--destination', 'billing')).toEqual(['stripe:evt_3']);
  });

  it('a range with no events says so and exits 0', async () => {
    const r = await run(['events', 'list', '--source', 'stripe', '--since', '20m', ...L], deps());
    expect(r).toEqual({ code: 0, out: 'no archived events of stripe from 2026-12-01T11:40:00.000Z to 2026-12-01T12:00:00.000Z\n', err: '' });
  });

  it.each([
    [['--since', '2h'], 'events list requires --source <name>'],
    [['--source', 'stripe'], 'events list requires --since (for example --since 2h)'],
    [['--source', 'stripe', '--since', 'yesterday'], '--since must be a relative time'],
    [['--source', 'stripe', '--since', '1h', '--until', '2h'], 'is after --until'],
    [['--source', 'stripe', '--since', '1h', '--status', 'lost'], '--status must be one of delivered, failed, pending'],
  ])('usage errors exit 2: %j', async (args, message) => {
    const r = await run(['events', 'list', ...args, ...L], deps());
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  });

  it('an unknown source or destination exits 1', async () => {
    expect((await run(['events', 'list', '--source', 'nope', '--since', '1h', ...L], deps())).code).toBe(1);
    expect((await run(['events', 'list', '--source', 'stripe', '--since', '1h', '--destination', 'nope', ...L], deps())).code).toBe(1);
  });
});

/** Runs the command capturing stdout as bytes. */
async function runBytes(args: readonly string[], port = PORT): Promise<{ code: number; bytes: Buffer; err: string }> {
  const chunks: Buffer[] = [];
  let err = '';
  const code = await runCli([...args, '--local', '--port', String(port)], {
    ...deps(),
    io: { out: (t) => void chunks.push(Buffer.from(t, 'utf8')), err: (t) => void (err += t), bytes: (b) => void chunks.push(Buffer.from(b)) },
  });
  return { code, bytes: Buffer.concat(chunks), err };
}

describe('events show', () => {
  it('prints the metadata and every attempt, never the body, and writes no audit record', async () => {
    const r = await run(['events', 'show', 'stripe:evt_1', '--since', '3h', ...L], deps());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^stripe:evt_1\s+2026-12-01T10:15:00.000Z\s+invoice.paid\s+-\s+\d+\s+archive\/stripe\/2026\/12\/01\/10\//m);
    expect(r.out).toMatch(/^billing\s+1\s+2026-12-01T10:15:01.000Z\s+retry\s+503/m);
    expect(r.out).toMatch(/^billing\s+2\s+2026-12-01T10:16:01.000Z\s+delivered\s+200/m);
    expect(r.out).not.toContain('PHI-MARKER');
    const json = JSON.parse((await run(['events', 'show', 'stripe:evt_1', ...L, '--json'], deps())).out) as { event: { key: string; eventType: string }; attempts: unknown[] };
    expect(json.event).toMatchObject({ key: 'stripe:evt_1', eventType: 'invoice.paid' });
    expect(json.attempts).toHaveLength(2);
    expect(() => auditLines()).toThrow();
  });

  it('an unknown key is one line and exit 1', async () => {
    const r = await run(['events', 'show', 'stripe:evt_nope', ...L], deps());
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toContain('stripe:evt_nope is not in the archive of stripe');
  });

  it('--body requires --reason (exit 2), and then nothing is read or written', async () => {
    const r = await run(['events', 'show', 'stripe:evt_1', '--body', ...L], deps());
    expect(r).toEqual({ code: 2, out: '', err: expect.stringContaining('events show --body requires --reason') as unknown as string });
    expect(() => auditLines()).toThrow();
  });

  it('refuses to decrypt or print when the audit record cannot be written (no bypass)', async () => {
    const r = await runBytes(['events', 'show', 'stripe:evt_1', '--body', '--reason', 'ticket 42'], BROKEN_AUDIT_PORT);
    expect(r.code).toBe(1);
    expect(r.bytes.length).toBe(0);
    expect(r.err).toBe('hookgate: the audit record could not be written, so nothing was done (ENOENT)\n');
  });

  it('writes the audit record before it decrypts: with no key, the record is there and no body', async () => {
    const r = await runBytes(['events', 'show', 'stripe:evt_1', '--body', '--reason', 'ticket 43'], NO_KEY_PORT);
    expect(r.code).toBe(1);
    expect(r.bytes.length).toBe(0);
    const lines = readFileSync(join(cwd, '.hookgate', `audit-${NO_KEY_PORT}.jsonl`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
    expect(lines.map((l) => [l.action, l.keys, l.reason])).toEqual([['show-body', ['stripe:evt_1'], 'ticket 43']]);
  });

  it('prints the exact body bytes after one audit record', async () => {
    const r = await runBytes(['events', 'show', 'stripe:evt_2', '--body', '--reason', 'investigating a failed delivery']);
    expect(r.code).toBe(0);
    expect(r.bytes.equals(BINARY_BODY)).toBe(true);
    expect(auditLines().map((l) => [l.action, l.keys, l.reason, l.at])).toEqual([['show-body', ['stripe:evt_2'], 'investigating a failed delivery', NOW.toISOString()]]);
    expect(JSON.stringify(auditLines())).not.toContain('PHI-MARKER');
  });

  it('opens only the body bound to that key: an index entry pointing at another event\'s ciphertext fails', async () => {
    // An object whose index claims evt_9 but holds evt_1's ciphertext (the index is an unauthenticated hint).
    const ciphertext = await envelope.seal(Buffer.from('x'), { source: 'stripe', dedupeKey: 'stripe:evt_1' }, { receivedAt: '2026-12-01T11:40:00.000Z', typeSigned: false });
    const item = { dedupeKey: 'stripe:evt_9', receivedAt: '2026-12-01T11:40:00.000Z', ciphertext };
    await putArchived(s3, ARCHIVE, 'stripe', [item]);
    const r = await runBytes(['events', 'show', 'stripe:evt_9', '--body', '--reason', 'check binding']);
    expect(r.code).toBe(1);
    expect(r.bytes.length).toBe(0);
    expect(r.err).toBe('hookgate: EnvelopeMismatchError: sealed message does not match its dedupe_key\n');
  });
});

describe('replay', () => {
  const opened = async (queue: Queues) => {
    const records = await receive(emulators.sqs, queue.queueUrl, queue.queueArn);
    return Promise.all(records.map(async (r) => ({ replayId: replayIdOf(r), opened: await openMessage(r, { envelope, s3, bucket: 'hookgate-payloads', source: r.messageAttributes.source?.stringValue ?? '' }) })));
  };

  it('requires --reason (exit 2) and sends nothing', async () => {
    const r = await run(['replay', 'shop:o1', ...L], deps());
    expect(r.code).toBe(2);
    expect(await queued(emulators.sqs, orders.queueUrl)).toBe(0);
  });

  it('sends nothing when the audit record cannot be written (no bypass)', async () => {
    const r = await run(['replay', 'shop:o1', '--reason', 'test', '--local', '--port', String(BROKEN_AUDIT_PORT)], deps());
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^shop:o1\s+-\s+-\s+the audit record could not be written/m);
    expect(await queued(emulators.sqs, orders.queueUrl)).toBe(0);
    expect(await queued(emulators.sqs, all.queueUrl)).toBe(0);
  });

  it('sends each key to the destinations its type matches, with a replay id, after one audit record per key; the rest goes to the work queue of a source without destinations', async () => {
    const before = auditLines().length;
    const r = await run(['replay', 'shop:o1', 'shop:c1', 'plain:p1', '--reason', 'receiver lost them', ...L, '--json'], deps());
    expect(r.code).toBe(0);
    const { replayed } = JSON.parse(r.out) as { replayed: { key: string; replayId: string; sentTo: string[] }[] };
    expect(replayed.map((o) => [o.key, o.sentTo])).toEqual([
      ['shop:o1', ['orders', 'all']],
      ['shop:c1', ['all']],
      ['plain:p1', ['work queue']],
    ]);
    const records = auditLines().slice(before);
    expect(records.map((a) => [a.action, a.keys, a.reason, a.replayId])).toEqual(replayed.map((o) => ['replay', [o.key], 'receiver lost them', o.replayId]));
    const [atOrders, atAll, atPlain] = [await opened(orders), await opened(all), await opened(plain)];
    expect(atOrders.map((m) => [m.opened.dedupeKey, m.replayId, m.opened.body.toString()])).toEqual([['shop:o1', replayed[0]?.replayId, '{"id":"shop:o1"}']]);
    expect(atAll.map((m) => m.opened.dedupeKey).sort()).toEqual(['shop:c1', 'shop:o1']);
    expect(atPlain.map((m) => [m.opened.dedupeKey, m.replayId])).toEqual([['plain:p1', replayed[2]?.replayId]]);
  });

  it('sends a body over the SQS limit as a pointer to the payload bucket, which opens to the exact bytes', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'hookgate-payloads' }));
    const r = await run(['replay', 'plain:big', '--reason', 'large one', ...L], deps());
    expect(r.code).toBe(0);
    const records = await receive(emulators.sqs, plain.queueUrl, plain.queueArn);
    expect(records.map((rec) => rec.messageAttributes.payload?.stringValue)).toEqual(['s3']);
    const message = await openMessage(records[0] as SQSRecord, { envelope, s3, bucket: 'hookgate-payloads', source: 'plain' });
    expect(message.body.equals(BIG_BODY)).toBe(true);
  });

  it('reports a key not in the archive and exits 1, still sending the others', async () => {
    const r = await run(['replay', 'shop:nope', 'plain:p1', '--reason', 'again', ...L], deps());
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^shop:nope\s+-\s+-\s+not in the archive in that range$/m);
    expect(r.out).toMatch(/^plain:p1\s+\S+\s+work queue\s+sent$/m);
    expect(r.err).toBe('hookgate: 1 of 2 keys were not (fully) replayed\n');
    expect((await opened(plain)).map((m) => m.opened.dedupeKey)).toEqual(['plain:p1']);
  });
});
