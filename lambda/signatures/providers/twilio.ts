import { isAscii } from 'node:buffer';
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
 * At most this many distinct URLs are tried per request (each costs one HMAC per secret), so a
 * forged request costs a bounded amount of work whatever its query string; past the bound the
 * request is refused. The SDK's own forms come first (up to six), then the re-spellings of the
 * query ({@link querySpellings}): up to six spellings of each parameter order, each without and
 * with the default port, so about five orders fit even when every spelling differs.
 */
export const MAX_CANDIDATE_URLS = 64;

/** Candidates generated (duplicates included) before giving up, whatever their number of distinct ones. */
const MAX_GENERATED_URLS = 16 * MAX_CANDIDATE_URLS;

/** Queries with more parameters are tried in the received order only (n! orders otherwise). */
export const MAX_REORDERED_PARAMS = 6;

type Pair = readonly [name: string, value: string];

/** A lone surrogate becomes U+FFFD (as a UTF-8 decoder makes it), so encoding never throws. */
const wellFormed = (value: string): string =>
  value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/**
 * `value` with every character outside `keep` percent-encoded as UTF-8 (space as `+` when `plus`):
 * `encodeURIComponent`'s output, with the ASCII escapes `keep` allows undone and the characters
 * it leaves alone that `keep` does not allow escaped (one native call and one pass).
 */
function percentEncode(value: string, keep: RegExp, plus: boolean): string {
  // Every spelling keeps these as they are: the common case (ids, hex digests) costs nothing.
  if (/^[A-Za-z0-9._-]*$/.test(value)) return value;
  return encodeURIComponent(wellFormed(value)).replace(/%([0-7][0-9A-F])|[!'()*~]/g, (match: string, hex: string | undefined) => {
    if (hex === undefined) return keep.test(match) ? match : `%${match.charCodeAt(0).toString(16).toUpperCase()}`;
    if (plus && hex === '20') return '+';
    const ch = String.fromCharCode(parseInt(hex, 16));
    return keep.test(ch) ? ch : match;
  });
}

interface Spelling {
  readonly name: RegExp;
  readonly value: RegExp;
  readonly plus: boolean;
}

