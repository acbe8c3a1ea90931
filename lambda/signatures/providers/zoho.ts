import { header } from '../header-values';
import { hmacEquals } from '../hmac-digest';
import { acceptedEvent, rejected } from '../verification';
import type { ProviderStrategy } from '../provider';
import { checkTimestampList, signTimestampList } from '../timestamp-list';

const SIGNATURE = 'X-Zoho-Webhook-Signature';

/**
 * Zoho: `X-Zoho-Webhook-Signature` is either a plain hex HMAC-SHA256 of the raw body, or
 * `t=<unix>,v=<hex>` over `<t>.<raw body>` with the replay window. Zoho sends no delivery id:
 * events dedupe on the body hash.
 */
export const zoho: ProviderStrategy = {
  methods: ['POST'],
  signatureHeaders: () => [SIGNATURE],
  verify(request, context) {
    const value = header(request.headers, SIGNATURE)?.trim();
    if (value === undefined || value.length === 0) return rejected('missing_signature');
    // A hex digest never contains '=': its presence selects the timestamped form.
    const problem = value.includes('=')
      ? checkTimestampList(value, 'v', request.body, context)
      : hmacEquals('sha256', context.secrets.secrets, [request.body], [value], 'hex');
    if (problem !== undefined) return rejected(problem);
    return acceptedEvent(context, request.body);
  },
  /** Signs the timestamped form, the one with replay protection. */
  sign(_source, secret, body, { now, url }) {
    return { url, headers: { [SIGNATURE]: signTimestampList('v', secret, body, now) } };
  },
};
