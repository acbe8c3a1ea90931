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
 * dedupe key before the verifier runs, and the local processor reads them back by the dedupe
 * key of the message it opens. The first request of an event wins (later copies are
 * duplicates); a request the verifier did not accept is forgotten. Bounded, oldest out first.
 */
export class HeaderJournal {
  private readonly entries = new Map<string, Record<string, string>>();

  constructor(private readonly capacity = 10_000) {}

  /** Notes the headers of a request; returns a function that forgets them if this call noted them. */
  note(dedupeKey: string, headers: Record<string, string>): () => void {
    if (this.entries.has(dedupeKey)) return () => undefined;
    this.entries.set(dedupeKey, headers);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return () => {
      if (this.entries.get(dedupeKey) === headers) this.entries.delete(dedupeKey);
    };
  }

  /** The headers noted for this dedupe key, or none. */
  find(dedupeKey: string): Record<string, string> {
    return this.entries.get(dedupeKey) ?? {};
  }
}