/** RFC 3986 unreserved characters. */
const UNRESERVED = /^[A-Za-z0-9._~-]$/;
/** What `encodeURIComponent` leaves alone. */
const COMPONENT = /^[A-Za-z0-9._~!'()*-]$/;
/** What the WHATWG `application/x-www-form-urlencoded` serializer (URLSearchParams) leaves alone. */
const FORM = /^[A-Za-z0-9._*-]$/;
/** RFC 3986 query characters that do not change how the query splits: no `&`, `+`, `#`, `%`. */
const MINIMAL_VALUE = /^[A-Za-z0-9._~!$'()*,;=:@/?-]$/;
/** The same for a name, which also must not hold `=`. */
const MINIMAL_NAME = /^[A-Za-z0-9._~!$'()*,;:@/?-]$/;

/**
 * How real clients spell a query, most likely first: `encodeURIComponent` (the verifier's own
 * rebuild, JavaScript URL builders); RFC 3986 minimal escaping, as a URL typed into a console
 * reads (`?next=https://a.example/cb`, `?at=10:00:00Z`, `?tags=a,b`), with `%20` or `+` for a
 * space (`?name=John+Doe`); the form encoding of URLSearchParams and Java; RFC 3986 strict
 * escaping (PHP rawurlencode, Python quote) with `%20` or `+` (Go QueryEscape, Python quote_plus).
 */
const SPELLINGS: readonly Spelling[] = [
  { name: COMPONENT, value: COMPONENT, plus: false },
  { name: MINIMAL_NAME, value: MINIMAL_VALUE, plus: false },
  { name: MINIMAL_NAME, value: MINIMAL_VALUE, plus: true },
  { name: FORM, value: FORM, plus: true },
  { name: UNRESERVED, value: UNRESERVED, plus: false },
  { name: UNRESERVED, value: UNRESERVED, plus: true },
];

/**
 * The parameters in the order received, then in every other order that keeps each name's values
 * in their own order (API Gateway keeps that order, but a REST event groups values by name and
 * may list names in another order: `?b=1&a=2&b=3` arrives as `{b: [1, 3], a: [2]}`). Lazy.
 */
function* parameterOrders(pairs: readonly Pair[]): Generator<readonly Pair[]> {
  yield pairs;
  if (pairs.length < 2 || pairs.length > MAX_REORDERED_PARAMS) return;
  const groups = new Map<string, Pair[]>();
  for (const pair of pairs) groups.set(pair[0], [...(groups.get(pair[0]) ?? []), pair]);
  const queues = [...groups.values()];
  const taken = queues.map(() => 0);
  const order: Pair[] = [];
  function* merge(): Generator<readonly Pair[]> {
    if (order.length === pairs.length) {
      yield [...order];
      return;
    }
    for (let q = 0; q < queues.length; q += 1) {
      const queue = queues[q] as Pair[];
      const at = taken[q] as number;
      if (at === queue.length) continue;
      order.push(queue[at] as Pair);
      taken[q] = at + 1;
      yield* merge();
      taken[q] = at;
      order.pop();
    }
  }
  yield* merge();
}

/**
 * The query re-spelled: every parameter order ({@link parameterOrders}) in every spelling
 * ({@link SPELLINGS}). The parameters are decoded as API Gateway decodes them (`+` is a space).
 * Each parameter is encoded once per spelling; spellings that come out the same are dropped.
 */
function* querySpellings(query: string): Generator<string> {
  const pairs: Pair[] = [...new URLSearchParams(query)];
  const encoded = new Map<string, readonly Pair[]>();
  for (const spelling of SPELLINGS) {
    const spelled = pairs.map(([name, value]): Pair => [percentEncode(name, spelling.name, spelling.plus), percentEncode(value, spelling.value, spelling.plus)]);
    const key = spelled.map(([name, value]) => `${name}=${value}`).join('&');
    if (!encoded.has(key)) encoded.set(key, spelled);
  }
  // Orders are taken over indices, so each spelling reuses the same order.
  const indices: Pair[] = pairs.map(([name], i): Pair => [name, String(i)]);
  for (const order of parameterOrders(indices)) {
    for (const spelled of encoded.values()) {
      yield order
        .map(([, i]) => {
          const [name, value] = spelled[Number(i)] as Pair;
          return `${name}=${value}`;
        })
        .join('&');
    }
  }
}

/**
 * The URLs to try: the SDK's (as received without and with the default port, then as normalized
 * by `new URL()`, also with the legacy query encoding), then the query as other clients spell
 * and order it ({@link querySpellings}), each without and with the default port. Twilio signs
 * the URL exactly as configured in its console, and a REST event only carries the decoded
 * parameters. Lazy, distinct, at most {@link MAX_CANDIDATE_URLS}; the caller stops at the first
 * URL that matches: which form of the URL was signed is not secret (every secret is still walked
 * for each URL, so which secret matched does not show).
 */
export function* candidateUrls(url: string): Generator<string> {
  const tried = new Set<string>();
  let generated = 0;
  for (const candidate of allCandidates(url)) {
    generated += 1;
    if (generated > MAX_GENERATED_URLS) return;
    if (tried.has(candidate)) continue;
    tried.add(candidate);
    yield candidate;
    if (tried.size >= MAX_CANDIDATE_URLS) return;
  }
}

function* allCandidates(url: string): Generator<string> {
  yield withoutPort(url);
  yield withDefaultPort(url);
  let normalized: string | undefined;
  try {
    normalized = new URL(url).toString();
  } catch {
    normalized = undefined;
  }
  if (normalized !== undefined) {
    for (const candidate of [withoutPort(normalized), withDefaultPort(normalized)]) {
      yield candidate;
      yield withLegacyQuery(candidate);
    }
  }
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return;
  const base = url.slice(0, queryStart);
  const bases = [withoutPort(base), withDefaultPort(base)];
  for (const query of querySpellings(rawQuery(url))) {
    for (const candidate of bases) yield query === '' ? candidate : `${candidate}?${query}`;
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
 * Most form parameters decoded and sorted before the signature is checked. Twilio's callbacks
 * carry a few dozen (an SMS with ten media items stays under 60); a body of thousands of tiny
 * parameters would make an unsigned request cost hundreds of times an HMAC.
 */
export const MAX_FORM_PARAMS = 256;

/** At most {@link MAX_FORM_PARAMS} parameters: counts the `&` separators without decoding anything. */
export function withinFormParamLimit(body: Buffer): boolean {
  let separators = 0;
  for (let at = body.indexOf(0x26); at !== -1; at = body.indexOf(0x26, at + 1)) {
    separators += 1;
    if (separators >= MAX_FORM_PARAMS) return false;
  }
  return true;
}

const NON_ASCII = /[\u0080-\uffff]/;

/** Values at least this long that need no decoding are hashed straight from the body's bytes. */
const ZERO_COPY_BYTES = 1024;

/** One form parameter: its decoded name, and its value as decoded text or as the body's own bytes. */
interface FormParam {
  readonly name: string;
  readonly text?: string;
  readonly raw?: Buffer;
}

const valueText = (param: FormParam): string => param.text ?? param.raw?.toString('latin1') ?? '';

/**
 * The form's parameters as URLSearchParams reads them, several times faster: split on `&`, empty
 * pieces skipped, `+` as a space, escapes decoded natively. A piece whose escapes are not valid
 * UTF-8 (`%zz`, `%FF`) sends the whole body through URLSearchParams, which keeps or replaces
 * them the WHATWG way. `ascii`: every decoded character is ASCII.
 */
function parseForm(body: Buffer): { readonly params: readonly FormParam[]; readonly ascii: boolean } {
  const bodyAscii = isAscii(body);
  let ascii = bodyAscii;
  const decode = (component: string): string | undefined => {
    const spaced = component.includes('+') ? component.replace(/\+/g, ' ') : component;
    if (!spaced.includes('%')) return spaced;
    try {
      const decoded = decodeURIComponent(spaced);
      if (ascii && NON_ASCII.test(decoded)) ascii = false;
      return decoded;
    } catch {
      return undefined;
    }
  };
  // Form bodies are ASCII (non-ASCII travels as escapes): such a body is split as bytes, and only
  // what needs decoding becomes text (latin1 reads ASCII as UTF-8 would, several times faster).
  const source: Buffer | string = bodyAscii ? body : body.toString('utf8');
  const slice = (from: number, to: number): string => (typeof source === 'string' ? source.slice(from, to) : source.toString('latin1', from, to));
  const params: FormParam[] = [];
  for (let start = 0; start < source.length; ) {
    const amp = source.indexOf('&', start);
    const end = amp === -1 ? source.length : amp;
    if (end > start) {
      const eq = source.indexOf('=', start);
      const nameEnd = eq === -1 || eq > end ? end : eq;
      const name = decode(slice(start, nameEnd));
      const raw = typeof source === 'string' || nameEnd === end ? undefined : source.subarray(nameEnd + 1, end);
      // A long value that needs no decoding is its own bytes: hashed without a copy.
      if (raw !== undefined && raw.length >= ZERO_COPY_BYTES && !raw.includes(0x2b) && !raw.includes(0x25)) {
        if (name === undefined) return lenient(body);
        params.push({ name, raw });
      } else {
        const value = nameEnd === end ? '' : decode(slice(nameEnd + 1, end));
        if (name === undefined || value === undefined) return lenient(body);
        params.push({ name, text: value });
      }
    }
    start = end + 1;
  }
  return { params, ascii };
}

/** URLSearchParams' reading, for a body with escapes that are not UTF-8 (kept or replaced the WHATWG way). */
function lenient(body: Buffer): { readonly params: readonly FormParam[]; readonly ascii: boolean } {
  return { params: [...new URLSearchParams(body.toString('utf8'))].map(([name, text]) => ({ name, text })), ascii: false };
}

/** Keys sorted, each key's distinct values sorted (as `getExpectedTwilioSignature` in the twilio SDK). */
function* signedOrder(params: readonly FormParam[]): Generator<FormParam> {
  const grouped = new Map<string, FormParam[]>();
  for (const param of params) {
    const group = grouped.get(param.name);
    if (group === undefined) grouped.set(param.name, [param]);
    else group.push(param);
  }
  for (const key of [...grouped.keys()].sort()) {
    const group = grouped.get(key) ?? [];
    if (group.length === 1) {
      yield* group;
      continue;
    }
    const distinct = new Map<string, FormParam>();
    for (const param of group) distinct.set(valueText(param), param);
    for (const value of [...distinct.keys()].sort()) yield { name: key, text: value };
  }
}

/**
 * POST parameters as Twilio signs them: keys sorted, each key's distinct values sorted, every
 * key+value appended without separators (as `getExpectedTwilioSignature` in the twilio SDK).
 */
export function formParams(body: Buffer): string {
  const parts: string[] = [];
  for (const param of signedOrder(parseForm(body).params)) parts.push(param.name, valueText(param));
  return parts.join('');
}

/**
 * {@link formParams} as UTF-8 bytes, in parts for the HMAC: long plain values are the body's own
 * bytes, everything between them one buffer. Copying and re-encoding a large body costs more
 * than its HMAC on a busy machine (allocation), and a forged request must not cost much more.
 */
export function formParamParts(body: Buffer): Buffer[] {
  const { params, ascii } = parseForm(body);
  // ASCII text is copied as is (V8's UTF-8 writer costs about as much as an HMAC).
  const encoding = ascii ? 'latin1' : 'utf8';
  const parts: Buffer[] = [];
  let pending: string[] = [];
  const flush = (): void => {
    if (pending.length > 0) parts.push(Buffer.from(pending.join(''), encoding));
    pending = [];
  };
  for (const param of signedOrder(params)) {
    pending.push(param.name);
    if (param.raw === undefined) {
      pending.push(param.text ?? '');
    } else {
      flush();
      parts.push(param.raw);
    }
  }
  flush();
  return parts;
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

function checkSignature(url: string, params: readonly Buffer[], presented: string, secrets: readonly string[]): RejectReason | undefined {
  for (const candidate of candidateUrls(url)) {
    // The parameters are encoded once: only the URL differs between candidates.
    const problem = hmacEquals('sha1', secrets, [Buffer.from(candidate, 'utf8'), ...params], [presented], 'base64');
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
    // Bounded work before the signature is known good: too many parameters to sort is refused.
    if (bodyHash === null && !withinFormParamLimit(request.body)) return rejected('malformed_body');
    const params = bodyHash === null ? formParamParts(request.body) : [];
    const problem = checkSignature(url, params, presented, secrets.secrets);
    if (problem !== undefined) return rejected(problem);
    if (bodyHash !== null) {
      const expected = decodeSignature(bodyHash, 'sha256', 'hex');
      const actual = createHash('sha256').update(request.body).digest();
      if (expected === undefined || !safeEqual(expected, actual)) return rejected('bad_body_hash');
    }
    return acceptedEvent(context, request.body, { id: header(request.headers, IDEMPOTENCY) });
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
