import type { NamedSource, SourceSecrets } from '../config/schema';

/** The request exactly as received: the bytes are what is verified, never a re-serialization. */
export interface WebhookRequest {
  /** HTTP method, any case. */
  readonly method: string;
  /** Full URL the provider called: scheme, host, optional port, path and query string. */
  readonly url: string;
  /** Headers in any case (API Gateway keeps the sender's case, Node lowercases). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The raw body bytes. */
  readonly body: Buffer;
}

/** Why a request was refused. Short codes, safe to log and to return; never payload content. */
export type RejectReason =
  | 'missing_signature'
  | 'malformed_signature'
  | 'bad_signature'
  | 'missing_timestamp'
  | 'malformed_timestamp'
  | 'timestamp_out_of_window'
  | 'missing_token'
  | 'bad_token'
  | 'bad_body_hash'
  | 'malformed_body'
  | 'method_not_allowed'
  | 'bad_verify_token'
  | 'malformed_challenge';

/** The result of verifying one request. */
export type Verification =
  | {
      readonly kind: 'accepted';
      /**
       * Source-namespaced: `<source>:<provider id>` when the signature protects the id, else
       * `<source>:hmac-sha256:<hex, keyed>` (see acceptedEvent and bodyKey).
       */
      readonly dedupeKey: string;
      /** The provider's event or delivery id, when it sends one (logged; not necessarily signed). */
      readonly eventId?: string;
      /** The provider's event type, when it sends one in a header or the body. */
      readonly eventType?: string;
      /** True when the signature covers `eventType` (read from the signed bytes, not a header). */
      readonly typeSigned: boolean;
    }
  | { readonly kind: 'rejected'; readonly reason: RejectReason }
  /** A handshake answered directly and never enqueued (Meta hub.challenge, Slack url_verification). */
  | {
      readonly kind: 'challenge';
      readonly status: number;
      readonly contentType: string;
      readonly body: string;
    };

/** What a provider strategy gets besides the request. */
export interface VerifyContext {
  readonly source: NamedSource;
  readonly secrets: SourceSecrets;
  /** Current time in milliseconds since the epoch (injected: tests pass a fixed clock). */
  readonly now: number;
}

/** Options of a signer (`signRequest` and each strategy's `sign`). */
export interface SignOptions {
  /** The signing time in milliseconds since the epoch (timestamped schemes put it in a header). */
  readonly now: number;
  /** The URL the request will be sent to (URL-signing schemes sign it). */
  readonly url: string;
  /** The provider's delivery id, put in the id header of schemes that have one. */
  readonly eventId?: string;
  /** HTTP method. @default 'POST' (Meta: 'GET' signs a subscription handshake) */
  readonly method?: string;
}

/** What a signer produces: where to send the body and which headers to send with it. */
export interface SignedRequest {
  /** The URL to call (may differ from the given one: Twilio JSON adds `bodySHA256`, token query adds the token). */
  readonly url: string;
  /** Headers to send, in the provider's own case. */
  readonly headers: Record<string, string>;
}
