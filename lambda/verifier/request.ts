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
 * only the last value of a repeated header; `multiValueHeaders` has them all).
 */
export function requestHeaders(event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...(event.headers ?? {}) };
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (values !== undefined && values.length > 1) out[name] = values.join(', ');
  }
  return out;
}

function queryString(event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>): string {
  // REST API events carry decoded parameters, not the raw query string: rebuild it in the order
  // API Gateway lists them. URL-signing providers that sign the query (Twilio's bodySHA256) use
  // plain values, which survive this round trip.
  const parts: string[] = [];
  const multi = event.multiValueQueryStringParameters;
  if (multi) {
    for (const [name, values] of Object.entries(multi)) {
      for (const value of values ?? []) parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
    }
  } else {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
      if (value !== undefined) parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
    }
  }
  return parts.join('&');
}

/**
 * The full URL the provider called, for URL-signing providers: `source.publicUrl` when set (custom
 * domains, base path mappings), else scheme + Host + path (with the stage on the default
 * execute-api domain, where the caller's URL includes it) + query string.
 */
export function requestUrl(event: APIGatewayProxyEvent, source: Pick<NamedSource, 'publicUrl'>): string {
  const query = queryString(event);
  const withQuery = (base: string): string => (query.length === 0 ? base : `${base}${base.includes('?') ? '&' : '?'}${query}`);
  if (source.publicUrl !== undefined) return withQuery(source.publicUrl);
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
