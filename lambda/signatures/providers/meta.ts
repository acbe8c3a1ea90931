import { safeEqualText } from '../compare';
import { checkHeaderHmac, HUB_SIGNATURE_256, signHeaderHmac } from '../header-hmac';
import { acceptedEvent, rejected } from '../verification';
import type { ProviderStrategy } from '../provider';
import type { Verification } from '../types';
import { queryParams, withQueryParam } from '../url';

const SCHEME = HUB_SIGNATURE_256;
/** The handshake's query argument that carries the verify token (a secret). */
export const VERIFY_TOKEN_PARAM = 'hub.verify_token';

/**
 * What an echoed `hub.challenge` may be. Meta documents it as "an int you must pass back to us"
 * (for example `1158201444`); this allows a little more (letters, `.`, `_`, `-`) for other
 * WebSub-style senders, and nothing that could be markup or a header injection when echoed.
 */
const CHALLENGE = /^[A-Za-z0-9._-]{1,64}$/;

/** The GET subscription handshake: echo `hub.challenge` only to someone who knows the verify token. */
function handshake(url: string, verifyToken: string | undefined): Verification {
  const query = queryParams(url);
  const presented = query.get(VERIFY_TOKEN_PARAM);
  const challenge = query.get('hub.challenge');
  const matches = verifyToken !== undefined && presented !== null && safeEqualText(presented, verifyToken);
  if (query.get('hub.mode') !== 'subscribe' || !matches || challenge === null) return rejected('bad_verify_token');
  if (!CHALLENGE.test(challenge)) return rejected('malformed_challenge');
  return { kind: 'challenge', status: 200, contentType: 'text/plain', body: challenge };
}

/**
 * Meta (WhatsApp Cloud API, Messenger, Instagram): `X-Hub-Signature-256: sha256=<hex>` over the
 * raw body with the app secret; GET is the `hub.challenge` handshake. Meta sends no delivery id,
 * so events dedupe on the body hash.
 */
export const meta: ProviderStrategy = {
  methods: ['GET', 'POST'],
  signatureHeaders: () => [SCHEME.header],
  verify(request, context) {
    if (request.method.toUpperCase() === 'GET') return handshake(request.url, context.secrets.verifyToken);
    const problem = checkHeaderHmac(SCHEME, request, context);
    if (problem !== undefined) return rejected(problem);
    return acceptedEvent(context, request.body);
  },
  /** For `method: 'GET'`, `secret` is the verify token and `eventId` (if any) the challenge. */
  sign(_source, secret, body, { now, url, eventId, method }) {
    if (method?.toUpperCase() === 'GET') {
      let handshakeUrl = withQueryParam(url, 'hub.mode', 'subscribe');
      handshakeUrl = withQueryParam(handshakeUrl, VERIFY_TOKEN_PARAM, secret);
      handshakeUrl = withQueryParam(handshakeUrl, 'hub.challenge', eventId ?? String(now));
      return { url: handshakeUrl, headers: {} };
    }
    return { url, headers: signHeaderHmac(SCHEME, secret, body, now) };
  },
};
