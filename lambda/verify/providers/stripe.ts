import { header, keyValueList } from '../headers';
import { hmacDigest, hmacEquals } from '../hmac';
import { parseJsonObject, stringField } from '../json';
import { acceptedEvent, rejected } from '../outcomes';
import type { ProviderStrategy } from '../provider';
import { timestampProblem } from '../window';

const SIGNATURE = 'Stripe-Signature';

/** The signed bytes: `<t>.` then the raw body. */
const content = (timestamp: string, body: Buffer): Buffer[] => [Buffer.from(`${timestamp}.`, 'utf8'), body];

/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 of `<t>.<raw body>`
 * with the whole `whsec_...` string as key. Every v1 is tried against every secret (Stripe sends
 * several while an endpoint secret is being rolled); other schemes (v0) are ignored.
 * Dedupes on the event `id`, read from the body only after the signature verified.
 */
export const stripe: ProviderStrategy = {
  methods: ['POST'],
  verify(request, { source, secrets, now }) {
    const value = header(request.headers, SIGNATURE);
    if (value === undefined || value.trim().length === 0) return rejected('missing_signature');
    const fields = keyValueList(value);
    const timestamps = fields.get('t') ?? [];
    const signatures = fields.get('v1') ?? [];
    // Exactly one t: with two, which one was signed would be ambiguous.
    if (timestamps.length !== 1 || signatures.length === 0) return rejected('malformed_signature');
    const timestamp = timestamps[0] ?? '';
    const problem =
      timestampProblem(timestamp, now, source) ??
      hmacEquals('sha256', secrets.secrets, content(timestamp, request.body), signatures, 'hex');
    if (problem !== undefined) return rejected(problem);
    const event = parseJsonObject(request.body);
    return acceptedEvent(source.name, request.body, stringField(event, 'id'), stringField(event, 'type'));
  },
  /** The event id lives in the body: the caller puts it there. */
  sign(_source, secret, body, { now, url }) {
    const timestamp = String(Math.floor(now / 1000));
    const signature = hmacDigest('sha256', secret, content(timestamp, body)).toString('hex');
    return { url, headers: { [SIGNATURE]: `t=${timestamp},v1=${signature}` } };
  },
};
