import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { NamedSource } from '../config/schema';
import { header } from '../signatures/header-values';

/** The raw body bytes exactly as received (API Gateway base64-encodes binary media types). */
export function rawBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/**
 * Headers with repeated ones comma-joined, as Node presents them (API Gateway's `headers` keeps
 * only the last value of a repeated header; `multiValueHeaders` has them all). A record without a
 * prototype: names come from the sender, and `__proto__` must stay an ordinary name.
 */
export function requestHeaders(event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
  for (const [name, value] of Object.entries(event.headers ?? {})) out[name] = value;
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (values !== undefined && values.length > 1) out[name] = values.join(', ');
  }
  return out;
}

/** `encodeURIComponent` that never throws: a lone surrogate becomes U+FFFD, as a UTF-8 decoder makes it. */
function encodeComponent(value: string): string {
  return encodeURIComponent(value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}

/**
 * The query string, rebuilt from API Gateway's decoded parameters: REST proxy events do not
 * carry the raw one. Each name's values stay in the order received, names in the order the event
 * lists them; every name and value is percent-encoded with `encodeURIComponent`. This is one
 * spelling of the parameters the provider sent: URL-signing providers (Twilio) try the other
 * spellings and orders a client may have used.
 */
function queryString(event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>): string {
  const parts: string[] = [];
  const multi = event.multiValueQueryStringParameters;
  if (multi) {
    for (const [name, values] of Object.entries(multi)) {
      for (const value of values ?? []) parts.push(`${encodeComponent(name)}=${encodeComponent(value)}`);
    }
  } else {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
      if (value !== undefined) parts.push(`${encodeComponent(name)}=${encodeComponent(value)}`);
    }
  }
  return parts.join('&');
}

/**
 * The full URL the provider called, for URL-signing providers: scheme, host and path of
 * `source.publicUrl` when set (custom domains, base path mappings), else scheme + Host + path
 * (with the stage on the default execute-api domain, where the caller's URL includes it); then
 * the request's own query string. A query (or fragment) in `publicUrl` is dropped, never merged:
 * what a provider signed is the query it sent.
 */
export function requestUrl(event: APIGatewayProxyEvent, source: Pick<NamedSource, 'publicUrl'>): string {
  const query = queryString(event);
  const withQuery = (base: string): string => (query.length === 0 ? base : `${base}?${query}`);
  if (source.publicUrl !== undefined) return withQuery(source.publicUrl.split(/[?#]/, 1)[0] ?? source.publicUrl);
  const headers = event.headers ?? {};
  // API Gateway always sets https; the local server says http so local signatures match.
  const forwarded = header(headers, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const scheme = forwarded === 'http' ? 'http' : 'https';
  const host = header(headers, 'host') ?? event.requestContext?.domainName ?? 'localhost';
  const stage = event.requestContext?.stage;
  const onExecuteApi = /\.execute-api\.[a-z0-9-]+\.amazonaws\.com(:\d+)?$/i.test(host);
  const path = onExecuteApi && stage && !event.path.startsWith(`/${stage}/`) ? `/${stage}${event.path}` : event.path;
  return withQuery(`${scheme}://${host}${path}`);
}
