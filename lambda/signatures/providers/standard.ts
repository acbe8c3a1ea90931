import { createHash } from 'node:crypto';
import { header } from '../header-values';
import { hmacDigest, hmacEquals } from '../hmac-digest';
import { acceptedEvent, rejected } from '../verification';
import type { ProviderStrategy } from '../provider';
import type { WebhookRequest } from '../types';
import { timestampProblem } from '../window';

/**
 * A secret: standard base64, with or without the `whsec_` prefix (standardwebhooks and svix both
 * accept the bare form). Config validation should apply this same rule.
 */
const SECRET = /^(?:whsec_)?([A-Za-z0-9+/]+={0,2})$/;

/**
 * The HMAC key: the secret's base64-decoded bytes. `undefined` for a secret that is not base64
 * or decodes to nothing (`whsec_`, `whsec_A`): an empty key is public, so such a secret verifies
 * nothing, as the reference libraries refuse it.
 */
export function standardKey(secret: string): Buffer | undefined {
  const encoded = SECRET.exec(secret)?.[1];
  if (encoded === undefined) return undefined;
  const key = Buffer.from(encoded, 'base64');
  return key.length === 0 ? undefined : key;
}

/** Header name prefixes: Standard Webhooks' own, then the Svix-branded twin. */
const PREFIXES = ['webhook', 'svix'] as const;

/** A Standard Webhooks header, or its Svix-branded twin. */
function read(request: WebhookRequest, name: 'id' | 'timestamp' | 'signature'): string | undefined {
  return (header(request.headers, `${PREFIXES[0]}-${name}`) ?? header(request.headers, `${PREFIXES[1]}-${name}`))?.trim();
}

/** The signed bytes: `<id>.<timestamp>.` then the raw body (outbound signing signs the same). */
export const signedContent = (id: string, timestamp: string, body: Buffer): Buffer[] => [Buffer.from(`${id}.${timestamp}.`, 'utf8'), body];

/**
 * Standard Webhooks (and Svix): `webhook-id`, `webhook-timestamp`, `webhook-signature` (or the
 * `svix-` names); HMAC-SHA256, base64, over `<id>.<timestamp>.<raw body>`, keyed with the
 * base64-decoded secret; the signature header is a space-separated list of `v1,<base64>` (other
 * versions, such as asymmetric `v1a`, are ignored). Dedupes on `webhook-id`.
 */
export const standard: ProviderStrategy = {
  methods: ['POST'],
  signatureHeaders: () => PREFIXES.map((prefix) => `${prefix}-signature`),
  verify(request, context) {
    const { source, secrets, now } = context;
    const signature = read(request, 'signature');
    const id = read(request, 'id');
    // The id is part of what is signed: without it there is no signature to check.
    if (signature === undefined || signature.length === 0 || id === undefined || id.length === 0) {
      return rejected('missing_signature');
    }
    const timestamp = read(request, 'timestamp');
    const presented = signature
      .split(' ')
      .filter((entry) => entry.startsWith('v1,'))
      .map((entry) => entry.slice(3));
    const keys = secrets.secrets.map(standardKey).filter((key) => key !== undefined);
    if (keys.length === 0) return rejected('bad_signature');
    const problem =
      timestampProblem(timestamp, now, source) ??
      hmacEquals('sha256', keys, signedContent(id, timestamp ?? '', request.body), presented, 'base64');
    if (problem !== undefined) return rejected(problem);
    return acceptedEvent(context, request.body, { id, idSigned: true });
  },
  /** Without an `eventId`, the id is derived from the body so that signing is deterministic. */
  sign(_source, secret, body, { now, url, eventId }) {
    const key = standardKey(secret);
    if (key === undefined) throw new Error('a standard secret is base64, optionally prefixed whsec_, and not empty');
    const id = eventId ?? `msg_${createHash('sha256').update(body).digest('hex').slice(0, 24)}`;
    const timestamp = String(Math.floor(now / 1000));
    const signature = hmacDigest('sha256', key, signedContent(id, timestamp, body)).toString('base64');
    return {
      url,
      headers: { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` },
    };
  },
};
