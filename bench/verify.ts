/**
 * How much verification costs on top of the HMAC every scheme must compute anyway: for each
 * provider and two body sizes, `verifyWebhook` against a bare `createHmac(alg, key).update(body)
 * .digest()` over the same bytes, measured interleaved in the same run so that both see the same
 * machine state. Then what refusing a forged request costs (well-formed headers signed with the
 * wrong secret, a body of the source's maxBodyBytes): the work anyone can make the verifier do
 * without knowing the secret. Run alone with `npx tsx bench/verify.ts`.
 */
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type NamedSource, type NamedSourceInput, namedSource } from '../lambda/config/schema';
import { verifyWebhook } from '../lambda/signatures';
import type { HashAlgorithm } from '../lambda/signatures/hmac-digest';
import { signRequest } from '../lambda/signatures/sign';
import { MAX_FORM_PARAMS } from '../lambda/signatures/providers/twilio';
import type { VerifyContext, WebhookRequest } from '../lambda/signatures/types';
import { median } from './stats';

/** One measured case. Times are medians of per-call microseconds. */
export interface Row {
  /** `verify`: a signed request accepted; `reject`: a forged one of the source's maxBodyBytes refused. */
  readonly kind: 'verify' | 'reject';
  readonly provider: string;
  readonly bytes: number;
  readonly verifyMicros: number;
  readonly hmacMicros: number;
  /** Median over rounds of verify / bare HMAC, each pair measured back to back. */
  readonly ratio: number;
  readonly note?: string;
}

interface Case {
  readonly label: string;
  readonly source: NamedSource;
  readonly secret: string;
  /** The key and algorithm of the bare HMAC it is compared with. */
  readonly key: string | Buffer;
  readonly algorithm: HashAlgorithm;
  readonly body: (bytes: number) => Buffer;
  readonly eventId?: string;
  readonly note?: string;
}

/** A JSON event of about `bytes` bytes carrying the ids Stripe and Slack dedupe on. */
function jsonBody(bytes: number): Buffer {
  const head = '{"id":"evt_bench","event_id":"Ev_bench","type":"event_callback","event":{"type":"message"},"data":"';
  return Buffer.from(`${head}${'x'.repeat(Math.max(0, bytes - head.length - 2))}"}`, 'utf8');
}

/** A Stripe event of about `bytes` bytes, in Stripe's key order (`id` first, `type` last). */
function stripeBody(bytes: number): Buffer {
  const head = '{\n  "id": "evt_bench",\n  "object": "event",\n  "api_version": "2024-06-20",\n  "created": 1795435668,\n  "data": {\n    "object": {\n      "description": "';
  const tail = '"\n    }\n  },\n  "livemode": false,\n  "pending_webhooks": 1,\n  "request": {\n    "id": null,\n    "idempotency_key": null\n  },\n  "type": "payment_intent.succeeded"\n}';
  return Buffer.from(`${head}${'x'.repeat(Math.max(0, bytes - head.length - tail.length))}${tail}`, 'utf8');
}

/** A form of about `bytes` bytes, as Twilio posts. */
function formBody(bytes: number): Buffer {
  const head = 'AccountSid=AC123&From=%2B15550001111&To=%2B15550002222&Body=';
  return Buffer.from(`${head}${'x'.repeat(Math.max(0, bytes - head.length))}`, 'utf8');
}

/**
 * The costliest form the Twilio verifier still decodes and sorts: {@link MAX_FORM_PARAMS}
 * parameters filling `bytes`, every value percent-escaped (decoding is the slow part), names in
 * reverse order (the sort has work to do).
 */
function widestFormBody(bytes: number): Buffer {
  const valueChars = Math.max(0, Math.floor((bytes - MAX_FORM_PARAMS * 9) / MAX_FORM_PARAMS / 3));
  const value = '%C3%A9'.repeat(Math.floor(valueChars / 2));
  const pairs = Array.from({ length: MAX_FORM_PARAMS }, (_, i) => `p${String(MAX_FORM_PARAMS - i).padStart(4, '0')}=${value}`);
  const body = pairs.join('&');
  return Buffer.from(body.padEnd(bytes, 'x').slice(0, bytes), 'utf8');
}

