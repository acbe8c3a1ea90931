import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { type AuditRecord } from '../../cli/audit';
import { DEFAULT_RATE } from '../../cli/commands/replay';
import { type CliDeps, defaultTarget, runCli } from '../../cli/main';
import { INTERRUPTED, pacer } from '../../cli/replay';
import { type LocalState } from '../../cli/targets/local';
import { createHistoryStore } from '../../lambda/delivery/history';
import { localClients } from '../../local/emulators';
import { createQueues, drain, type Emulators, envelope, queued, startEmulators, TABLE } from '../delivery/rig';
import { writeState, emulatorState } from './harness';
import { putArchived } from '../archive/rig';

// `hookgate replay` by time range against the emulators: archive objects in the archive format,
// statuses from the delivery history, messages read back from the destination queues. A fake
// clock proves the pacing without waiting; an injected AbortSignal stands for Ctrl-C.

const PORT = 3985;
const NOW = new Date('2026-12-01T12:00:00.000Z');
const L = ['--local', '--port', String(PORT)];
const ARCHIVE = 'hookgate-archive';

let emulators: Emulators;
let s3: S3Client;
let cwd: string;
let state: LocalState;
type Queues = Awaited<ReturnType<typeof createQueues>>;
let billing: Queues;
let crm: Queues;
let plain: Queues;

/** The shop events: billing takes every type, crm only `order.*`. */
const EVENTS = [
  { key: 'shop:e1', type: 'order.created', at: '2026-12-01T10:05:00.000Z', billing: 'reject', crm: 'delivered' },
  { key: 'shop:e2', type: 'customer.created', at: '2026-12-01T10:20:00.000Z', billing: 'reject' },
  { key: 'shop:e3', type: 'order.paid', at: '2026-12-01T10:40:00.000Z', billing: 'delivered', crm: 'reject' },
  { key: 'shop:e4', type: 'order.created', at: '2026-12-01T11:10:00.000Z' },
  { key: 'shop:e5', type: 'customer.deleted', at: '2026-12-01T11:30:00.000Z', billing: 'delivered' },
] as const;
const ciphertexts = new Map<string, Buffer>();

/** A fake clock: sleeping moves it on, and every sleep is recorded. */
function fakeClock(): { now: () => Date; sleep: (ms: number) => Promise<void>; sleeps: number[] } {
  let t = NOW.getTime();
  const sleeps: number[] = [];
  return { now: () => new Date(t), sleep: (ms) => ((t += ms), sleeps.push(ms), Promise.resolve()), sleeps };
}

interface Result {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  readonly questions: readonly string[];
}

/** Runs `hookgate <args> --local --port PORT` in-process; confirm answers `answer` (and is recorded). */
async function hookgate(args: readonly string[], deps: Partial<CliDeps> & { readonly answer?: boolean; readonly isTTY?: boolean } = {}): Promise<Result> {
  let out = '';
  let err = '';
  const questions: string[] = [];
  const { answer, isTTY, ...rest } = deps;
  const clock = fakeClock();
  const code = await runCli([...args, ...L], {
    cwd,
    now: clock.now,
    sleep: clock.sleep,
    interactive: answer !== undefined,
    confirm: (q) => (questions.push(q), Promise.resolve(answer === true)),
    ...rest,
    io: { out: (t) => void (out += t), err: (t) => void (err += t), ...(isTTY === undefined ? {} : { isTTY }) },
  });
  return { code, out, err, questions };
}

