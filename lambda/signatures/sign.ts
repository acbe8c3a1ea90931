import type { NamedSource } from '../config/schema';
import { PROVIDER_STRATEGIES } from './registry';
import type { SignedRequest, SignOptions } from './types';

export type { SignedRequest, SignOptions } from './types';

/**
 * Signs a body the way the source's provider would, so that `verifyWebhook` accepts it: used by
 * tests, by `npm run send` and by the benchmarks. Deterministic for a given `now`.
 *
 * Per provider: Twilio signs a JSON body the JSON way and returns the URL with `bodySHA256`
 * added (anything else is signed as a form); Stripe and Slack ids live in the body, which the
 * caller writes; Meta with `method: 'GET'` builds a `hub.challenge` handshake URL, `secret` being
 * the verify token; a token source puts the token in its header or query parameter, and for a
 * `bodyField` token the caller must already have put it in the body.
 *
 * @param secret one of the source's secrets (usually the first)
 * @throws Error only for a source the verifier could not accept either (an `hmac` source without options)
 */
export function signRequest(source: NamedSource, secret: string, body: Buffer, options: SignOptions): SignedRequest {
  return PROVIDER_STRATEGIES[source.provider].sign(source, secret, body, options);
}
