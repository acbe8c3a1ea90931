import { createHash } from 'node:crypto';
import type { NamedSource } from '../lambda/config/types';

/**
 * The request headers the local sink shows: content type and the providers' event, topic and
 * delivery ids. An allow-list, so signatures, tokens, timestamps, cookies and anything unknown
 * never leave the request.
 */
export const SAFE_HEADERS: readonly string[] = [
  'content-type',
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
  'x-zoho-webhook-id',
];

/** The safe subset of `headers`, names lower-cased; a `hmac` source's `idHeader` is kept too. */
export function safeHeaders(headers: Readonly<Record<string, string | undefined>>, source?: NamedSource): Record<string, string> {
  const allowed = new Set(SAFE_HEADERS);
  const idHeader = source?.hmac?.idHeader?.toLowerCase();
  if (idHeader !== undefined) allowed.add(idHeader);
  // A token source may name any header for its token: that one is never kept.
  if (source?.header !== undefined) allowed.delete(source.header.toLowerCase());
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value !== undefined && allowed.has(lower)) out[lower] = value;
  }
  return out;
}

/**
 * Local stand-in for headers travelling with the message (the queue message carries metadata
 * only; see docs/local.md): the local API notes the safe headers of each request under its
 * source and body hash before the verifier runs, and the sink reads them back by the body it
 * processes. Bounded; the oldest entries go first.
 */
export class HeaderJournal {
  private readonly entries = new Map<string, Record<string, string>>();

  constructor(private readonly capacity = 10_000) {}

  private static key(source: string, body: Buffer): string {
    return `${source}:${createHash('sha256').update(body).digest('hex')}`;
  }

  /** Notes the headers of a request; returns a function that forgets them if still current. */
  note(source: string, body: Buffer, headers: Record<string, string>): () => void {
    const key = HeaderJournal.key(source, body);
    this.entries.delete(key);
    this.entries.set(key, headers);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return () => {
      if (this.entries.get(key) === headers) this.entries.delete(key);
    };
  }

  /** The headers noted for this body, or none. */
  find(source: string, body: Buffer): Record<string, string> {
    return this.entries.get(HeaderJournal.key(source, body)) ?? {};
  }
}