const auditLines = (): AuditRecord[] => {
  try {
    return readFileSync(state.auditFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
  } catch {
    return [];
  }
};

/** Every message of a queue, deleted: [dedupe key, replay id, body] each. */
async function take(queue: Queues): Promise<{ key: string; replayId: string; body: string }[]> {
  const messages: Message[] = await drain(emulators.sqs, queue.queueUrl);
  for (const m of messages) await emulators.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.queueUrl, ReceiptHandle: m.ReceiptHandle }));
  return messages
    .map((m) => ({ key: m.MessageAttributes?.dedupeKey?.StringValue ?? '', replayId: m.MessageAttributes?.replayId?.StringValue ?? '', body: m.Body ?? '' }))
    .sort((a, b) => a.key.localeCompare(b.key));
}
const keysAt = async (queue: Queues): Promise<string[]> => (await take(queue)).map((m) => m.key);
const nothingSent = async (): Promise<void> => {
  expect(await queued(emulators.sqs, billing.queueUrl)).toBe(0);
  expect(await queued(emulators.sqs, crm.queueUrl)).toBe(0);
  expect(await queued(emulators.sqs, plain.queueUrl)).toBe(0);
};

beforeAll(async () => {
  emulators = await startEmulators();
  s3 = new S3Client(localClients({ ...emulators.endpoints, s3: emulators.endpoints.sqs }).s3);
  await s3.send(new CreateBucketCommand({ Bucket: ARCHIVE }));
  cwd = mkdtempSync(join(tmpdir(), 'hookgate-replay-'));
  const history = createHistoryStore({ client: emulators.dynamodb, tableName: TABLE, days: 30 });
  const all = [...EVENTS.map((e) => ({ ...e, source: 'shop' })), { key: 'plain:p1', type: 'ping', at: '2026-12-01T11:00:00.000Z', source: 'plain' }];
  for (const e of all) {
    const ciphertext = await envelope.seal(Buffer.from(`{"id":"${e.key}","patient":"PHI-MARKER"}`), { source: e.source, dedupeKey: e.key }, { receivedAt: e.at, eventType: e.type, typeSigned: true });
    ciphertexts.set(e.key, ciphertext);
    const item = { dedupeKey: e.key, eventType: e.type, receivedAt: e.at, ciphertext };
    await putArchived(s3, ARCHIVE, e.source, [item]);
    for (const destination of ['billing', 'crm'] as const) {
      const verdict = (e as Partial<Record<'billing' | 'crm', 'reject' | 'delivered'>>)[destination];
      if (verdict === undefined) continue;
      await history.record({ dedupeKey: e.key, source: 'shop', destination, attempt: 1, at: e.at, statusCode: verdict === 'reject' ? 400 : 200, latencyMs: 50, verdict });
    }
  }
  const shop = await createQueues(emulators.sqs);
  [billing, crm, plain] = [await createQueues(emulators.sqs), await createQueues(emulators.sqs), await createQueues(emulators.sqs)];
  state = emulatorState({
    cwd,
    port: PORT,
    endpoints: emulators.endpoints,
    deliveryTable: TABLE,
    archiveBucket: ARCHIVE,
    sources: {
      shop: {
        queueUrl: shop.queueUrl,
        dlqUrl: shop.dlqUrl,
        destinations: { billing: { type: 'http', queueUrl: billing.queueUrl, dlqUrl: billing.dlqUrl }, crm: { type: 'http', queueUrl: crm.queueUrl, dlqUrl: crm.dlqUrl, events: ['order.*'] } },
      },
      plain: { queueUrl: plain.queueUrl, dlqUrl: plain.dlqUrl, destinations: {} },
    },
  });
  writeState(cwd, state);
}, 30_000);

afterAll(async () => {
  s3?.destroy();
  await emulators?.stop();
  if (cwd !== undefined) rmSync(cwd, { recursive: true, force: true });
});

interface Replayed {
  readonly replayed: { key: string; replayId?: string; sentTo: string[]; error?: string }[];
  readonly summary: { keys: number; sent: number; notSent: number; interrupted: boolean; perDestination: Record<string, number> };
  readonly rate: number;
}

