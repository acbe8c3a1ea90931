import { createHmac } from 'node:crypto';
import { safeEqual } from './compare';
import type { RejectReason } from './types';

/** Hash functions a scheme may use. */
export type HashAlgorithm = 'sha1' | 'sha256' | 'sha512';
/** How a signature is written in a header. */
export type SignatureEncoding = 'hex' | 'base64';
/** An HMAC key: a secret string used as UTF-8 bytes, or raw bytes (Standard Webhooks). */
export type HmacKey = string | Buffer;

const DIGEST_BYTES: Readonly<Record<HashAlgorithm, number>> = { sha1: 20, sha256: 32, sha512: 64 };
const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * HMAC of content given in parts, fed to the hash one after another so that a large body is
 * never copied into a new buffer (and never goes through a string).
 */
export function hmacDigest(algorithm: HashAlgorithm, key: HmacKey, content: readonly Buffer[]): Buffer {
  const body = content.length === 1 ? content[0] : undefined;
  const known = body === undefined ? undefined : firstBodyDigest.get(body);
  if (known !== undefined && known.algorithm === algorithm && known.key === key) return known.digest;
  const mac = createHmac(algorithm, key);
  for (const part of content) mac.update(part);
  const digest = mac.digest();
  // The first digest of the body alone is the one under the first secret (walkers go in order).
  if (body !== undefined && known === undefined) firstBodyDigest.set(body, { algorithm, key, digest });
  return digest;
}

/**
 * The first digest of a whole body, kept for the length of one verification (see
 * {@link forgetDigests}): the keyed dedupe key of a body-hash provider is then the digest its
 * signature check already made. Never across requests: a buffer's bytes can change.
 */
const firstBodyDigest = new WeakMap<Buffer, { readonly algorithm: HashAlgorithm; readonly key: HmacKey; readonly digest: Buffer }>();

/** Ends one verification: drops the digest remembered for this body. */
export function forgetDigests(body: Buffer): void {
  firstBodyDigest.delete(body);
}

/** A digest written the way a provider writes it. */
export function encodeDigest(digest: Buffer, encoding: SignatureEncoding): string {
  return digest.toString(encoding);
}

/**
 * Decodes one presented signature, strictly: `undefined` unless it is exactly one digest of this
 * algorithm in this encoding. The length is checked before any regex, so a huge header costs nothing.
 * (`Buffer.from(text, 'hex')` alone would silently stop at the first bad character.)
 */
export function decodeSignature(text: string, algorithm: HashAlgorithm, encoding: SignatureEncoding): Buffer | undefined {
  const bytes = DIGEST_BYTES[algorithm];
  const length = encoding === 'hex' ? bytes * 2 : Math.ceil(bytes / 3) * 4;
  if (text.length !== length || !(encoding === 'hex' ? HEX : BASE64).test(text)) return undefined;
  const decoded = Buffer.from(text, encoding);
  return decoded.length === bytes ? decoded : undefined;
}

/**
 * The one signature walker of every HMAC scheme: computes the HMAC of `content` under every
 * secret and compares it, in constant time, with every presented signature, without stopping at
 * the first match (so timing does not tell which secret or which signature matched).
 *
 * @returns `undefined` when one signature matches one secret; `malformed_signature` when no
 *   presented value is a well-formed digest; otherwise `bad_signature`.
 */
export function hmacEquals(
  algorithm: HashAlgorithm,
  secrets: readonly HmacKey[],
  content: readonly Buffer[],
  presented: readonly string[],
  encoding: SignatureEncoding,
): RejectReason | undefined {
  const candidates: Buffer[] = [];
  for (const text of presented) {
    const decoded = decodeSignature(text, algorithm, encoding);
    if (decoded !== undefined) candidates.push(decoded);
  }
  if (candidates.length === 0) return 'malformed_signature';
  let matched = false;
  for (const secret of secrets) {
    const digest = hmacDigest(algorithm, secret, content);
    for (const candidate of candidates) matched = safeEqual(digest, candidate) || matched;
  }
  return matched ? undefined : 'bad_signature';
}
