import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import type { AuditRecord } from '../../cli/audit';
import type { DestinationConfigInput } from '../../lambda/config/destinations';
import { namedSource } from '../../lambda/config/schema';
import { webhookIdOf } from '../../lambda/delivery/contract';
import { signRequest } from '../../lambda/signatures/sign';
import { parseConfig } from '../../lib/config-file';
import { type LocalApp, startLocal } from '../../local/app';
import { readLocalState } from '../../local/state';
import { run } from '../cli/harness';
import { PROVIDER_ROWS, type ProviderRow } from './providers';

/**
 * The recovery scenario end to end, in local mode on the emulators, through the real
 * `hookgate` command against the app's state file: 50 signed events over two sources (stripe,
 * github), each with an http destination to a local receiver; github's `tracker` is broken
 * (answers 400, so its events end `failed`, in its DLQ). On-call lists the failed events by time
 * range, fixes the receiver and replays the range to that destination: every event reaches it
 * exactly once more, byte-identical, with its replay id and the same `webhook-id`; the healthy
 * destinations get nothing again; the audit log holds one `replay` record per key.
 */

const SIGNING = 'whsec_ZTJlLXJlY292ZXJ5LXNpZ25pbmctc2VjcmV0';
const PER_SOURCE = 25;
const WAIT_MS = 20_000;

/** One request a receiver path got. */
interface Received {
  readonly path: string;
  readonly body: Buffer;
  readonly headers: IncomingHttpHeaders;
  /** Its Standard Webhooks signature verified with the reference library. */
  readonly verified: boolean;
}

let app: LocalApp;
let receiver: Server;
let cwd: string;
let since: string;
/** Whether the tracker receiver is broken (answers 400) right now. */
let trackerBroken = true;
const received: Received[] = [];
/** What was sent per source: dedupe key and body. */
const sent = new Map<string, { key: string; body: Buffer }[]>();

const ROWS = ['stripe', 'github'].map((name) => PROVIDER_ROWS.find((r) => r.name === name) as ProviderRow);

function verified(body: Buffer, headers: IncomingHttpHeaders): boolean {
  try {
    const strings = Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => typeof e[1] === 'string'));
    new Webhook(SIGNING).verify(body.toString('utf8'), strings);
    return true;
  } catch {
    return false;
  }
}

async function startReceiver(): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = request.url ?? '/';
      received.push({ path, body, headers: request.headers, verified: verified(body, request.headers) });
      response.writeHead(path === '/tracker' && trackerBroken ? 400 : 200).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return server;
}