describe('replay of a time range', () => {
  it('sends every event of the range to the destinations its type matches, one audit record per key, and prints one JSON document', async () => {
    const before = auditLines().length;
    const r = await hookgate(['replay', '--source', 'shop', '--since', '3h', '--yes', '--reason', 'billing was down', '--json']);
    expect(r.code).toBe(0);
    expect(r.questions).toEqual([]);
    const doc = JSON.parse(r.out) as Replayed;
    expect(doc.replayed.map((o) => [o.key, o.sentTo])).toEqual([
      ['shop:e1', ['billing', 'crm']],
      ['shop:e2', ['billing']],
      ['shop:e3', ['billing', 'crm']],
      ['shop:e4', ['billing', 'crm']],
      ['shop:e5', ['billing']],
    ]);
    expect(doc.summary).toEqual({ keys: 5, sent: 5, notSent: 0, interrupted: false, perDestination: { billing: 5, crm: 3 } });
    expect(doc.rate).toBe(DEFAULT_RATE);
    const records = auditLines().slice(before);
    expect(records.map((a) => [a.action, a.keys, a.reason, a.replayId])).toEqual(doc.replayed.map((o) => ['replay', [o.key], 'billing was down', o.replayId]));
    const replayIds = Object.fromEntries(doc.replayed.map((o) => [o.key, o.replayId]));
    const atBilling = await take(billing);
    // The archived ciphertext as enqueued, with the key's replay id.
    expect(atBilling).toEqual(EVENTS.map((e) => ({ key: e.key, replayId: replayIds[e.key], body: ciphertexts.get(e.key)?.toString('base64') })));
    expect(await keysAt(crm)).toEqual(['shop:e1', 'shop:e3', 'shop:e4']);
    expect(r.out).not.toContain('PHI-MARKER');
  });

  it('prints a table of the keys and a summary line', async () => {
    const r = await hookgate(['replay', '--source', 'shop', '--since', '3h', '--until', '2026-12-01T10:30:00Z', '--yes', '--reason', 'table']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^KEY\s+REPLAY ID\s+SENT TO\s+RESULT$/m);
    expect(r.out).toMatch(/^shop:e1\s+[0-9a-f-]{36}\s+billing, crm\s+sent$/m);
    expect(r.out).toMatch(/^shop:e2\s+[0-9a-f-]{36}\s+billing\s+sent$/m);
    expect(r.out).toContain('sent 2 of 2 keys (billing: 2, crm: 1); not sent: 0\n');
    expect(r.err).toContain('about to replay 2 events of shop from 2026-12-01T09:00:00.000Z to 2026-12-01T10:30:00.000Z to billing, crm, at most 20 per second');
    expect(await keysAt(billing)).toEqual(['shop:e1', 'shop:e2']);
    expect(await keysAt(crm)).toEqual(['shop:e1']);
  });

  it('--status sends each event only to the destinations where it has that status; --destination keeps one', async () => {
    const failed = JSON.parse((await hookgate(['replay', '--source', 'shop', '--since', '3h', '--status', 'failed', '--yes', '--reason', 'r', '--json'])).out) as Replayed;
    expect(failed.replayed.map((o) => [o.key, o.sentTo])).toEqual([
      ['shop:e1', ['billing']],
      ['shop:e2', ['billing']],
      ['shop:e3', ['crm']],
    ]);
    expect(await keysAt(billing)).toEqual(['shop:e1', 'shop:e2']);
    expect(await keysAt(crm)).toEqual(['shop:e3']);
    const one = JSON.parse((await hookgate(['replay', '--source', 'shop', '--since', '3h', '--status', 'failed', '--destination', 'crm', '--yes', '--reason', 'r', '--json'])).out) as Replayed;
    expect(one.replayed.map((o) => [o.key, o.sentTo])).toEqual([['shop:e3', ['crm']]]);
    expect(await keysAt(crm)).toEqual(['shop:e3']);
    await nothingSent();
  });

  it('--type keeps one event type; a source without destinations replays to its work queue', async () => {
    const typed = JSON.parse((await hookgate(['replay', '--source', 'shop', '--since', '3h', '--type', 'order.created', '--destination', 'billing', '--yes', '--reason', 'r', '--json'])).out) as Replayed;
    expect(typed.replayed.map((o) => o.key)).toEqual(['shop:e1', 'shop:e4']);
    expect(await keysAt(billing)).toEqual(['shop:e1', 'shop:e4']);
    const r = await hookgate(['replay', '--source', 'plain', '--since', '3h', '--yes', '--reason', 'r', '--json']);
    expect((JSON.parse(r.out) as Replayed).replayed.map((o) => [o.key, o.sentTo])).toEqual([['plain:p1', ['work queue']]]);
    expect(await keysAt(plain)).toEqual(['plain:p1']);
    await nothingSent();
  });

  it('a range with no events says so and exits 0, asking nothing', async () => {
    const r = await hookgate(['replay', '--source', 'shop', '--since', '20m', '--reason', 'r'], { answer: true });
    expect(r).toEqual({ code: 0, out: 'no archived events of shop from 2026-12-01T11:40:00.000Z to 2026-12-01T12:00:00.000Z to replay\n', err: '', questions: [] });
    const json = JSON.parse((await hookgate(['replay', '--source', 'shop', '--since', '20m', '--reason', 'r', '--yes', '--json'])).out) as { replayed: unknown[] };
    expect(json.replayed).toEqual([]);
  });
});

