import type { NamedSource, SourceConfigInput, SourceSecrets } from '../../lambda/config/schema';
import { signRequest } from '../../lambda/signatures/sign';
import { testSource } from '../config/sources';
import type { VerifyContext, WebhookRequest } from '../../lambda/signatures/types';

export { testSource };

/** The injected clock of every verify test: 2026-01-01T00:00:00Z. */
export const NOW = Date.UTC(2026, 0, 1);
export const NOW_SECONDS = Math.floor(NOW / 1000);

/** A URL as API Gateway or the local server reports it. */
export const URL_OF = (source: string): string => `https://hooks.example.com/webhooks/${source}`;

export function context(source: NamedSource, secrets: readonly string[], extra: Partial<SourceSecrets> = {}, now = NOW): VerifyContext {
  return { source, secrets: { secrets, ...extra }, now };
}

export function request(body: Buffer, headers: Record<string, string | undefined>, url: string, method = 'POST'): WebhookRequest {
  return { method, url, headers, body };
}

/** Signs with our signer and builds the request the provider would send. */
export function signed(source: NamedSource, secret: string, body: Buffer, now = NOW, eventId?: string): WebhookRequest {
  const out = signRequest(source, secret, body, { now, url: URL_OF(source.name), ...(eventId === undefined ? {} : { eventId }) });
  return request(body, out.headers, out.url);
}

/** The same headers with every name lower-cased, as Node delivers them. */
export function lowerCased(headers: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Sets a header by case-insensitive name (replacing it), or removes it for `undefined`. */
export function withHeader(req: WebhookRequest, name: string, value: string | undefined): WebhookRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() !== name.toLowerCase()) headers[k] = v;
  if (value !== undefined) headers[name] = value;
  return { ...req, headers };
}

/** The body with one byte changed. */
export function flipByte(body: Buffer, index: number, mask = 0x01): Buffer {
  const copy = Buffer.from(body);
  const at = index % copy.length;
  copy[at] = (copy[at] ?? 0) ^ mask;
  return copy;
}

const JSON_BODY = Buffer.from('{"id":"evt_1","type":"thing.happened","data":{"name":"Zoë ✓","note":"\\u00e9"}}', 'utf8');
const FORM_BODY = Buffer.from('AccountSid=AC123&Body=Hello+world&From=%2B15550001111&To=%2B15550002222', 'utf8');

/** One entry per scheme: everything the contract suite and the properties need to drive it. */
export interface SchemeCase {
  readonly label: string;
  readonly source: NamedSource;
  /** Current and previous secrets (rotation). */
  readonly secrets: readonly [string, string];
  readonly body: Buffer;
  /** The header that carries the signature or token. */
  readonly signatureHeader: string;
  /** A separate timestamp header, when the scheme has one. */
  readonly timestampHeader?: string;
  /** True when the scheme has a replay window. */
  readonly timestamped: boolean;
  /** True when the signature covers the exact body bytes. */
  readonly coversBytes: boolean;
  /** True when the scheme is only exercised with JSON bodies (Twilio's JSON mode). */
  readonly jsonOnly?: boolean;
  /** Reason for a one-byte change of the body. */
  readonly tamperedReason: string;
  readonly missingReason: string;
  readonly malformedReason: string;
  readonly wrongSecretReason: string;
}

const source = (name: string, rest: SourceConfigInput): NamedSource => testSource({ name, ...rest });

const signatureCase = (
  label: string,
  src: NamedSource,
  secrets: readonly [string, string],
  signatureHeader: string,
  more: Partial<SchemeCase> = {},
): SchemeCase => ({
  label,
  source: src,
  secrets,
  body: JSON_BODY,
  signatureHeader,
  timestamped: false,
  coversBytes: true,
  tamperedReason: 'bad_signature',
  missingReason: 'missing_signature',
  malformedReason: 'malformed_signature',
  wrongSecretReason: 'bad_signature',
  ...more,
});

export const SCHEMES: readonly SchemeCase[] = [
  signatureCase('stripe', source('stripe', { provider: 'stripe' }), ['whsec_current', 'whsec_previous'], 'Stripe-Signature', { timestamped: true }),
  signatureCase('twilio (form)', source('twilio', { provider: 'twilio' }), ['token-current', 'token-previous'], 'X-Twilio-Signature', {
    body: FORM_BODY,
    // Twilio signs the decoded parameters, not the bytes: see the twilio tests.
    coversBytes: false,
  }),
  signatureCase('twilio (json)', source('twilio-json', { provider: 'twilio' }), ['token-current', 'token-previous'], 'X-Twilio-Signature', {
    tamperedReason: 'bad_body_hash',
    jsonOnly: true,
  }),
  signatureCase('meta', source('whatsapp', { provider: 'meta' }), ['app-secret-current', 'app-secret-previous'], 'X-Hub-Signature-256'),
  signatureCase('github', source('github', { provider: 'github' }), ['gh-current', 'gh-previous'], 'X-Hub-Signature-256'),
  signatureCase('shopify', source('shopify', { provider: 'shopify' }), ['shp-current', 'shp-previous'], 'X-Shopify-Hmac-Sha256'),
  signatureCase('slack', source('slack', { provider: 'slack' }), ['slack-current', 'slack-previous'], 'X-Slack-Signature', {
    timestampHeader: 'X-Slack-Request-Timestamp',
    timestamped: true,
  }),
  signatureCase(
    'standard',
    source('svix', { provider: 'standard' }),
    ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_aG9va2dhdGUtbG9jYWwtZGV2LXNlY3JldC0zMmJ5dGU='],
    'webhook-signature',
    { timestampHeader: 'webhook-timestamp', timestamped: true },
  ),
  signatureCase('zoho', source('zoho-crm', { provider: 'zoho' }), ['zoho-current', 'zoho-previous'], 'X-Zoho-Webhook-Signature', { timestamped: true }),
  signatureCase(
    'hmac (sha512, base64, prefix, timestamp, template)',
    source('partner', {
      provider: 'hmac',
      hmac: {
        header: 'X-Partner-Signature',
        algorithm: 'sha512',
        encoding: 'base64',
        prefix: 'sha512=',
        timestampHeader: 'X-Partner-Timestamp',
        template: 'v1|{timestamp}|{body}|end',
        idHeader: 'X-Partner-Delivery',
      },
    }),
    ['partner-current', 'partner-previous'],
    'X-Partner-Signature',
    { timestampHeader: 'X-Partner-Timestamp', timestamped: true },
  ),
  signatureCase('hmac (defaults: sha256 hex of the body)', source('plain', { provider: 'hmac', hmac: { header: 'X-Signature' } }), ['plain-current', 'plain-previous'], 'X-Signature'),
  signatureCase('token (header)', source('orders', { provider: 'token', header: 'X-Webhook-Token' }), ['tok-current', 'tok-previous'], 'X-Webhook-Token', {
    coversBytes: false,
    tamperedReason: 'accepted',
    missingReason: 'missing_token',
    malformedReason: 'bad_token',
    wrongSecretReason: 'bad_token',
  }),
];
