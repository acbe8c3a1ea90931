import type { NamedSource } from '../config/schema';

/**
 * The request headers that travel to processors, sealed with the body (never as message
 * attributes): content type and encoding (a gzip body is bytes a processor must inflate before
 * it is the content type), and the providers' event, topic and delivery ids. An allow-list, so
 * signatures, tokens, timestamps, cookies and anything unknown never leave the verifier.
 */
export const SAFE_HEADERS: readonly string[] = [
  'content-type',
  'content-encoding',
  'user-agent',
  'x-github-event',
  'x-github-delivery',
  'x-github-hook-id',
  'x-shopify-topic',
  'x-shopify-webhook-id',
  'x-shopify-shop-domain',
  'x-shopify-api-version',
  'x-shopify-triggered-at',
  'webhook-id',
  'svix-id',
  'i-twilio-idempotency-token',
];

/** The safe subset of `headers`, names lower-cased; a `hmac` source's `idHeader` is kept too. */
export function safeHeaders(headers: Readonly<Record<string, string | undefined>>, source?: NamedSource): Record<string, string> {
  const allowed = new Set(SAFE_HEADERS);
  const idHeader = source?.provider === 'hmac' ? source.hmac.idHeader?.toLowerCase() : undefined;
  if (idHeader !== undefined) allowed.add(idHeader);
  // A token source may name any header for its token: that one is never kept.
  if (source?.provider === 'token' && source.header !== undefined) allowed.delete(source.header.toLowerCase());
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value !== undefined && allowed.has(lower)) out[lower] = value;
  }
  return out;
}
