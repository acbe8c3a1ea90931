import { hmacDigest, type HmacKey } from './hmac-digest';

/** Dedupe key from the provider's own event or delivery id, namespaced by source. */
export function idKey(source: string, id: string): string {
  return `${source}:${id}`;
}

/**
 * Dedupe key for events without an id their signature protects (none sent, or an unsigned header
 * id: see `acceptedEvent`): HMAC-SHA256 of the exact bytes under the source's first secret,
 * namespaced by source. Keyed rather than a bare SHA-256 because the key goes to logs and the
 * table, and a bare hash of a short body (a PHI record) could be confirmed by guessing. Where the
 * scheme itself is HMAC-SHA256 over the body alone (Meta, GitHub, Shopify, plain Zoho), the
 * signature check already computed this digest and `hmacDigest` hands it back without a second
 * pass. Rotating the first secret changes these keys: a retry that straddles a rotation may be
 * enqueued again, which at-least-once delivery already allows.
 */
export function bodyKey(source: string, body: Buffer, key: HmacKey): string {
  return `${source}:hmac-sha256:${hmacDigest('sha256', key, [body]).toString('hex')}`;
}

/** Longest provider id or event type used as is. */
export const MAX_ID_LENGTH = 256;
const SAFE_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_ID_LENGTH}}$`);

/**
 * A provider-sent id or type, if it is safe to use as is in keys, logs and message attributes:
 * 1 to 256 printable ASCII characters, no spaces, no control characters.
 */
export function safeId(value: string | undefined): string | undefined {
  return value !== undefined && SAFE_ID.test(value) ? value : undefined;
}
