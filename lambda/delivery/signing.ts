import { hmacDigest } from '../signatures/hmac-digest';
import { signedContent, standardKey } from '../signatures/providers/standard';

/** The three Standard Webhooks headers of one outbound request. */
export interface StandardWebhookHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/**
 * Signs an outbound request the Standard Webhooks way: HMAC-SHA256, base64, over
 * `<id>.<timestamp>.<body bytes>`, keyed with each secret's base64-decoded bytes (`whsec_`
 * stripped). One space-separated `v1,<signature>` entry per secret, in order, so that during a
 * rotation a receiver holding either the new or the old secret verifies. Pure.
 *
 * @param secrets the destination's signing secrets, new first (checked by the `standard` secret rule)
 * @param timestampSeconds unix seconds of the signing time
 * @throws Error when there is no secret or one is not a usable key (never echoing it)
 */
export function signStandardWebhook(secrets: readonly string[], id: string, timestampSeconds: number, body: Buffer): StandardWebhookHeaders {
  if (secrets.length === 0) throw new Error('no signing secret: outbound requests are always signed');
  const timestamp = String(Math.floor(timestampSeconds));
  const content = signedContent(id, timestamp, body);
  const signatures = secrets.map((secret, index) => {
    const key = standardKey(secret);
    if (key === undefined) throw new Error(`signing secret ${index} is not base64, optionally prefixed whsec_`);
    return `v1,${hmacDigest('sha256', key, content).toString('base64')}`;
  });
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signatures.join(' ') };
}
