import { createHash } from 'node:crypto';
import { bodyKey, idKey, safeId } from './dedupe-key';
import type { RejectReason, Verification, VerifyContext } from './types';

/** A refusal with its short code. */
export function rejected(reason: RejectReason): Verification {
  return { kind: 'rejected', reason };
}

/** What a strategy read besides the signature, and how far the signature covers it. */
export interface EventFields {
  /** The provider's event or delivery id. */
  readonly id?: string;
  /**
   * The id is inside the signed bytes (Stripe's and Slack's body, Standard Webhooks' signed
   * `webhook-id`), so it cannot be swapped. @default false
   */
  readonly idSigned?: boolean;
  /**
   * The scheme signs a timestamp and enforces the window, so a replay under another id only
   * works inside the window. @default false
   */
  readonly signedTimestamp?: boolean;
  /** The provider's event type. */
  readonly type?: string;
  /** The type is inside the signed bytes. @default false (a header the signature does not cover) */
  readonly typeSigned?: boolean;
}

/**
 * The outcome for a verified event.
 *
 * Dedupes on the provider's id when the signature protects it (`idSigned`) or bounds its replay
 * (`signedTimestamp`). Otherwise (GitHub, Shopify, Twilio, `hmac` without a signed timestamp)
 * anyone holding one signed request could resend it under a fresh id and have it enqueued
 * again, so the event dedupes on the keyed hash of the raw body ({@link bodyKey}, keyed with
 * the source's first secret): a replay, and a genuine redelivery under the same or a new id,
 * both carry the same bytes. The id is still reported as `eventId`, for logs. An unsigned event
 * type joins that key (`<body key>:<type>`): providers send byte-identical bodies under two
 * topics (Shopify's `orders/create` and `orders/paid` for an order created paid), and answering
 * the second `duplicate` would lose a genuine signed event. A captured body re-sent under another
 * type is therefore a new event, and processors see its type as unsigned (`typeSigned: false`):
 * they must not act on an unsigned type alone where a forged one could do harm.
 *
 * An id that is not {@link safeId} (too long, control characters, spaces) still dedupes on
 * itself (same id, same key) but hashed, so keys stay bounded and printable; it is then not
 * reported as `eventId`, because that goes to logs. An unsafe type is dropped.
 */
export function acceptedEvent(context: VerifyContext, body: Buffer, fields: EventFields = {}): Verification {
  const source = context.source.name;
  const type = safeId(fields.type);
  const typed = type === undefined ? { typeSigned: false } : { eventType: type, typeSigned: fields.typeSigned === true };
  const id = fields.id === undefined || fields.id.length === 0 ? undefined : fields.id;
  const safe = safeId(id);
  const logged = safe === undefined ? {} : { eventId: safe };
  if (id === undefined || (fields.idSigned !== true && fields.signedTimestamp !== true)) {
    const key = bodyKey(source, body, context.secrets.secrets[0] ?? '');
    const unsignedType = type !== undefined && fields.typeSigned !== true ? `:${type}` : '';
    return { kind: 'accepted', dedupeKey: `${key}${unsignedType}`, ...logged, ...typed };
  }
  if (safe !== undefined) return { kind: 'accepted', dedupeKey: idKey(source, safe), ...logged, ...typed };
  const digest = createHash('sha256').update(id, 'utf8').digest('hex');
  return { kind: 'accepted', dedupeKey: idKey(source, `id-sha256:${digest}`), ...typed };
}