describe('replay: confirmation', () => {
  it('says what it is about to do and asks; declined, nothing is sent or audited (exit 1)', async () => {
    const before = auditLines().length;
    const r = await hookgate(['replay', '--source', 'shop', '--since', '3h', '--destination', 'billing', '--rate', '5', '--reason', 'r'], { answer: false });
    expect(r.code).toBe(1);
    expect(r.questions).toEqual(['replay these 5 events?']);
    expect(r.err).toBe('about to replay 5 events of shop from 2026-12-01T09:00:00.000Z to 2026-12-01T12:00:00.000Z to billing, at most 5 per second (about 1 s); one audit record per event\nhookgate: not confirmed: nothing was replayed\n');
    expect(r.out).toBe('');
    expect(auditLines().length).toBe(before);
    await nothingSent();
  });

  it('confirmed, it replays', async () => {
    const r = await hookgate(['replay', '--source', 'shop', '--since', '3h', '--destination', 'crm', '--reason', 'r'], { answer: true });
    expect(r.code).toBe(0);
    expect(r.questions).toEqual(['replay these 3 events?']);
    expect(await keysAt(crm)).toEqual(['shop:e1', 'shop:e3', 'shop:e4']);
  });

  it('keys replays ask nothing', async () => {
    const r = await hookgate(['replay', 'shop:e2', '--reason', 'r', '--since', '3h']);
    expect(r.code).toBe(0);
    expect(r.questions).toEqual([]);
    expect(r.err).toBe('');
    expect(await keysAt(billing)).toEqual(['shop:e2']);
  });
});

