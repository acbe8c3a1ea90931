import { createHash } from 'node:crypto';
import { parse as parseLegacyQuery, stringify as stringifyLegacyQuery } from 'node:querystring';
import { safeEqual } from '../compare';
import { header } from '../header-values';
import { decodeSignature, hmacDigest, hmacEquals } from '../hmac-digest';
import { acceptedEvent, rejected } from '../verification';
import type { ProviderStrategy } from '../provider';
import type { RejectReason } from '../types';
import { queryParams, rawQuery, withQueryParam } from '../url';

const SIGNATURE = 'X-Twilio-Signature';
const IDEMPOTENCY = 'I-Twilio-Idempotency-Token';
const BODY_HASH = 'bodySHA256';

interface UrlParts {
  readonly scheme: string;
  readonly userInfo: string;
  readonly host: string;
  readonly port: string;
  readonly rest: string;
}

/**
 * Splits a URL without normalizing it (as Twilio's SDK does): `new URL()` would re-encode some
 * characters of the path and query, and Twilio signed them as it sent them.
 */
function splitUrl(url: string): UrlParts | undefined {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (match === null) return undefined;
  const [prefix, scheme = '', authority = ''] = match;
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon starts the port only after the closing bracket of an IPv6 literal.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

function withoutPort(url: string): string {
  const parts = splitUrl(url);
  return parts === undefined ? url : parts.scheme + parts.userInfo + parts.host + parts.rest;
}

function withDefaultPort(url: string): string {
  const parts = splitUrl(url);
  if (parts === undefined || parts.port !== '') return url;
  const port = parts.scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return parts.scheme + parts.userInfo + parts.host + port + parts.rest;
}

/** The query re-encoded as Node's legacy `querystring` does (some back ends signed that form). */
function withLegacyQuery(url: string): string {
  const start = url.indexOf('?');
  if (start === -1 || start === url.length - 1) return url;
  try {
    return `${url.slice(0, start)}?${stringifyLegacyQuery(parseLegacyQuery(url.slice(start + 1)))}`;
  } catch {
    // querystring.escape throws on lone surrogates; such a URL has no legacy form to try.
    return url;
  }
}

/**
 * The URLs to try, in the SDK's order: as received without and with the default port, then as
 * normalized by `new URL()`, also with the legacy query encoding. Lazy, and the caller stops at
 * the first URL that matches: which form of the URL was signed is not secret (every secret is
 * still walked for each URL, so which secret matched does not show).
 */
function* candidateUrls(url: string): Generator<string> {
  const tried = new Set<string>();
  for (const candidate of [withoutPort(url), withDefaultPort(url)]) {
    if (!tried.has(candidate)) yield candidate;
    tried.add(candidate);
  }
  let normalized: string;
  try {
    normalized = new URL(url).toString();
  } catch {
    return;
  }
  for (const candidate of [withoutPort(normalized), withDefaultPort(normalized)]) {
    for (const variant of [candidate, withLegacyQuery(candidate)]) {
      if (!tried.has(variant)) yield variant;
      tried.add(variant);
    }
  }
}

/**
 * The URL Twilio signed: the request's own, or `publicUrl`'s scheme, host and path (the address
 * configured in Twilio, behind a custom domain or proxy) with the request's query string.
 */
export function signedUrl(requestUrl: string, publicUrl: string | undefined): string {
  if (publicUrl === undefined) return requestUrl;
  const base = publicUrl.split(/[?#]/, 1)[0] ?? publicUrl;
  const query = rawQuery(requestUrl);
  return query === '' ? base : `${base}?${query}`;
}

/**
 * POST parameters as Twilio signs them: keys sorted, each key's distinct values sorted, every
 * key+value appended without separators (as `getExpectedTwilioSignature` in the twilio SDK).
 */
export function formParams(body: Buffer): string {
  const grouped = new Map<string, Set<string>>();
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    const values = grouped.get(key) ?? new Set<string>();
    values.add(value);
    grouped.set(key, values);
  }
  let data = '';
  for (const key of [...grouped.keys()].sort()) {
    for (const value of [...(grouped.get(key) ?? [])].sort()) data += key + value;
  }
  return data;
}

/** True when the body is a JSON document (signed by URL with `bodySHA256`) rather than a form. */
function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return body.length > 0;
  } catch {
    return false;
  }
}

function checkSignature(url: string, params: string, presented: string, secrets: readonly string[]): RejectReason | undefined {
  for (const candidate of candidateUrls(url)) {
    const problem = hmacEquals('sha1', secrets, [Buffer.from(candidate + params, 'utf8')], [presented], 'base64');
    // A malformed signature is malformed against every URL.
    if (problem !== 'bad_signature') return problem;
  }
  return 'bad_signature';
}

/**
 * Twilio: `X-Twilio-Signature`, HMAC-SHA1 base64 with the auth token, over the full URL followed
 * by the sorted form parameters; for JSON bodies over the URL alone, whose `bodySHA256` query
 * parameter must then equal the SHA-256 of the raw body. Dedupes on `I-Twilio-Idempotency-Token`.
 */
export const twilio: ProviderStrategy = {
  methods: ['POST'],
  signatureHeaders: () => [SIGNATURE],
  verify(request, context) {
    const { source, secrets } = context;
    const presented = header(request.headers, SIGNATURE)?.trim();
    if (presented === undefined || presented.length === 0) return rejected('missing_signature');
    const url = signedUrl(request.url, source.publicUrl);
    const bodyHash = queryParams(url).get(BODY_HASH);
    const params = bodyHash === null ? formParams(request.body) : '';
    const problem = checkSignature(url, params, presented, secrets.secrets);
    if (problem !== undefined) return rejected(problem);
    if (bodyHash !== null) {
      const expected = decodeSignature(bodyHash, 'sha256', 'hex');
      const actual = createHash('sha256').update(request.body).digest();
      if (expected === undefined || !safeEqual(expected, actual)) return rejected('bad_body_hash');
    }
    return acceptedEvent(context, request.body, header(request.headers, IDEMPOTENCY));
  },
  /**
   * A JSON body is signed the JSON way (`bodySHA256` added to the returned URL); anything else
   * as a form. Honors `publicUrl` as the verifier does. `eventId` becomes the idempotency token.
   */
  sign(source, secret, body, { url, eventId }) {
    const json = isJson(body);
    const target = json ? withQueryParam(url, BODY_HASH, createHash('sha256').update(body).digest('hex')) : url;
    const data = signedUrl(target, source.publicUrl) + (json ? '' : formParams(body));
    const headers: Record<string, string> = { [SIGNATURE]: hmacDigest('sha1', secret, [Buffer.from(data, 'utf8')]).toString('base64') };
    if (eventId !== undefined) headers[IDEMPOTENCY] = eventId;
    return { url: target, headers };
  },
};