/** Sends one signed event like its provider (retrying a 5xx); records its dedupe key and body. */
async function send(row: ProviderRow, seq: number): Promise<void> {
  const event = row.event(seq, `PHI-MARKER-${seq}`);
  const source = namedSource({ ...row.source, name: row.name });
  for (let attempt = 1; ; attempt += 1) {
    const signed = signRequest(source, row.source.secrets[0] as string, event.body, { now: Date.now(), url: `${app.url}/webhooks/${row.name}`, ...(event.eventId === undefined ? {} : { eventId: event.eventId }) });
    const res = await fetch(signed.url, { method: 'POST', headers: { 'Content-Type': row.contentType, ...(event.headers ?? {}), ...signed.headers }, body: event.body });
    const json = (await res.json()) as { id?: string; status?: string };
    if (res.status === 200 && json.status === 'accepted' && json.id !== undefined) {
      sent.set(row.name, [...(sent.get(row.name) ?? []), { key: json.id, body: event.body }]);
      return;
    }
    if (attempt === 8) throw new Error(`${row.name} answered ${res.status}`);
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `hookgate <args> --local --port <the app's>` run in-process from the checkout folder. */
const hookgate = (...args: string[]) => run([...args, '--local', '--port', String(app.port)], { cwd });
const at = (path: string): Received[] => received.filter((r) => r.path === path);
const keysOf = (source: string): string[] => (sent.get(source) ?? []).map((s) => s.key).sort();

/** The keys `events list` shows as failed at a destination, in the range. */
async function failedAt(source: string, destination: string): Promise<string[]> {
  const r = await hookgate('events', 'list', '--source', source, '--since', since, '--status', 'failed', '--destination', destination, '--json');
  expect(r.code).toBe(0);
  return (JSON.parse(r.out) as { events: { key: string }[] }).events.map((e) => e.key).sort();
}

const FAST = { backoffBaseSeconds: 1, maxBackoffSeconds: 2, retryWindowHours: 1, timeoutSeconds: 5, batchSize: 10 } as const;
const http = (path: string): DestinationConfigInput => ({ type: 'http', url: `${receiverUrl()}${path}`, secrets: [SIGNING], ...FAST }) as DestinationConfigInput;
const receiverUrl = (): string => `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

let replayed: { key: string; replayId: string; sentTo: string[] }[];
let replayRun: Awaited<ReturnType<typeof hookgate>>;

beforeAll(async () => {
  receiver = await startReceiver();
  cwd = mkdtempSync(join(tmpdir(), 'hookgate-recovery-'));
  since = new Date(Date.now() - 60_000).toISOString();
  const destinations: Record<string, Record<string, DestinationConfigInput>> = { stripe: { ledger: http('/ledger') }, github: { tracker: http('/tracker'), mirror: http('/mirror') } };
  app = await startLocal({
    config: parseConfig({ sources: Object.fromEntries(ROWS.map((row) => [row.name, { ...row.source, destinations: destinations[row.name] }])) }, 'test'),
    port: 0,
    visibilityTimeoutSeconds: 1,
    waitTimeSeconds: 1,
    stateDir: join(cwd, '.hookgate'),
    logger: () => ({ info: () => undefined, warn: () => undefined, error: () => undefined }) as never,
  });
  await Promise.all(ROWS.flatMap((row) => Array.from({ length: PER_SOURCE }, (_, i) => send(row, i + 1))));

  // The originals: delivered to ledger and mirror, refused for good by the broken tracker.
  await until(() => at('/ledger').length >= PER_SOURCE && at('/mirror').length >= PER_SOURCE && at('/tracker').length >= PER_SOURCE, 'the first deliveries');
  await until(async () => (await failedAt('github', 'tracker')).length === PER_SOURCE, 'the tracker failures in the delivery history');

  // Fixed: on-call replays the failed range to the tracker.
  trackerBroken = false;
  replayRun = await hookgate('replay', '--source', 'github', '--since', since, '--destination', 'tracker', '--status', 'failed', '--rate', '50', '--yes', '--reason', 'tracker was down: INC-7', '--json');
  replayed = (JSON.parse(replayRun.out) as { replayed: typeof replayed }).replayed;
  await until(() => at('/tracker').length >= 2 * PER_SOURCE, 'the replayed deliveries');
  // One more visibility timeout and poll: a second delivery of anything would show by then.
  await new Promise((r) => setTimeout(r, 1500));
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await new Promise((r) => receiver?.close(r));
  if (cwd !== undefined) rmSync(cwd, { recursive: true, force: true });
});

describe('recovering a broken destination by time range', () => {
  it('lists the tracker\'s failed events by time range: every github event, and no other destination\'s', async () => {
    expect(keysOf('github')).toHaveLength(PER_SOURCE);
    expect(keysOf('stripe')).toHaveLength(PER_SOURCE);
    expect(await failedAt('stripe', 'ledger')).toEqual([]);
    expect(await failedAt('github', 'mirror')).toEqual([]);
  });

  it('the replay of the range sends every failed event, once, to the tracker only, and exits 0', () => {
    expect(replayRun.code).toBe(0);
    expect(replayed.map((o) => o.key).sort()).toEqual(keysOf('github'));
    expect(replayed.every((o) => o.sentTo.length === 1 && o.sentTo[0] === 'tracker')).toBe(true);
    expect(replayRun.err).toContain(`about to replay ${PER_SOURCE} events of github`);
  });

  it('every event reaches the tracker exactly once more, byte-identical, with its replay id and the same webhook-id, signed', () => {
    for (const { key, body } of sent.get('github') ?? []) {
      const requests = at('/tracker').filter((r) => r.headers['webhook-id'] === webhookIdOf(key));
      expect(requests).toHaveLength(2);
      const [original, again] = requests as [Received, Received];
      expect(original.headers['hookgate-replay']).toBeUndefined();
      expect(again.headers['hookgate-replay']).toBe(replayed.find((o) => o.key === key)?.replayId);
      expect(again.body.equals(body)).toBe(true);
      expect(again.body.equals(original.body)).toBe(true);
      expect(again.verified).toBe(true);
    }
  });

  it('re-sends nothing to the healthy destinations', () => {
    for (const [path, source] of [['/ledger', 'stripe'], ['/mirror', 'github']] as const) {
      expect(at(path).filter((r) => r.headers['hookgate-replay'] !== undefined)).toEqual([]);
      expect(at(path).map((r) => r.headers['webhook-id']).sort()).toEqual(keysOf(source).map(webhookIdOf).sort());
    }
  });

  it('the tracker shows no failed event any more', async () => {
    expect(await failedAt('github', 'tracker')).toEqual([]);
  });

  it('the audit file holds exactly one replay record per key, with its replay id and the reason, and no body', () => {
    const state = readLocalState(app.statePath ?? '');
    const records = readFileSync(state.auditFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
    expect(records.every((r) => r.action === 'replay' && r.reason === 'tracker was down: INC-7' && r.keys.length === 1)).toBe(true);
    expect(records.map((r) => r.keys[0]).sort()).toEqual(keysOf('github'));
    expect(records.map((r) => [r.keys[0], r.replayId]).sort()).toEqual(replayed.map((o) => [o.key, o.replayId]).sort());
    expect(JSON.stringify(records)).not.toContain('PHI-MARKER');
  });
});
