import { keyValueList } from './header-values';
import { hmacDigest, hmacEquals } from './hmac-digest';
import type { RejectReason, VerifyContext } from './types';
import { timestampProblem } from './window';

/** The signed bytes: `<t>.` then the raw body. */
const content = (timestamp: string, body: Buffer): Buffer[] => [Buffer.from(`${timestamp}.`, 'utf8'), body];

/**
 * Checks a `t=<unix>,<key>=<hex>[,<key>=<hex>...]` header (Stripe's `v1`, Zoho's `v`): HMAC-SHA256
 * hex over `<t>.<raw body>`, every signature against every secret, inside the window. Entries
 * under other keys (Stripe's `v0`) are ignored; exactly one `t`, since with two it would be
 * ambiguous which one was signed.
 * @returns `undefined` when one signature matches, else the reason
 */
export function checkTimestampList(value: string, signatureKey: string, body: Buffer, { source, secrets, now }: VerifyContext): RejectReason | undefined {
  const fields = keyValueList(value);
  const timestamps = fields.get('t') ?? [];
  const signatures = fields.get(signatureKey) ?? [];
  if (timestamps.length !== 1 || signatures.length === 0) return 'malformed_signature';
  const timestamp = timestamps[0] ?? '';
  return timestampProblem(timestamp, now, source) ?? hmacEquals('sha256', secrets.secrets, content(timestamp, body), signatures, 'hex');
}

/** The header value a sender of such a scheme sends at `now` (milliseconds). */
export function signTimestampList(signatureKey: string, secret: string, body: Buffer, now: number): string {
  const timestamp = String(Math.floor(now / 1000));
  return `t=${timestamp},${signatureKey}=${hmacDigest('sha256', secret, content(timestamp, body)).toString('hex')}`;
}
