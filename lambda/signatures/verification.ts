import { createHash } from 'node:crypto';
import { bodyKey, idKey, safeId } from './dedupe-key';
import type { RejectReason, Verification, VerifyContext } from './types';

/** A refusal with its short code. */
export function rejected(reason: RejectReason): Verification {
  return { kind: 'rejected', reason };
}

/**
 * The outcome for a verified event. Dedupes on the provider's id when it sent one, else on the
 * keyed hash of the raw body ({@link bodyKey}, keyed with the source's first secret). An id that is not {@link safeId} (too long, control characters, spaces)
 * still dedupes on itself (same id, same key) but hashed, so keys stay bounded and printable; it
 * is then not reported as `eventId`, because that goes to logs.
 */
export function acceptedEvent(context: VerifyContext, body: Buffer, id?: string, eventType?: string): Verification {
  const source = context.source.name;
  const type = safeId(eventType);
  const typed = type === undefined ? {} : { eventType: type };
  if (id === undefined || id.length === 0) return { kind: 'accepted', dedupeKey: bodyKey(source, body, context.secrets.secrets[0] ?? ''), ...typed };
  const safe = safeId(id);
  if (safe !== undefined) return { kind: 'accepted', dedupeKey: idKey(source, safe), eventId: safe, ...typed };
  const digest = createHash('sha256').update(id, 'utf8').digest('hex');
  return { kind: 'accepted', dedupeKey: idKey(source, `id-sha256:${digest}`), ...typed };
}
