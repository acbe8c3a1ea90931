import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { type AuditRecord } from '../../cli/audit';
import { type LocalState } from '../../cli/targets/local';
import { localTarget } from '../../cli/targets/local';
import { readCircuit } from '../../lambda/delivery/circuit';
import { createHistoryStore } from '../../lambda/delivery/history';
import { createQueues, type Emulators, sendEvent, SOURCE, startEmulators, TABLE } from '../delivery/rig';
import { run, writeState, emulatorState } from './harness';

// The hookgate command against the emulators (dynalite, fauxqs), through a state file written as
// `npm start` writes it: output (table and --json), exit codes, and the audit rule.

const PORT = 3999;
const BROKEN_AUDIT_PORT = 3998;
const NOW = new Date('2026-12-01T12:00:00.000Z');
const L = ['--local', '--port', String(PORT)];

let emulators: Emulators;
let cwd: string;
let state: LocalState;
let stripe: { queueUrl: string; dlqUrl: string };
let billing: { queueUrl: string; dlqUrl: string };
let github: { queueUrl: string; dlqUrl: string };
const deps = (): { cwd: string; now: () => Date } => ({ cwd, now: () => NOW });
const table = () => ({ client: emulators.dynamodb, tableName: TABLE });
const auditLines = (): AuditRecord[] => readFileSync(state.auditFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);

async function depth(queueUrl: string): Promise<number> {
  const { Attributes } = await emulators.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes?.ApproximateNumberOfMessages) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible);
}

beforeAll(async () => {
  emulators = await startEmulators();
  [stripe, billing, github] = [await createQueues(emulators.sqs), await createQueues(emulators.sqs), await createQueues(emulators.sqs)];
  cwd = mkdtempSync(join(tmpdir(), 'hookgate-cli-'));
  state = emulatorState({
    cwd,
    port: PORT,
    endpoints: emulators.endpoints,
    deliveryTable: TABLE,
    sources: {
      [SOURCE]: { queueUrl: stripe.queueUrl, dlqUrl: stripe.dlqUrl, destinations: { billing: { type: 'http', queueUrl: billing.queueUrl, dlqUrl: billing.dlqUrl } } },
      github: { queueUrl: github.queueUrl, dlqUrl: github.dlqUrl, destinations: {} },
    },
  });
  writeState(cwd, state);
  // Another instance whose audit file cannot be written (its folder does not exist).
  writeState(cwd, { ...state, port: BROKEN_AUDIT_PORT, auditFile: join(cwd, 'missing-folder', 'audit.jsonl') });
}, 30_000);

afterAll(async () => {
  await emulators?.stop();
  if (cwd !== undefined) rmSync(cwd, { recursive: true, force: true });
});

