import { randomUUID } from 'node:crypto';
import type { SourceConfigInput } from '../../lambda/config/schema';

/**
 * The providers the end-to-end suite runs, as data: one row per provider. Every end-to-end test
 * runs for every row; adding a provider means adding a row (its signer comes from
 * `lambda/signatures/sign.ts`).
 */
export interface ProviderRow {
  /** Source name (URL path segment) and table label. */
  readonly name: string;
  /** The source as in a config file, with inline test secrets (the first one signs). */
  readonly source: SourceConfigInput & { readonly secrets: readonly string[] };
  readonly contentType: string;
  /**
   * A new event: `seq` makes it unique, `marker` goes somewhere in the body (the log check looks
   * for it; never in an id, since ids are logged), exactly `size` bytes when given.
   */
  event(seq: number, marker: string, size?: number): ProviderEvent;
}

/** One event as its provider would send it. */
export interface ProviderEvent {
  readonly body: Buffer;
  /** Delivery id for schemes that carry it in a header (signRequest puts it there). */
  readonly eventId?: string;
  /** Other headers the provider sends (event type and the like). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Pads `build('')` to exactly `size` bytes by growing its filler. */
function padded(build: (pad: string) => Buffer, size?: number): Buffer {
  const bare = build('');
  if (size === undefined) return bare;
  if (size < bare.length) throw new RangeError(`a body of ${size} bytes cannot hold the fields`);
  return build('x'.repeat(size - bare.length));
}

/**
 * A JSON body written by hand (odd spacing, non-ASCII, a trailing newline) so that any
 * parse-and-reserialize on the way would change the bytes; padded to `size` bytes when given.
 */
export function jsonBody(fields: Record<string, unknown>, size?: number): Buffer {
  const inner = Object.entries(fields).map(([k, v]) => `"${k}" :  ${JSON.stringify(v)}`).join(',\n  ');
  return padded((pad) => Buffer.from(`{ ${inner},\n  "note": "Zoë ✓ — naïve café", "pad": "${pad}" }\n`, 'utf8'), size);
}

/** A form body as Twilio sends it (keys sorted by nothing in particular, `+` for spaces). */
function formBody(fields: Record<string, string>, size?: number): Buffer {
  return padded((pad) => Buffer.from(new URLSearchParams({ ...fields, Note: 'Zoë ✓ naïve', Pad: pad }).toString(), 'utf8'), size);
}

const unique = (seq: number): string => `${seq}x${randomUUID().slice(0, 8)}`;
const now = (): number => Math.floor(Date.now() / 1000);

export const PROVIDER_ROWS: readonly ProviderRow[] = [
  {
    name: 'stripe',
    source: { provider: 'stripe', secrets: ['whsec_e2e_stripe_5b1d', 'whsec_e2e_stripe_old'] },
    contentType: 'application/json; charset=utf-8',
    event: (seq, marker, size) => ({
      body: jsonBody({ id: `evt_${unique(seq)}`, object: 'event', type: 'payment_intent.succeeded', created: now(), data: { object: { description: marker } } }, size),
    }),
  },
  {
    name: 'twilio',
    // Raised from Twilio's 64 KiB default: the pipeline sends every provider a 900 KiB body.
    source: { provider: 'twilio', secrets: ['e2e_twilio_auth_token_a41c'], maxBodyBytes: 1024 * 1024 },
    contentType: 'application/x-www-form-urlencoded',
    event: (seq, marker, size) => ({
      eventId: `idem-${unique(seq)}`,
      body: formBody({ AccountSid: 'AC00000000000000000000000000000000', MessageSid: `SM${unique(seq)}`, From: '+15555550100', Body: marker }, size),
    }),
  },
  {
    name: 'whatsapp',
    source: { provider: 'meta', secrets: ['e2e_meta_app_secret_9e02'], verifyToken: 'e2e_meta_verify_token_17' },
    contentType: 'application/json',
    event: (seq, marker, size) => ({
      body: jsonBody({ object: 'whatsapp_business_account', entry: [{ id: unique(seq), changes: [{ field: 'messages', value: { messages: [{ text: { body: marker } }] } }] }] }, size),
    }),
  },
  {
    name: 'github',
    source: { provider: 'github', secrets: ['e2e_github_secret_c3f7'] },
    contentType: 'application/json',
    event: (seq, marker, size) => ({
      eventId: randomUUID(),
      headers: { 'X-GitHub-Event': 'issues' },
      body: jsonBody({ action: 'opened', issue: { number: seq, body: marker } }, size),
    }),
  },
  {
    name: 'shopify',
    source: { provider: 'shopify', secrets: ['e2e_shopify_secret_08d2'] },
    contentType: 'application/json',
    event: (seq, marker, size) => ({
      eventId: randomUUID(),
      headers: { 'X-Shopify-Topic': 'orders/create' },
      body: jsonBody({ id: seq, note: marker, total_price: '19.99' }, size),
    }),
  },
  {
    name: 'slack',
    source: { provider: 'slack', secrets: ['e2e_slack_signing_secret_6a90'] },
    contentType: 'application/json',
    event: (seq, marker, size) => ({
      body: jsonBody({ type: 'event_callback', event_id: `Ev${unique(seq)}`, team_id: 'T0001', event: { type: 'message', text: marker } }, size),
    }),
  },
  {
    name: 'svix',
    source: { provider: 'standard', secrets: ['whsec_ZTJlLXN0YW5kYXJkLXdlYmhvb2tzLXNlY3JldC0zMmI='] },
    contentType: 'application/json',
    event: (seq, marker, size) => ({ eventId: `msg_${unique(seq)}`, body: jsonBody({ type: 'invoice.paid', data: { memo: marker } }, size) }),
  },
  {
    name: 'zoho-crm',
    source: { provider: 'zoho', secrets: ['e2e_zoho_key_51bb'] },
    contentType: 'application/json',
    event: (seq, marker, size) => ({ body: jsonBody({ module: 'Leads', operation: 'insert', ids: [unique(seq)], description: marker }, size) }),
  },
  {
    name: 'partner',
    source: {
      provider: 'hmac',
      secrets: ['e2e_partner_secret_e7a3'],
      hmac: { header: 'x-partner-signature', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=', timestampHeader: 'x-partner-timestamp', template: '{timestamp}.{body}', idHeader: 'x-partner-delivery' },
    },
    contentType: 'application/json',
    event: (seq, marker, size) => ({ eventId: `dlv_${unique(seq)}`, body: jsonBody({ type: 'order.created', seq, marker }, size) }),
  },
  {
    name: 'orders',
    source: { provider: 'token', secrets: ['e2e-orders-token-3f9a', 'e2e-orders-token-old'], header: 'X-Webhook-Token' },
    contentType: 'application/json',
    event: (seq, marker, size) => ({ body: jsonBody({ id: unique(seq), event: 'order.created', marker }, size) }),
  },
];
