import { header, keyValueList } from '../headers';
import { hmacDigest, hmacEquals } from '../hmac';
import { acceptedEvent, rejected } from '../outcomes';
import type { ProviderStrategy } from '../provider';
import type { RejectReason, VerifyContext, WebhookRequest } from '../types';
import { timestampProblem } from '../window';

const SIGNATURE = 'X-Zoho-Webhook-Signature';

function check(value: string, request: WebhookRequest, { source, secrets, now }: VerifyContext): RejectReason | undefined {
  if (!value.includes('=')) return hmacEquals('sha256', secrets.secrets, [request.body], [value], 'hex');
  const fields = keyValueList(value);
  const timestamps = fields.get('t') ?? [];
  const signatures = fields.get('v') ?? [];
  if (timestamps.length !== 1 || signatures.length === 0) return 'malformed_signature';
  const timestamp = timestamps[0] ?? '';
  const content = [Buffer.from(`${timestamp}.`, 'utf8'), request.body];
  return timestampProblem(timestamp, now, source) ?? hmacEquals('sha256', secrets.secrets, content, signatures, 'hex');
}

/**
 * Zoho: `X-Zoho-Webhook-Signature` is either a plain hex HMAC-SHA256 of the raw body, or
 * `t=<unix>,v=<hex>` over `<t>.<raw body>` with the replay window. Zoho sends no delivery id:
 * events dedupe on the body hash.
 */
export const zoho: ProviderStrategy = {
  methods: ['POST'],
  verify(request, context) {
    const value = header(request.headers, SIGNATURE)?.trim();
    if (value === undefined || value.length === 0) return rejected('missing_signature');
    const problem = check(value, request, context);
    if (problem !== undefined) return rejected(problem);
    return acceptedEvent(context.source.name, request.body);
  },
  /** Signs the timestamped form, the one with replay protection. */
  sign(_source, secret, body, { now, url }) {
    const timestamp = String(Math.floor(now / 1000));
    const signature = hmacDigest('sha256', secret, [Buffer.from(`${timestamp}.`, 'utf8'), body]).toString('hex');
    return { url, headers: { [SIGNATURE]: `t=${timestamp},v=${signature}` } };
  },
};
