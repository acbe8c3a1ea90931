import { header } from './header-values';
import { encodeDigest, type HashAlgorithm, hmacDigest, hmacEquals, type SignatureEncoding } from './hmac-digest';
import type { RejectReason, VerifyContext, WebhookRequest } from './types';
import { timestampProblem } from './window';

/** One piece of signed content: literal bytes, the raw body, or the timestamp header's value. */
export type TemplatePart = Buffer | 'body' | 'timestamp';

/**
 * The shape most providers share: one header carrying one HMAC (after a fixed prefix) over a
 * template of literal text, an optional timestamp header and the raw body. GitHub, Meta,
 * Shopify, Slack and the generic `hmac` provider are all instances of it.
 */
export interface HeaderHmacScheme {
  readonly header: string;
  readonly algorithm: HashAlgorithm;
  readonly encoding: SignatureEncoding;
  /** Text before the signature, for example `sha256=`; '' for none. */
  readonly prefix: string;
  /** Header carrying unix seconds; when set, the replay window applies. */
  readonly timestampHeader?: string;
  /** What is signed, from {@link compileTemplate}. */
  readonly template: readonly TemplatePart[];
}

/** Compiles `{timestamp}.{body}`-style templates once, into literal bytes and placeholders. */
export function compileTemplate(template: string): readonly TemplatePart[] {
  const parts: TemplatePart[] = [];
  for (const piece of template.split(/(\{body\}|\{timestamp\})/)) {
    if (piece === '{body}') parts.push('body');
    else if (piece === '{timestamp}') parts.push('timestamp');
    else if (piece.length > 0) parts.push(Buffer.from(piece, 'utf8'));
  }
  return parts;
}

/** The signed bytes as a list of buffers: the body is passed through as is, never via a string. */
function signedContent(template: readonly TemplatePart[], body: Buffer, timestamp: string): Buffer[] {
  const stamp = Buffer.from(timestamp, 'utf8');
  return template.map((part) => (part === 'body' ? body : part === 'timestamp' ? stamp : part));
}

/**
 * Verifies a request against a header scheme.
 * @returns `undefined` when the signature matches one of the secrets inside the window, else the reason
 */
export function checkHeaderHmac(scheme: HeaderHmacScheme, request: WebhookRequest, context: VerifyContext): RejectReason | undefined {
  const value = header(request.headers, scheme.header)?.trim();
  if (value === undefined || value.length === 0) return 'missing_signature';
  let timestamp = '';
  if (scheme.timestampHeader !== undefined) {
    timestamp = header(request.headers, scheme.timestampHeader)?.trim() ?? '';
    const problem = timestampProblem(timestamp, context.now, context.source);
    if (problem !== undefined) return problem;
  }
  if (!value.startsWith(scheme.prefix)) return 'malformed_signature';
  const content = signedContent(scheme.template, request.body, timestamp);
  return hmacEquals(scheme.algorithm, context.secrets.secrets, content, [value.slice(scheme.prefix.length)], scheme.encoding);
}

/** Headers a sender of this scheme sends: the signature, and the timestamp when the scheme has one. */
export function signHeaderHmac(scheme: HeaderHmacScheme, secret: string, body: Buffer, now: number): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const digest = hmacDigest(scheme.algorithm, secret, signedContent(scheme.template, body, timestamp));
  const headers: Record<string, string> = { [scheme.header]: scheme.prefix + encodeDigest(digest, scheme.encoding) };
  if (scheme.timestampHeader !== undefined) headers[scheme.timestampHeader] = timestamp;
  return headers;
}

/** `X-Hub-Signature-256: sha256=<hex>` over the raw body: GitHub's header, which Meta uses too. */
export const HUB_SIGNATURE_256: HeaderHmacScheme = {
  header: 'X-Hub-Signature-256',
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: 'sha256=',
  template: compileTemplate('{body}'),
};
