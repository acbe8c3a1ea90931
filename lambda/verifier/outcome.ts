import type { RejectReason } from '../signatures';

/** Refusals the verifier adds to the verification's own. */
export type VerifierRejectReason = RejectReason | 'payload_too_large';

/** Every way one request can end. One function (http-response.ts) turns it into the HTTP answer. */
export type VerifierOutcome =
  | { readonly kind: 'accepted'; readonly dedupeKey: string; readonly eventId?: string; readonly eventType?: string }
  | { readonly kind: 'duplicate'; readonly dedupeKey: string; readonly eventId?: string; readonly eventType?: string }
  | { readonly kind: 'in_progress'; readonly dedupeKey: string; readonly eventId?: string; readonly eventType?: string }
  | { readonly kind: 'rejected'; readonly reason: VerifierRejectReason }
  | { readonly kind: 'challenge'; readonly status: number; readonly contentType: string; readonly body: string }
  /** Not durably accepted; `code` is a short safe code (IngestError.code or `unexpected`). */
  | { readonly kind: 'unavailable'; readonly code: string; readonly dedupeKey?: string; readonly eventId?: string };
