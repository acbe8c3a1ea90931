import { header } from '../header-values';
import { edgeStringField, parseJsonObject, stringField } from '../json';
import { acceptedEvent, rejected } from '../verification';
import type { ProviderStrategy } from '../provider';
import { checkTimestampList, signTimestampList } from '../timestamp-list';

const SIGNATURE = 'Stripe-Signature';

/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 of `<t>.<raw body>`
 * with the whole `whsec_...` string as key. Every v1 is tried against every secret (Stripe sends
 * several while an endpoint secret is being rolled); other schemes (v0) are ignored.
 * Dedupes on the event `id`, read from the body only after the signature verified (at the
 * body's edges when Stripe's layout allows, else by parsing it).
 */
export const stripe: ProviderStrategy = {
  methods: ['POST'],
  signatureHeaders: () => [SIGNATURE],
  verify(request, context) {
    const value = header(request.headers, SIGNATURE)?.trim();
    if (value === undefined || value.length === 0) return rejected('missing_signature');
    const problem = checkTimestampList(value, 'v1', request.body, context);
    if (problem !== undefined) return rejected(problem);
    // Stripe writes `id` first and `type` last: read them at the edges, parse only if that fails.
    const id = edgeStringField(request.body, 'id', 'first');
    const type = edgeStringField(request.body, 'type', 'last');
    // Both are inside the signed body.
    const signed = { idSigned: true, typeSigned: true };
    if (id !== undefined && type !== undefined) return acceptedEvent(context, request.body, { id, type, ...signed });
    const event = parseJsonObject(request.body);
    return acceptedEvent(context, request.body, { id: stringField(event, 'id'), type: stringField(event, 'type'), ...signed });
  },
  /** The event id lives in the body: the caller puts it there. */
  sign(_source, secret, body, { now, url }) {
    return { url, headers: { [SIGNATURE]: signTimestampList('v1', secret, body, now) } };
  },
};
