import { createHash } from 'node:crypto';

/** Dedupe key from the provider's own event or delivery id, namespaced by source. */
export function idKey(source: string, id: string): string {
  return `${source}:${id}`;
}

/** Dedupe key for providers without an id: SHA-256 of the exact bytes, namespaced by source. */
export function bodyKey(source: string, body: Buffer): string {
  return `${source}:sha256:${createHash('sha256').update(body).digest('hex')}`;
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
