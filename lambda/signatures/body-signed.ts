import { checkHeaderHmac, type HeaderHmacScheme, signHeaderHmac } from './header-hmac';
import { header } from './header-values';
import type { ProviderStrategy } from './provider';
import { acceptedEvent, rejected } from './verification';

/** The headers a body-signing provider sends beside its signature, neither covered by it. */
export interface UnsignedHeaders {
  /** The delivery id: logged as `eventId`, never the dedupe key (see `acceptedEvent`). */
  readonly idHeader: string;
  /** The event type or topic: reported with `typeSigned: false`. */
  readonly typeHeader: string;
}

/**
 * A provider whose one header HMAC covers the raw body only, with its delivery id and event type
 * in headers the signature does not cover and no signed timestamp (GitHub, Shopify). Events
 * dedupe on the body hash with the type, so a replay under a fresh id is a duplicate.
 */
export function bodySignedStrategy(scheme: HeaderHmacScheme, unsigned: UnsignedHeaders): ProviderStrategy {
  return {
    methods: ['POST'],
    signatureHeaders: () => [scheme.header],
    verify(request, context) {
      const problem = checkHeaderHmac(scheme, request, context);
      if (problem !== undefined) return rejected(problem);
      const { headers, body } = request;
      return acceptedEvent(context, body, { id: header(headers, unsigned.idHeader), type: header(headers, unsigned.typeHeader) });
    },
    sign(_source, secret, body, { now, url, eventId }) {
      const headers = signHeaderHmac(scheme, secret, body, now);
      if (eventId !== undefined) headers[unsigned.idHeader] = eventId;
      return { url, headers };
    },
  };
}
