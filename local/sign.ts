import type { NamedSource } from '../lambda/config/types';

/**
 * TEMPORARY SHIM until the verify branch merges.
 *
 * `lambda/verify/sign.ts` (the signer of every provider, shipped beside the verifiers) is not in
 * this branch yet. This module has its exact signature and signs `token` sources only, so
 * `npm run send` and the end-to-end tests compile and run today. After the merge, replace this
 * file's body with:
 *
 * ```ts
 * export { signRequest } from '../lambda/verify/sign';
 * export type { SignedRequest, SignOptions } from '../lambda/verify/types';
 * ```
 */

/** Options of a signer (same as the verify branch's `SignOptions`). */
export interface SignOptions {
  /** The signing time in milliseconds since the epoch. */
  readonly now: number;
  /** The URL the request will be sent to. */
  readonly url: string;
  /** The provider's delivery id, for schemes that have an id header. */
  readonly eventId?: string;
  /** HTTP method. @default 'POST' */
  readonly method?: string;
}

/** What a signer produces (same as the verify branch's `SignedRequest`). */
export interface SignedRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
}

/** Signs a request for `source` with `secret` the way its provider would. */
export function signRequest(source: NamedSource, secret: string, _body: Buffer, options: SignOptions): SignedRequest {
  if (source.provider !== 'token') {
    throw new Error(`signing for provider ${source.provider} arrives with the verify branch (lambda/verify/sign.ts)`);
  }
  if (source.header !== undefined) return { url: options.url, headers: { [source.header]: secret } };
  if (source.query !== undefined) {
    const url = new URL(options.url);
    url.searchParams.set(source.query, secret);
    return { url: url.toString(), headers: {} };
  }
  // bodyField: the token travels inside the body, which the caller builds.
  return { url: options.url, headers: {} };
}
