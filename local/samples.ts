import { randomBytes, randomUUID } from 'node:crypto';
import type { NamedSource, ProviderName } from '../lambda/config/schema';

/**
 * Built-in sample webhooks for `npm run send`: one realistic body per provider, with fresh ids on
 * every call so each send is a new event (send a `--file` twice to see a duplicate).
 */

/** A sample request body and what goes with it. */
export interface Sample {
  readonly body: Buffer;
  readonly contentType: string;
  /** The provider's delivery id, for schemes that carry it in a header. */
  readonly eventId?: string;
  /** Headers the provider sends besides its signature (event type, shop...). */
  readonly headers?: Readonly<Record<string, string>>;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const alnum = (length: number): string => randomBytes(length).toString('base64url').replace(/[-_]/g, 'x').slice(0, length);
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

type Builder = (source: NamedSource, now: number) => Sample;

const BUILDERS: Record<ProviderName, Builder> = {
  stripe: (_s, now) => ({
    contentType: 'application/json; charset=utf-8',
    body: json({
      id: `evt_${alnum(24)}`,
      object: 'event',
      api_version: '2024-06-20',
      created: Math.floor(now / 1000),
      livemode: false,
      pending_webhooks: 1,
      request: { id: `req_${alnum(14)}`, idempotency_key: randomUUID() },
      type: 'payment_intent.succeeded',
      data: { object: { id: `pi_${alnum(24)}`, object: 'payment_intent', amount: 2000, currency: 'usd', status: 'succeeded' } },
    }),
  }),
  twilio: () => ({
    contentType: 'application/x-www-form-urlencoded',
    eventId: `${randomUUID()}-${hex(4)}`,
    body: Buffer.from(
      new URLSearchParams({
        AccountSid: `AC${hex(16)}`,
        ApiVersion: '2010-04-01',
        Body: 'Hello from hookgate local',
        From: '+15555550100',
        MessageSid: `SM${hex(16)}`,
        NumMedia: '0',
        SmsStatus: 'received',
        To: '+15555550199',
      }).toString(),
      'utf8',
    ),
  }),
  meta: (_s, now) => ({
    contentType: 'application/json',
    body: json({
      object: 'whatsapp_business_account',
      entry: [{
        id: '102290129340398',
        changes: [{
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15555550199', phone_number_id: '106540352242922' },
            messages: [{ from: '15555550100', id: `wamid.${alnum(40)}`, timestamp: String(Math.floor(now / 1000)), type: 'text', text: { body: 'Hello' } }],
          },
        }],
      }],
    }),
  }),
  github: () => ({
    contentType: 'application/json',
    eventId: randomUUID(),
    headers: { 'X-GitHub-Event': 'ping', 'X-GitHub-Hook-ID': '123456789', 'User-Agent': 'GitHub-Hookshot/local' },
    body: json({ zen: 'Keep it logically awesome.', hook_id: 123456789, hook: { type: 'Repository', id: 123456789, events: ['push'] }, repository: { id: 1296269, full_name: 'octo-org/octo-repo' } }),
  }),
  shopify: () => ({
    contentType: 'application/json',
    eventId: randomUUID(),
    headers: { 'X-Shopify-Topic': 'orders/create', 'X-Shopify-Shop-Domain': 'hookgate-local.myshopify.com', 'X-Shopify-API-Version': '2025-07' },
    body: json({ id: Number.parseInt(hex(5), 16), email: 'customer@example.com', created_at: new Date().toISOString(), currency: 'USD', total_price: '19.99', line_items: [{ id: 1, title: 'Sample', quantity: 1 }] }),
  }),
  slack: (_s, now) => ({
    contentType: 'application/json',
    body: json({
      token: 'deprecated-verification-token',
      team_id: `T${alnum(8).toUpperCase()}`,
      api_app_id: `A${alnum(8).toUpperCase()}`,
      type: 'event_callback',
      event_id: `Ev${alnum(10).toUpperCase()}`,
      event_time: Math.floor(now / 1000),
      event: { type: 'message', channel: `C${alnum(8).toUpperCase()}`, user: `U${alnum(8).toUpperCase()}`, text: 'Hello', ts: `${Math.floor(now / 1000)}.000100` },
    }),
  }),
  standard: (_s, now) => ({
    contentType: 'application/json',
    eventId: `msg_${alnum(27)}`,
    body: json({ type: 'invoice.paid', timestamp: new Date(now).toISOString(), data: { id: `inv_${alnum(16)}`, amount: 4200 } }),
  }),
  zoho: () => ({
    contentType: 'application/json',
    body: json({ module: 'Leads', operation: 'insert', ids: [hex(9)], channel_id: '1000000068001', token: null }),
  }),
  hmac: (_s, now) => ({
    contentType: 'application/json',
    eventId: `dlv_${alnum(20)}`,
    body: json({ id: `ord_${alnum(16)}`, type: 'order.created', created: Math.floor(now / 1000) }),
  }),
  token: () => ({
    contentType: 'application/json',
    body: json({ id: `ord_${alnum(16)}`, event: 'order.created', total: '19.99' }),
  }),
};

/**
 * A sample webhook for `source`. A token source that reads its token from a body field gets
 * the token in that field, since the body is where its provider puts it.
 */
export function sampleRequest(source: NamedSource, secret: string, now: number = Date.now()): Sample {
  const sample = BUILDERS[source.provider](source, now);
  if (source.provider === 'token' && source.bodyField !== undefined) {
    const value = JSON.parse(sample.body.toString('utf8')) as Record<string, unknown>;
    return { ...sample, body: json({ ...value, [source.bodyField]: secret }) };
  }
  return sample;
}
