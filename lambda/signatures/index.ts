import type { NamedSource, ProviderName } from '../config/schema';
import { forgetDigests } from './hmac-digest';
import { PROVIDER_STRATEGIES } from './registry';
import type { Verification, VerifyContext, WebhookRequest } from './types';

export type { RejectReason, Verification, VerifyContext, WebhookRequest } from './types';

/**
 * Verifies one request for one source: the method, then the provider's scheme over the exact
 * bytes received. Pure: no I/O, the clock and the secrets come in the context. Never throws.
 */
export function verifyWebhook(request: WebhookRequest, context: VerifyContext): Verification {
  const strategy = PROVIDER_STRATEGIES[context.source.provider];
  if (strategy === undefined) return { kind: 'rejected', reason: 'bad_signature' };
  if (!strategy.methods.includes(request.method.toUpperCase())) {
    return { kind: 'rejected', reason: 'method_not_allowed' };
  }
  try {
    return strategy.verify(request, context);
  } catch {
    // A strategy must not throw; if one ever does, refusing is the only safe answer.
    return { kind: 'rejected', reason: 'malformed_signature' };
  } finally {
    forgetDigests(request.body);
  }
}

/**
 * The headers of which every genuine POST for this source carries at least one (see
 * `ProviderStrategy.signatureHeaders`); empty when its credential is not in a header.
 */
export function signatureHeaders(source: NamedSource): readonly string[] {
  return PROVIDER_STRATEGIES[source.provider]?.signatureHeaders(source) ?? [];
}

/** The signature headers a provider always uses, whatever the source (none for `hmac` and `token`, which are configured). */
export function providerSignatureHeaders(provider: ProviderName): readonly string[] {
  return PROVIDER_STRATEGIES[provider].signatureHeaders();
}
