import { namedSource, type SourceConfigInput } from '../../lambda/config/schema';
import { parseConfig } from '../../lib/config-file';
import type { EventHandler, WebhookEvent } from '../../lambda/processor/api';
import { signRequest } from '../../lambda/signatures/sign';
import { type LocalApp, startLocal } from '../../local/app';
import { jsonBody } from './providers';

/**
 * Replays of captured requests through the real local path (HTTP server, verifier, dedupe table,
 * queue, processor). GitHub and Shopify sign neither their delivery id nor their event type, so
 * a captured request re-sent under a fresh id must be a duplicate of the original. Under another
 * type it is a new event (a provider may send one body under two topics), which processors see
 * as unsigned; Stripe's type, inside the signed body, is signed.
 */

interface Row {
  readonly name: string;
  readonly source: SourceConfigInput & { readonly secrets: readonly string[] };
  readonly idHeader: string;
  readonly typeHeader: string;
  readonly type: string;
  readonly forgedType: string;
}

const ROWS: readonly Row[] = [
  { name: 'github', source: { provider: 'github', secrets: ['replay-github-secret'] }, idHeader: 'X-GitHub-Delivery', typeHeader: 'X-GitHub-Event', type: 'issues', forgedType: 'repository_vulnerability_alert' },
  { name: 'shopify', source: { provider: 'shopify', secrets: ['replay-shopify-secret'] }, idHeader: 'X-Shopify-Webhook-Id', typeHeader: 'X-Shopify-Topic', type: 'orders/create', forgedType: 'customers/redact' },
];
const STRIPE = { provider: 'stripe', secrets: ['whsec_replay_stripe'] } as const;

interface Reply {
  readonly status: number;
  readonly id?: string;
  readonly outcome?: string;
}

let app: LocalApp;
const processed: WebhookEvent[] = [];
const record: EventHandler = (event) => void processed.push(event);

async function post(source: string, headers: Record<string, string>, body: Buffer): Promise<Reply> {
  const res = await fetch(`${app.url}/webhooks/${source}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
  const json = (await res.json()) as { id?: string; status?: string };
  return { status: res.status, id: json.id, outcome: json.status };
}

/** Headers the provider would send for `body` now, with its delivery id and type. */
function signedHeaders(row: Row, body: Buffer, id: string, type: string): Record<string, string> {
  const source = namedSource({ ...row.source, name: row.name });
  const signed = signRequest(source, row.source.secrets[0] as string, body, { now: Date.now(), url: `${app.url}/webhooks/${row.name}`, eventId: id });
  return { ...signed.headers, [row.typeHeader]: type };
}

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the processor');
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface RowRun {
  readonly original: Reply;
  readonly replay: Reply;
  readonly otherType: Reply;
  readonly sameId: Reply;
  readonly newId: Reply;
}

const runs = new Map<string, RowRun>();

beforeAll(async () => {
  const sources = Object.fromEntries([...ROWS.map((row) => [row.name, row.source]), ['stripe', STRIPE]]);
  app = await startLocal({
    config: parseConfig({ sources }, 'test'),
    port: 0,
    routes: { '*': { '*': record } },
    visibilityTimeoutSeconds: 1,
    waitTimeSeconds: 1,
    logger: () => ({ info: () => undefined, warn: () => undefined, error: () => undefined }),
  });
  await Promise.all(
    ROWS.map(async (row) => {
      const body = jsonBody({ id: 820982911, email: 'jon@example.com', total_price: '19.99', event: row.type });
      const captured = signedHeaders(row, body, 'delivery-1', row.type);
      const original = await post(row.name, captured, body);
      // The attacker's copy: the captured signature and body under a fresh id.
      const replay = await post(row.name, { ...captured, [row.idHeader]: 'delivery-2' }, body);
      // The same bytes under another type: a genuine second topic, or a forged one.
      const otherType = await post(row.name, { ...captured, [row.idHeader]: 'delivery-4', [row.typeHeader]: row.forgedType }, body);
      // The provider's own redeliveries: the same bytes signed again, under the same or a new id.
      const sameId = await post(row.name, signedHeaders(row, body, 'delivery-1', row.type), body);
      const newId = await post(row.name, signedHeaders(row, body, 'delivery-3', row.type), body);
      runs.set(row.name, { original, replay, otherType, sameId, newId });
    }),
  );
  const stripeBody = jsonBody({ id: 'evt_replay_1', object: 'event', type: 'charge.refunded' });
  const stripeSigned = signRequest(namedSource({ ...STRIPE, secrets: [...STRIPE.secrets], name: 'stripe' }), STRIPE.secrets[0], stripeBody, { now: Date.now(), url: `${app.url}/webhooks/stripe` });
  expect((await post('stripe', stripeSigned.headers, stripeBody)).outcome).toBe('accepted');
  await until(() => processed.length >= 2 * ROWS.length + 1);
  // One more visibility timeout: a second processing of anything would show by then.
  await new Promise((r) => setTimeout(r, 1500));
}, 60_000);

afterAll(async () => {
  await app?.stop();
});

describe.each(ROWS.map((row) => [row.name, row] as const))('replays, provider %s', (name, row) => {
  it('answers a captured request re-sent under a new id as a duplicate of the original', () => {
    const { original, replay } = runs.get(name) as RowRun;

    expect(original).toMatchObject({ status: 200, outcome: 'accepted' });
    expect(replay).toEqual({ status: 200, id: original.id, outcome: 'duplicate' });
  });

  it('accepts the same bytes under another type as another event, never losing a second genuine topic', () => {
    const { original, otherType } = runs.get(name) as RowRun;

    expect(otherType).toMatchObject({ status: 200, outcome: 'accepted' });
    expect(otherType.id).not.toBe(original.id);
  });

  it('answers the provider\'s redeliveries, under the same id or a new one, as duplicates', () => {
    const { original, sameId, newId } = runs.get(name) as RowRun;

    expect(sameId).toEqual({ status: 200, id: original.id, outcome: 'duplicate' });
    expect(newId).toEqual({ status: 200, id: original.id, outcome: 'duplicate' });
  });

  it('processes each type once, both marked unsigned, under the ids they first came with', () => {
    const events = processed.filter((e) => e.source === name).sort((a, b) => (a.eventId ?? '').localeCompare(b.eventId ?? ''));

    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ eventType: row.type, typeSigned: false, eventId: 'delivery-1', dedupeKey: runs.get(name)?.original.id });
    expect(events[1]).toMatchObject({ eventType: row.forgedType, typeSigned: false, eventId: 'delivery-4', dedupeKey: runs.get(name)?.otherType.id });
  });
});

describe('replays, a provider that signs its type', () => {
  it('hands processors Stripe\'s type as signed', () => {
    expect(processed.filter((e) => e.source === 'stripe').map((e) => [e.eventType, e.typeSigned])).toEqual([['charge.refunded', true]]);
  });
});