describe('usage errors exit 2 with one line on stderr', () => {
  it.each([
    ['no command', []],
    ['an unknown command', ['frobnicate', ...L]],
    ['an unknown subcommand of a group', ['dlq', 'peek', ...L]],
    ['an unknown flag', ['status', ...L, '--verbose']],
    ['no target', ['status']],
    ['two targets', ['status', '--local', '--env', 'prod']],
    ['--port without --local', ['status', '--env', 'prod', '--port', '3000']],
    ['a bad port', ['status', '--local', '--port', 'http']],
    ['pause without --reason', ['destinations', 'pause', 'stripe/billing', ...L]],
    ['pause with a blank --reason', ['destinations', 'pause', 'stripe/billing', '--reason', '  ', ...L]],
    ['pause without <source>/<destination>', ['destinations', 'pause', 'billing', '--reason', 'x', ...L]],
    ['redrive without --reason', ['dlq', 'redrive', '--source', 'stripe', ...L]],
    ['dlq list without --source', ['dlq', 'list', ...L]],
    ['dlq list with a bad --limit', ['dlq', 'list', '--source', 'stripe', '--limit', '0', ...L]],
    ['an unparsable --since', ['audit', 'list', '--since', 'yesterday', ...L]],
    ['attempts without a key', ['events', 'attempts', ...L]],
    ['attempts of something that is no dedupe key', ['events', 'attempts', 'evt_1', ...L]],
  ])('%s', async (_what, args) => {
    const r = await run(args, deps());
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trimEnd().split('\n').length).toBe(args.length === 0 ? r.err.trimEnd().split('\n').length : 1);
    if (args.length > 0) expect(r.err).toMatch(/^hookgate: /);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

describe('runtime errors exit 1 with one line on stderr', () => {
  it.each([
    ['no local instance on that port', ['status', '--local', '--port', '4001'], /no local hookgate on port 4001/],
    ['an unknown source', ['dlq', 'list', '--source', 'shopify', ...L], /unknown source "shopify"; known: stripe, github/],
    ['an unknown destination', ['destinations', 'pause', 'stripe/ledger', '--reason', 'x', ...L], /source stripe has no destination "ledger"; known: billing/],
  ])('%s', async (_what, args, message) => {
    const r = await run(args, deps());
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('the executable (npm run hookgate)', () => {
  // NODE_NO_WARNINGS: the SDK's own warning about this Node version is not the command's output.
  it('exits with the code and prints one line on stderr', () => {
    const root = join(__dirname, '..', '..');
    const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const usage = spawnSync(process.execPath, [tsx, join(root, 'bin', 'hookgate-cli.ts'), 'status'], { cwd, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    expect(usage.status).toBe(2);
    expect(usage.stdout).toBe('');
    expect(usage.stderr).toBe('hookgate: choose where to run: --local [--port N], --env <name> or --stack <name> (exactly one)\n');
    const done = spawnSync(process.execPath, [tsx, join(root, 'bin', 'hookgate-cli.ts'), 'audit', 'list', '--local', '--port', String(PORT), '--who', 'nobody-such'], { cwd, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
    expect(done.stdout).toBe('no audit records by nobody-such\n');
  }, 20_000);
});

describe('help', () => {
  it('--help lists every command and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const words of ['status', 'events attempts', 'dlq list', 'dlq show', 'dlq redrive', 'destinations pause', 'destinations resume', 'audit list']) expect(r.out).toContain(words);
  });
});

describe('status', () => {
  it('prints each source and destination, queue depths, circuit state, and n/a for metrics locally', async () => {
    await sendEvent(emulators.sqs, stripe.queueUrl, 'evt_status');
    const r = await run(['status', ...L], deps());
    expect(r.code).toBe(0);
    expect(r.out).toContain(`local :${PORT}`);
    expect(r.out).toMatch(/^SOURCE\s+ACCEPTED 1H\s+REJECTED 1H\s+LAST EVENT\s+QUEUE\s+DLQ$/m);
    expect(r.out).toMatch(/^stripe\s+n\/a\s+n\/a\s+n\/a\s+1\s+0$/m);
    expect(r.out).toMatch(/^github\s+n\/a\s+n\/a\s+n\/a\s+0\s+0$/m);
    expect(r.out).toMatch(/^stripe\/billing\s+closed\s+0\s+0$/m);
    const json = await run(['status', ...L, '--json'], deps());
    const parsed = JSON.parse(json.out) as { sources: { source: string; traffic?: unknown; queue: { visible: number }; destinations: { name: string; circuit: { state: string } }[] }[] };
    expect(parsed.sources.map((s) => s.source)).toEqual(['stripe', 'github']);
    expect(parsed.sources[0]?.queue.visible).toBe(1);
    expect(parsed.sources[0]?.traffic).toBeUndefined();
    expect(parsed.sources[0]?.destinations).toEqual([expect.objectContaining({ name: 'billing', circuit: { state: 'closed', failures: 0 } })]);
  });
});

describe('destinations pause and resume', () => {
  it('writes the audit record while the destination is still untouched, then pauses it; resume closes it', async () => {
    // Proof of order: the circuit as it is when the record is written.
    let stateAtRecord: string | undefined;
    const resolveTarget = async (): Promise<ReturnType<typeof localTarget>> => {
      const target = localTarget(state);
      const record = target.audit.record.bind(target.audit);
      return {
        ...target,
        audit: {
          ...target.audit,
          record: async (entry) => {
            await record(entry);
            stateAtRecord = (await readCircuit(table(), { source: SOURCE, destination: 'billing' })).state;
          },
        },
      };
    };
    const r = await run(['destinations', 'pause', 'stripe/billing', '--reason', 'billing API down, INC-42', ...L], { ...deps(), resolveTarget });
    expect(r.code).toBe(0);
    expect(stateAtRecord).toBe('closed');
    expect(r.out).toBe(`paused stripe/billing (was closed); audit record written to file:${state.auditFile}\n`);
    expect((await readCircuit(table(), { source: SOURCE, destination: 'billing' })).state).toBe('paused');
    const last = auditLines().at(-1);
    expect(last).toEqual({ at: NOW.toISOString(), who: userInfo().username, action: 'pause', keys: ['stripe/billing'], reason: 'billing API down, INC-42', host: expect.any(String) });

    const status = await run(['status', ...L], deps());
    expect(status.out).toMatch(/^stripe\/billing\s+paused \(manual since 2026-12-01T12:00:00.000Z\)/m);

    const resumed = await run(['destinations', 'resume', 'stripe/billing', '--reason', 'fixed', ...L, '--json'], deps());
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.out)).toEqual(expect.objectContaining({ destination: 'stripe/billing', action: 'resume', before: expect.objectContaining({ state: 'paused', reason: 'manual' }), audit: expect.objectContaining({ action: 'resume', reason: 'fixed' }) }));
    expect((await readCircuit(table(), { source: SOURCE, destination: 'billing' })).state).toBe('closed');
  });

  it('refuses to pause when the audit record cannot be written, and leaves the destination as it was (no bypass)', async () => {
    const r = await run(['destinations', 'pause', 'stripe/billing', '--reason', 'test', '--local', '--port', String(BROKEN_AUDIT_PORT)], deps());
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe('hookgate: the audit record could not be written, so nothing was done (ENOENT)\n');
    expect((await readCircuit(table(), { source: SOURCE, destination: 'billing' })).state).toBe('closed');
  });
});

describe('dlq list', () => {
  it('lists metadata of every message, never a body, and leaves them in the DLQ', async () => {
    for (const id of ['evt_d1', 'evt_d2', 'evt_d3']) await sendEvent(emulators.sqs, billing.dlqUrl, id);
    const r = await run(['dlq', 'list', '--source', 'stripe', '--destination', 'billing', ...L], deps());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^MESSAGE ID\s+DEDUPE KEY\s+EVENT TYPE\s+RECEIVED AT\s+RECEIVES\s+BYTES\s+REASON$/m);
    for (const id of ['evt_d1', 'evt_d2', 'evt_d3']) expect(r.out).toMatch(new RegExp(`stripe:${id}\\s+invoice.paid\\s+2026-12-01T09:59:59.000Z\\s+1\\s+\\d+\\s+-$`, 'm'));
    expect(r.out).toContain('3 message(s)\n');
    expect(r.out).not.toContain('PHI-MARKER');
    expect(await depth(billing.dlqUrl)).toBe(3);
    // Visible again at once: a second list sees them all.
    const json = await run(['dlq', 'list', '--source', 'stripe', '--destination', 'billing', ...L, '--json'], deps());
    const parsed = JSON.parse(json.out) as { dlq: string; messages: { dedupeKey: string; receiveCount: number }[] };
    expect(parsed.dlq).toBe('stripe/billing');
    expect(parsed.messages.map((m) => m.dedupeKey).sort()).toEqual(['stripe:evt_d1', 'stripe:evt_d2', 'stripe:evt_d3']);
    expect(json.out).not.toContain('PHI-MARKER');
  });

  it('an empty DLQ says so and exits 0', async () => {
    const r = await run(['dlq', 'list', '--source', 'github', ...L], deps());
    expect(r).toEqual({ code: 0, out: 'the DLQ of github is empty\n', err: '' });
    const json = await run(['dlq', 'list', '--source', 'github', ...L, '--json'], deps());
    expect(JSON.parse(json.out)).toEqual({ dlq: 'github', messages: [] });
  });
});

describe('dlq show', () => {
  it('shows one message by dedupe key with its attempts at that destination, never a body, and leaves it in the DLQ', async () => {
    const history = createHistoryStore({ client: emulators.dynamodb, tableName: TABLE, days: 30 });
    await history.record({ dedupeKey: 'stripe:evt_d2', source: SOURCE, destination: 'billing', attempt: 1, at: '2026-12-01T10:00:00.000Z', statusCode: 400, latencyMs: 90, verdict: 'reject' });
    const r = await run(['dlq', 'show', 'stripe:evt_d2', '--source', 'stripe', '--destination', 'billing', ...L], deps());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^dedupe key\s+stripe:evt_d2$/m);
    expect(r.out).toMatch(/^event type\s+invoice.paid$/m);
    expect(r.out).toMatch(/^1\s+2026-12-01T10:00:00.000Z\s+reject\s+400\s+90/m);
    expect(r.out).not.toContain('stripe:evt_d1');
    expect(r.out).not.toContain('PHI-MARKER');
    expect(await depth(billing.dlqUrl)).toBe(3);
    const json = JSON.parse((await run(['dlq', 'show', 'stripe:evt_d2', '--source', 'stripe', '--destination', 'billing', ...L, '--json'], deps())).out) as { dlq: string; messages: { messageId: string }[]; attempts: { verdict: string }[] };
    expect(json.dlq).toBe('stripe/billing');
    expect(json.attempts.map((a) => a.verdict)).toEqual(['reject']);
    // The same message by its SQS message id.
    const byId = await run(['dlq', 'show', json.messages[0]?.messageId as string, '--source', 'stripe', '--destination', 'billing', ...L], deps());
    expect(byId.out).toMatch(/^dedupe key\s+stripe:evt_d2$/m);
  });

  it('an id that is not in the DLQ is one line on stderr and exit 1', async () => {
    const r = await run(['dlq', 'show', 'stripe:evt_nope', '--source', 'stripe', '--destination', 'billing', ...L], deps());
    expect(r).toEqual({ code: 1, out: '', err: 'hookgate: stripe:evt_nope is not in the DLQ of stripe/billing (no message id or dedupe key matches; hookgate dlq list shows what is there)\n' });
    expect((await run(['dlq', 'show', '--source', 'stripe', ...L], deps())).code).toBe(2);
  });
});

describe('dlq redrive', () => {
  it('is refused with nothing moved when the audit record cannot be written', async () => {
    const r = await run(['dlq', 'redrive', '--source', 'stripe', '--destination', 'billing', '--reason', 'x', '--local', '--port', String(BROKEN_AUDIT_PORT)], deps());
    expect(r.code).toBe(1);
    expect(await depth(billing.dlqUrl)).toBe(3);
  });

  it('moves every message back to its queue (by hand locally), audited', async () => {
    const before = await depth(billing.queueUrl);
    const r = await run(['dlq', 'redrive', '--source', 'stripe', '--destination', 'billing', '--reason', 'billing fixed', ...L], deps());
    expect(r.code).toBe(0);
    expect(r.out).toBe('moved 3 message(s) from the DLQ of stripe/billing back to its queue (receive, send, delete (the local emulator has no message move task))\n');
    expect(await depth(billing.dlqUrl)).toBe(0);
    expect(await depth(billing.queueUrl)).toBe(before + 3);
    expect(auditLines().at(-1)).toEqual(expect.objectContaining({ action: 'redrive', keys: ['dlq:stripe/billing'], reason: 'billing fixed' }));
    const again = await run(['dlq', 'redrive', '--source', 'stripe', '--destination', 'billing', '--reason', 'again', ...L], deps());
    expect(again.out).toBe('the DLQ of stripe/billing was empty: nothing moved\n');
  });
});

describe('audit list', () => {
  it('prints the records as a table and as JSON', async () => {
    const r = await run(['audit', 'list', ...L], deps());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^AT\s+WHO\s+ACTION\s+KEYS\s+REASON\s+HOST$/m);
    expect(r.out).toMatch(new RegExp(`^2026-12-01T12:00:00.000Z\\s+${userInfo().username}\\s+pause\\s+stripe/billing\\s+billing API down, INC-42`, 'm'));
    const json = JSON.parse((await run(['audit', 'list', ...L, '--json'], deps())).out) as { log: string; records: AuditRecord[] };
    expect(json.log).toBe(`file:${state.auditFile}`);
    expect(json.records.map((x) => x.action)).toEqual(['pause', 'resume', 'redrive', 'redrive']);
  });

  it('filters by --since and --who; nothing found says so and exits 0', async () => {
    const later = await run(['audit', 'list', '--since', '2026-12-01T12:00:01Z', ...L], deps());
    expect(later).toEqual({ code: 0, out: 'no audit records since 2026-12-01T12:00:01.000Z\n', err: '' });
    const nobody = await run(['audit', 'list', '--who', 'nobody-such', '--since', '1h', ...L], deps());
    expect(nobody.out).toBe('no audit records since 2026-12-01T11:00:00.000Z by nobody-such\n');
    const mine = JSON.parse((await run(['audit', 'list', '--who', userInfo().username, ...L, '--json'], deps())).out) as { records: AuditRecord[] };
    expect(mine.records).toHaveLength(4);
  });

  it('the local file is JSON lines, owner-only (0600)', () => {
    expect(statSync(state.auditFile).mode & 0o777).toBe(0o600);
    const lines = readFileSync(state.auditFile, 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    for (const line of lines.filter(Boolean)) expect(Object.keys(JSON.parse(line) as object).sort()).toEqual(['action', 'at', 'host', 'keys', 'reason', 'who']);
  });
});

describe('events attempts', () => {
  it("prints an event's attempts as a table and JSON", async () => {
    const history = createHistoryStore({ client: emulators.dynamodb, tableName: TABLE, days: 30 });
    await history.record({ dedupeKey: 'stripe:evt_a', source: SOURCE, destination: 'billing', attempt: 1, at: '2026-12-01T10:00:00.000Z', statusCode: 503, latencyMs: 120, verdict: 'retry' });
    await history.record({ dedupeKey: 'stripe:evt_a', source: SOURCE, destination: 'billing', attempt: 2, at: '2026-12-01T10:01:00.000Z', statusCode: 200, latencyMs: 80, verdict: 'delivered' });
    const r = await run(['events', 'attempts', 'stripe:evt_a', ...L], deps());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^DESTINATION\s+ATTEMPT\s+AT\s+VERDICT\s+STATUS\s+MS\s+ERROR\s+REPLAY$/m);
    expect(r.out).toMatch(/^billing\s+1\s+2026-12-01T10:00:00.000Z\s+retry\s+503\s+120\s+-\s+-$/m);
    expect(r.out).toMatch(/^billing\s+2\s+2026-12-01T10:01:00.000Z\s+delivered\s+200\s+80\s+-\s+-$/m);
    const json = JSON.parse((await run(['events', 'attempts', 'stripe:evt_a', ...L, '--json'], deps())).out) as { key: string; attempts: { attempt: number }[] };
    expect(json.key).toBe('stripe:evt_a');
    expect(json.attempts.map((a) => a.attempt)).toEqual([1, 2]);
  });

  it('an event with no attempts says so and exits 0', async () => {
    const r = await run(['events', 'attempts', 'stripe:evt_none', ...L], deps());
    expect(r).toEqual({ code: 0, out: 'no delivery attempts recorded for stripe:evt_none\n', err: '' });
  });
});