/** A form of tiny parameters, `a=1&` repeated to `bytes`: refused by counting, never decoded. */
function manyParamsFormBody(bytes: number): Buffer {
  return Buffer.from('a=1&'.repeat(Math.ceil(bytes / 4)).slice(0, bytes), 'utf8');
}

const STANDARD_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** A source as a config gives it, defaults applied; the secret values travel in the verify context. */
const source = (input: NamedSourceInput): NamedSource => namedSource({ secretName: `hookgate/bench/${input.name}`, ...input });

const CASES: readonly Case[] = [
  { label: 'stripe', source: source({ name: 'stripe', provider: 'stripe' }), secret: 'whsec_bench', key: 'whsec_bench', algorithm: 'sha256', body: stripeBody, note: 'id and type read at the body edges (Stripe layout), no parse' },
  { label: 'twilio (json)', source: source({ name: 'twilio', provider: 'twilio' }), secret: 'token', key: 'token', algorithm: 'sha1', body: jsonBody, eventId: 'idem-1', note: 'SHA-256 of the body for bodySHA256, HMAC-SHA1 over the URL' },
  { label: 'twilio (form)', source: source({ name: 'twilio', provider: 'twilio' }), secret: 'token', key: 'token', algorithm: 'sha1', body: formBody, eventId: 'idem-1', note: 'decodes and sorts the form parameters' },
  { label: 'meta', source: source({ name: 'whatsapp', provider: 'meta' }), secret: 'app', key: 'app', algorithm: 'sha256', body: jsonBody, note: 'no delivery id: the dedupe key reuses the signature digest' },
  { label: 'github', source: source({ name: 'github', provider: 'github' }), secret: 'gh', key: 'gh', algorithm: 'sha256', body: jsonBody, eventId: 'delivery-1' },
  { label: 'shopify', source: source({ name: 'shopify', provider: 'shopify' }), secret: 'shp', key: 'shp', algorithm: 'sha256', body: jsonBody, eventId: 'webhook-1' },
  { label: 'slack', source: source({ name: 'slack', provider: 'slack' }), secret: 'slack', key: 'slack', algorithm: 'sha256', body: jsonBody, note: 'parses the JSON body for event_id' },
  { label: 'standard', source: source({ name: 'svix', provider: 'standard' }), secret: STANDARD_SECRET, key: Buffer.from(STANDARD_SECRET.slice(6), 'base64'), algorithm: 'sha256', body: jsonBody, eventId: 'msg_1' },
  { label: 'zoho', source: source({ name: 'zoho', provider: 'zoho' }), secret: 'zoho', key: 'zoho', algorithm: 'sha256', body: jsonBody, note: 'signed t.body, so the keyed body hash for dedupe is a second pass' },
  { label: 'hmac (sha256, id header)', source: source({ name: 'partner', provider: 'hmac', hmac: { header: 'x-sig', timestampHeader: 'x-ts', idHeader: 'x-id' } }), secret: 'p', key: 'p', algorithm: 'sha256', body: jsonBody, eventId: 'd-1' },
];

/** Rejection cases beyond one per CASES entry: the Twilio form bodies that cost most to refuse. */
const REJECT_EXTRA: readonly Case[] = [
  { label: 'twilio (form, 256 escaped params)', source: source({ name: 'twilio', provider: 'twilio' }), secret: 'token', key: 'token', algorithm: 'sha1', body: widestFormBody, note: 'the most parameters decoded and sorted before the signature check' },
  { label: 'twilio (form, tiny params)', source: source({ name: 'twilio', provider: 'twilio' }), secret: 'token', key: 'token', algorithm: 'sha1', body: manyParamsFormBody, note: 'over 256 parameters: refused by counting separators' },
];

const SIZES = [2 * 1024, 256 * 1024];
const ROUNDS = 41;

/** Microseconds per call of `run`, over one batch. */
function timeBatch(run: () => unknown, calls: number): number {
  const start = performance.now();
  for (let i = 0; i < calls; i++) run();
  return ((performance.now() - start) * 1000) / calls;
}

/** A Standard secret that is not the source's, so its signature is well-formed and wrong. */
const FORGER_STANDARD_SECRET = `whsec_${Buffer.from('forger-key-of-twenty-four-b').toString('base64')}`;

