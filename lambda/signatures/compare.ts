import { timingSafeEqual } from 'node:crypto';

/**
 * Constant-time equality of two byte strings. Never throws: a length mismatch is an answer,
 * not an error (signature lengths are public, so returning early on it reveals nothing).
 */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time equality of two strings compared as UTF-8. */
export function safeEqualText(a: string, b: string): boolean {
  return safeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
