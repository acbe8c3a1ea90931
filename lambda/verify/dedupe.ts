import { createHash } from 'node:crypto';

/** Dedupe key from the provider's own event or delivery id, namespaced by source. */
export function idKey(source: string, id: string): string {
  return `${source}:${id}`;
}

/** Dedupe key for providers without an id: SHA-256 of the exact bytes, namespaced by source. */
export function bodyKey(source: string, body: Buffer): string {
  return `${source}:sha256:${createHash('sha256').update(body).digest('hex')}`;
}
