import type { NamedSource } from '../config/schema';
import type { SignedRequest, SignOptions, Verification, VerifyContext, WebhookRequest } from './types';

/**
 * One provider's signature scheme. Each lives in its own file under `providers/` and is
 * registered in `registry.ts`; adding a provider touches that file, its fixtures and the table.
 */
export interface ProviderStrategy {
  /** HTTP methods this provider sends (upper case). Others are refused with `method_not_allowed`. */
  readonly methods: readonly string[];
  /**
   * Headers of which every genuine POST of this source carries at least one (any case), so the
   * edge can refuse a POST without them before a function runs. Empty when the credential is not
   * in a header (a token in the query string or the body).
   */
  signatureHeaders(source?: NamedSource): readonly string[];
  /** Verifies the exact bytes received. Must never throw, whatever the input. */
  verify(request: WebhookRequest, context: VerifyContext): Verification;
  /** Signs a request the way the provider does (tests, `npm run send`, benchmarks). */
  sign(source: NamedSource, secret: string, body: Buffer, options: SignOptions): SignedRequest;
}