function measure(benchCase: Case, bytes: number, kind: Row['kind'] = 'verify'): Row {
  const now = Date.now();
  const body = benchCase.body(bytes);
  // A forger knows everything but the secret: the request is signed with another one.
  const signingSecret = kind === 'verify' ? benchCase.secret : benchCase.source.provider === 'standard' ? FORGER_STANDARD_SECRET : `${benchCase.secret}-forged`;
  const signed = signRequest(benchCase.source, signingSecret, body, {
    now,
    url: `https://hooks.example.com/webhooks/${benchCase.source.name}`,
    ...(benchCase.eventId === undefined ? {} : { eventId: benchCase.eventId }),
  });
  const request: WebhookRequest = { method: 'POST', url: signed.url, headers: signed.headers, body };
  const context: VerifyContext = { source: benchCase.source, secrets: { secrets: [benchCase.secret] }, now };
  const outcome = verifyWebhook(request, context);
  if (kind === 'verify' && outcome.kind !== 'accepted') throw new Error(`${benchCase.label}: the signed request does not verify`);
  if (kind === 'reject' && outcome.kind !== 'rejected') throw new Error(`${benchCase.label}: the forged request is not refused`);
  const verify = () => verifyWebhook(request, context);
  const bare = () => createHmac(benchCase.algorithm, benchCase.key).update(body).digest();
  // About 10 ms per batch whatever the size, so that timer resolution does not matter.
  const calls = Math.max(5, Math.round(1_000_000 / Math.max(bytes, 8 * 1024)));
  for (let i = 0; i < 3; i++) {
    timeBatch(verify, calls);
    timeBatch(bare, calls);
  }
  const verifyTimes: number[] = [];
  const bareTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so neither always runs on a warmer cache.
    if (round % 2 === 0) {
      verifyTimes.push(timeBatch(verify, calls));
      bareTimes.push(timeBatch(bare, calls));
    } else {
      bareTimes.push(timeBatch(bare, calls));
      verifyTimes.push(timeBatch(verify, calls));
    }
  }
  const verifyMicros = median(verifyTimes);
  const hmacMicros = median(bareTimes);
  const reason = outcome.kind === 'rejected' ? `refused ${outcome.reason}` : undefined;
  const note = [reason, benchCase.note].filter((part) => part !== undefined).join('; ');
  return {
    kind,
    provider: benchCase.label,
    bytes,
    verifyMicros,
    hmacMicros,
    // Paired per round: a load change on the machine moves both sides of a pair alike.
    ratio: median(verifyTimes.map((time, i) => time / (bareTimes[i] ?? Number.NaN))),
    ...(note === '' ? {} : { note }),
  };
}

/**
 * Refusing a forged request of the source's largest body (maxBodyBytes: 1 MiB by default, 64 KiB
 * for Twilio) for every provider, against a bare HMAC over the same bytes.
 */
export async function benchReject(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const benchCase of [...CASES, ...REJECT_EXTRA]) {
    rows.push(measure(benchCase, benchCase.source.maxBodyBytes, 'reject'));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return rows;
}

/** Measures every provider at 2 KB and 256 KB, then the refusals of forged maximum-size bodies. */
export async function benchVerify(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const benchCase of CASES) {
    for (const bytes of SIZES) {
      rows.push(measure(benchCase, bytes));
      // Let other work (and a caller's progress output) run between cases.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return [...rows, ...(await benchReject())];
}

/** The rows as a Markdown table. */
export function formatRows(rows: readonly Row[]): string {
  const lines = [`| provider | body | ${rows[0]?.kind === 'reject' ? 'refuse' : 'verify'} (µs) | bare HMAC (µs) | ratio | note |`, '| --- | ---: | ---: | ---: | ---: | --- |'];
  for (const row of rows) {
    const size = row.bytes >= 1024 ? `${row.bytes / 1024} KB` : `${row.bytes} B`;
    lines.push(`| ${row.provider} | ${size} | ${row.verifyMicros.toFixed(1)} | ${row.hmacMicros.toFixed(1)} | ${row.ratio.toFixed(2)}x | ${row.note ?? ''} |`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const started = Date.now();
  benchVerify()
    .then((rows) => {
      console.log(formatRows(rows.filter((row) => row.kind === 'verify')));
      console.log(`\n${formatRows(rows.filter((row) => row.kind === 'reject'))}`);
      console.log(`\nnode ${process.version}, ${ROUNDS} interleaved rounds per case, medians (ratio: median of paired rounds); ${((Date.now() - started) / 1000).toFixed(1)} s`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
