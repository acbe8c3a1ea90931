import { safeHeaders } from '../../lambda/ingest/safe-headers';
import { testSource } from '../config/sources';

describe('safe headers', () => {
  const sent = {
    'Content-Type': 'application/json',
    'X-GitHub-Delivery': 'd-1',
    'X-Hub-Signature-256': 'sha256=abc',
    'Stripe-Signature': 't=1,v1=abc',
    'X-Slack-Request-Timestamp': '1',
    'webhook-id': 'msg_1',
    'webhook-signature': 'v1,abc',
    Authorization: 'Bearer x',
    'X-Partner-Delivery': 'dlv_1',
    'I-Twilio-Idempotency-Token': 'idem-1',
  };

  it('keeps content type and provider ids, drops signatures, timestamps and credentials', () => {
    expect(safeHeaders(sent)).toEqual({ 'content-type': 'application/json', 'x-github-delivery': 'd-1', 'webhook-id': 'msg_1', 'i-twilio-idempotency-token': 'idem-1' });
  });

  it('keeps the content encoding, so a processor knows gzip bytes are not yet the content type', () => {
    const kept = safeHeaders({ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'X-Shopify-Hmac-Sha256': 'abc=' });

    expect(kept).toEqual({ 'content-type': 'application/json', 'content-encoding': 'gzip' });
  });

  it('keeps an hmac source id header and never a token source own header', () => {
    const hmac = safeHeaders(sent, testSource({ name: 'p', provider: 'hmac', hmac: { header: 'x-partner-signature', idHeader: 'X-Partner-Delivery' } }));
    const token = safeHeaders({ 'User-Agent': 'ua', 'content-type': 'a' }, testSource({ name: 'o', provider: 'token', header: 'User-Agent' }));

    expect(hmac['x-partner-delivery']).toBe('dlv_1');
    expect(token).toEqual({ 'content-type': 'a' });
  });
});
