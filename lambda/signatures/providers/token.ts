import { acceptedEvent } from '../verification';
import { safeEqualText } from '../compare';
import { header } from '../header-values';
import type { ProviderStrategy } from '../provider';
import type { Verification } from '../types';
import { withQueryParam } from '../url';

function tokenFromBody(body: Buffer, field: string): string | undefined {
  // Parsing is safe here: a token scheme signs nothing, the bytes stay untouched for the queue.
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const value = (parsed as Record<string, unknown>)[field];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

function tokenFromQuery(url: string, name: string): string | undefined {
  try {
    return new URL(url).searchParams.get(name) ?? undefined;
  } catch {
    return undefined;
  }
}

/** A static token in a header, a query parameter or a top-level JSON body field. */
export const token: ProviderStrategy = {
  methods: ['POST'],
  signatureHeaders: (source) => (source?.provider === 'token' && source.header !== undefined ? [source.header] : []),
  verify(request, context): Verification {
    const { source, secrets } = context;
    // The registry routes only token sources here.
    if (source.provider !== 'token') return { kind: 'rejected', reason: 'missing_token' };
    const presented =
      source.header !== undefined
        ? header(request.headers, source.header)
        : source.query !== undefined
          ? tokenFromQuery(request.url, source.query)
          : source.bodyField !== undefined
            ? tokenFromBody(request.body, source.bodyField)
            : undefined;
    if (presented === undefined || presented.length === 0) return { kind: 'rejected', reason: 'missing_token' };
    // Walk every secret without stopping early, so timing does not tell which one matched.
    let matched = false;
    for (const secret of secrets.secrets) matched = safeEqualText(presented, secret) || matched;
    if (!matched) return { kind: 'rejected', reason: 'bad_token' };
    return acceptedEvent(context, request.body);
  },
  /** A header or query token is added; a `bodyField` token must already be in the body (the caller's job). */
  sign(source, secret, _body, { url }) {
    if (source.provider !== 'token') throw new Error(`source ${source.name} is not a token source`);
    if (source.header !== undefined) return { url, headers: { [source.header]: secret } };
    if (source.query !== undefined) return { url: withQueryParam(url, source.query, secret), headers: {} };
    return { url, headers: {} };
  },
};