describe('replay --dry-run', () => {
  it('lists what would go, for a range and for keys, as a table and as JSON; sends nothing, audits nothing, asks nothing', async () => {
    const before = auditLines().length;
    const range = await hookgate(['replay', '--source', 'shop', '--since', '3h', '--status', 'failed', '--dry-run']);
    expect(range.code).toBe(0);
    expect(range.questions).toEqual([]);
    expect(range.out).toMatch(/^KEY\s+RECEIVED AT\s+TYPE\s+DESTINATIONS\s+WOULD$/m);
    expect(range.out).toMatch(/^shop:e1\s+2026-12-01T10:05:00.000Z\s+order.created\s+billing\s+go$/m);
    expect(range.out).toMatch(/^shop:e3\s+2026-12-01T10:40:00.000Z\s+order.paid\s+crm\s+go$/m);
    expect(range.out).toContain('dry run: 3 of 3 would be replayed; nothing was sent and no audit record was written\n');
    const json = JSON.parse((await hookgate(['replay', 'shop:e1', 'plain:p1', 'shop:nope', '--since', '3h', '--dry-run', '--json'])).out) as { dryRun: boolean; events: unknown[] };
    expect(json).toEqual({
      dryRun: true,
      events: [
        { key: 'shop:e1', receivedAt: '2026-12-01T10:05:00.000Z', eventType: 'order.created', destinations: ['billing', 'crm'] },
        { key: 'plain:p1', receivedAt: '2026-12-01T11:00:00.000Z', eventType: 'ping', destinations: ['work queue'] },
        { key: 'shop:nope', destinations: [], error: 'not in the archive in that range' },
      ],
    });
    expect(auditLines().length).toBe(before);
    await nothingSent();
  });

  it('a key that would not go exits 1', async () => {
    const r = await hookgate(['replay', 'shop:nope', '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('hookgate: 1 of 1 keys would not be replayed\n');
  });
});

describe('replay: usage errors exit 2, and nothing is sent', () => {
  it.each([
    [['shop:e1', '--source', 'shop', '--since', '1h', '--reason', 'r'], 'give dedupe keys or a range (--source S --since T), not both'],
    [['shop:e1', '--status', 'failed', '--reason', 'r'], 'not both (--status with keys)'],
    [['--source', 'shop', '--since', '3h', '--yes', '--reason', 'r', '--rate', '0'], '--rate must be a positive number of events per second, not "0"'],
    [['--source', 'shop', '--since', '3h', '--yes', '--reason', 'r', '--rate', 'fast'], '--rate must be a positive number'],
    [['--source', 'shop', '--since', '3h', '--yes', '--reason', 'r', '--rate=-5'], '--rate must be a positive number'],
    [['--source', 'shop', '--since', '1h', '--until', '2h', '--yes', '--reason', 'r'], 'is after --until'],
    [['--source', 'shop', '--since', '3h', '--yes'], 'replay requires --reason'],
    [['--source', 'shop', '--since', '3h', '--reason', '  '], 'replay requires --reason'],
    [['--source', 'shop', '--yes', '--reason', 'r'], 'a range replay requires --since'],
    [['--source', 'shop', '--since', '3h', '--status', 'lost', '--yes', '--reason', 'r'], '--status must be one of delivered, failed, pending'],
    [['--reason', 'r'], 'usage: hookgate replay'],
    [['--source', 'shop', '--since', '3h', '--reason', 'r'], 'a range replay asks for confirmation and stdin is not a terminal: pass --yes'],
  ])('%j', async (args, message) => {
    const r = await hookgate(['replay', ...args]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(message);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    await nothingSent();
  });

  it('a destination the source does not have is one clear line, exit 1', async () => {
    const range = await hookgate(['replay', '--source', 'shop', '--since', '3h', '--destination', 'nope', '--yes', '--reason', 'r']);
    expect(range).toMatchObject({ code: 1, out: '', err: 'hookgate: source shop has no destination "nope"; known: billing, crm\n' });
    const keys = await hookgate(['replay', 'plain:p1', '--destination', 'billing', '--reason', 'r']);
    expect(keys).toMatchObject({ code: 1, out: '', err: 'hookgate: source plain has no destination "billing"; known: none\n' });
    await nothingSent();
  });
});

describe('replay: rate', () => {
  it('paces N keys at rate r with sleeps adding up to (N-1)/r s on the injected clock', async () => {
    let t = NOW.getTime();
    const sleeps: number[] = [];
    const r = await hookgate(['replay', '--source', 'shop', '--since', '3h', '--destination', 'billing', '--rate', '2', '--yes', '--reason', 'r'], {
      now: () => new Date(t),
      sleep: (ms) => ((t += ms), sleeps.push(ms), Promise.resolve()),
    });
    expect(r.code).toBe(0);
    expect(sleeps).toHaveLength(4);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(((5 - 1) / 2) * 1000);
    expect(await keysAt(billing)).toHaveLength(5);
  });

  it('pacer: waits only what is left of the interval since the previous call', async () => {
    let t = 0;
    const sleeps: number[] = [];
    const pace = pacer(4, { now: () => new Date(t), sleep: (ms) => ((t += ms), sleeps.push(ms), Promise.resolve()) });
    await pace();
    t += 100;
    await pace();
    t += 300;
    await pace();
    await pace();
    expect(sleeps).toEqual([150, 250]);
  });
});

describe('replay: progress', () => {
  it('goes to stderr, one line per tenth when stderr is not a terminal; stdout stays the result', async () => {
    const r = await hookgate(['replay', '--source', 'shop', '--since', '3h', '--destination', 'billing', '--yes', '--reason', 'r', '--json']);
    expect(r.code).toBe(0);
    expect(r.err.split('\n').filter((l) => l.startsWith('replay: '))).toEqual(['replay: 1/5 keys (20%)', 'replay: 2/5 keys (40%)', 'replay: 3/5 keys (60%)', 'replay: 4/5 keys (80%)', 'replay: 5/5 keys (100%)']);
    expect(() => JSON.parse(r.out) as unknown).not.toThrow();
    expect(r.out).not.toContain('replay: ');
    await take(billing);
  });

  it('is a bar redrawn in place when stderr is a terminal', async () => {
    const r = await hookgate(['replay', '--source', 'shop', '--since', '3h', '--destination', 'billing', '--yes', '--reason', 'r'], { isTTY: true });
    expect(r.code).toBe(0);
    expect(r.err).toContain(`\r[${'#'.repeat(30)}] 5/5 keys\n`);
    expect(r.err.match(/\r\[/g)).toHaveLength(5);
    expect(r.out).not.toContain('\r');
    await take(billing);
  });
});

describe('replay: interrupted', () => {
  it('finishes the key in flight, sends no other, and reports which keys went and which did not (exit 1)', async () => {
    const controller = new AbortController();
    const before = auditLines().length;
    // Ctrl-C while shop:e2 is being replayed (just after its audit record is written).
    const resolveTarget: CliDeps['resolveTarget'] = async (flags, dir) => {
      const target = await defaultTarget(flags, dir);
      const audit = { ...target.audit, record: async (record: AuditRecord) => (await target.audit.record(record), record.keys[0] === 'shop:e2' ? controller.abort() : undefined) };
      return { ...target, audit };
    };
    const r = await hookgate(['replay', '--source', 'shop', '--since', '3h', '--destination', 'billing', '--yes', '--reason', 'r', '--json'], { signal: controller.signal, resolveTarget });
    expect(r.code).toBe(1);
    expect(r.err).toContain('hookgate: interrupted: 3 of 5 keys were not (fully) replayed\n');
    const doc = JSON.parse(r.out) as Replayed;
    expect(doc.replayed.map((o) => [o.key, o.sentTo, o.error])).toEqual([
      ['shop:e1', ['billing'], undefined],
      ['shop:e2', ['billing'], undefined],
      ['shop:e3', [], INTERRUPTED],
      ['shop:e4', [], INTERRUPTED],
      ['shop:e5', [], INTERRUPTED],
    ]);
    expect(doc.summary).toMatchObject({ keys: 5, sent: 2, notSent: 3, interrupted: true });
    expect(auditLines().slice(before).map((a) => a.keys[0])).toEqual(['shop:e1', 'shop:e2']);
    expect(await keysAt(billing)).toEqual(['shop:e1', 'shop:e2']);
  });

  it('as a table: the keys not sent say why', async () => {
    const controller = new AbortController();
    controller.abort();
    const r = await hookgate(['replay', '--source', 'shop', '--since', '3h', '--type', 'customer.created', '--yes', '--reason', 'r'], { signal: controller.signal });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^shop:e2\s+-\s+-\s+not sent: the replay was interrupted$/m);
    expect(r.out).toContain('sent 0 of 1 keys; not sent: 1 (interrupted)\n');
    await nothingSent();
  });
});
