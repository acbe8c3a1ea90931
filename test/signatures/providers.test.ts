import { createHash } from 'node:crypto';
import { createHmac } from 'node:crypto';
import type { NamedSource } from '../../lambda/config/schema';
import { verifyWebhook } from '../../lambda/signatures';
import { bodyKey } from '../../lambda/signatures/dedupe-key';
import { signRequest } from '../../lambda/signatures/sign';
import type { Verification } from '../../lambda/signatures/types';
import { context, NOW, NOW_SECONDS, request, signed, testSource, URL_OF, withHeader } from './fixtures';

const outcome = (v: Verification): string => (v.kind === 'rejected' ? v.reason : v.kind);
const hex = (secret: string, data: string | Buffer): string => createHmac('sha256', secret).update(data).digest('hex');

describe('Meta subscription handshake', () => {
  const meta = testSource({ name: 'whatsapp', provider: 'meta' });
  const ctx = context(meta, ['app-secret'], { verifyToken: 'the-verify-token' });
  const handshake = (query: string) => request(Buffer.alloc(0), {}, `${URL_OF('whatsapp')}?${query}`, 'GET');

  it('answers the challenge as text/plain when the verify token matches', () => {
    const result = verifyWebhook(handshake('hub.mode=subscribe&hub.verify_token=the-verify-token&hub.challenge=1158201444'), ctx);
    expect(result).toEqual({ kind: 'challenge', status: 200, contentType: 'text/plain', body: '1158201444' });
  });

  it.each([
    ['a wrong verify token', 'hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1'],
    ['another mode', 'hub.mode=unsubscribe&hub.verify_token=the-verify-token&hub.challenge=1'],
    ['no verify token', 'hub.mode=subscribe&hub.challenge=1'],
    ['no challenge', 'hub.mode=subscribe&hub.verify_token=the-verify-token'],
  ])('refuses a handshake with %s', (_name, query) => {
    expect(verifyWebhook(handshake(query), ctx)).toEqual({ kind: 'rejected', reason: 'bad_verify_token' });
  });

  it.each([
    ['markup', '<script>alert(1)</script>'],
    ['a header break', 'a\r\nSet-Cookie: x=1'],
    ['a space', '1158201444 1'],
    ['non-ASCII letters', 'défi'],
    ['65 characters', '1'.repeat(65)],
    ['an empty value', ''],
  ])('refuses to echo a challenge with %s, even with the right verify token', (_name, challenge) => {
    const query = `hub.mode=subscribe&hub.verify_token=the-verify-token&hub.challenge=${encodeURIComponent(challenge)}`;

    expect(verifyWebhook(handshake(query), ctx)).toEqual({ kind: 'rejected', reason: 'malformed_challenge' });
  });

  it('echoes a challenge of letters, digits, dot, dash and underscore up to 64 characters', () => {
    const challenge = `Ab0.-_${'9'.repeat(58)}`;
    const query = `hub.mode=subscribe&hub.verify_token=the-verify-token&hub.challenge=${challenge}`;

    expect(verifyWebhook(handshake(query), ctx)).toMatchObject({ kind: 'challenge', status: 200, body: challenge });
  });

  it('refuses every handshake when the source has no verify token', () => {
    const result = verifyWebhook(handshake('hub.mode=subscribe&hub.verify_token=&hub.challenge=1'), context(meta, ['app-secret']));
    expect(result).toEqual({ kind: 'rejected', reason: 'bad_verify_token' });
  });

  it('builds a handshake that verifies with the signer', () => {
    const out = signRequest(meta, 'the-verify-token', Buffer.alloc(0), { now: NOW, url: URL_OF('whatsapp'), method: 'GET', eventId: 'chal' });
    expect(verifyWebhook(request(Buffer.alloc(0), out.headers, out.url, 'GET'), ctx)).toMatchObject({ kind: 'challenge', body: 'chal' });
  });

  it('dedupes signed events on the body hash (Meta sends no delivery id)', () => {
    const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
    const result = verifyWebhook(signed(meta, 'app-secret', body), ctx);
    expect(result).toEqual({ kind: 'accepted', dedupeKey: bodyKey('whatsapp', body, 'app-secret'), typeSigned: false });
  });

  it('keys the body hash with the first secret, so a retry signed with either rotated secret dedupes alike', () => {
    const body = Buffer.from('{"object":"whatsapp_business_account","entry":[{"id":"1"}]}');
    const rotated = context(meta, ['new-secret', 'old-secret']);

    const withNew = verifyWebhook(signed(meta, 'new-secret', body), rotated);
    const withOld = verifyWebhook(signed(meta, 'old-secret', body), rotated);
    const bare = createHash('sha256').update(body).digest('hex');

    expect(withNew).toEqual(withOld);
    expect(withNew).toMatchObject({ kind: 'accepted', dedupeKey: expect.stringMatching(/^whatsapp:hmac-sha256:[0-9a-f]{64}$/) });
    expect(JSON.stringify(withNew)).not.toContain(bare);
    expect(verifyWebhook(signed(meta, 'other', body), context(meta, ['other']))).not.toEqual(withNew);
  });
});

describe('Slack payloads', () => {
  const slack = testSource({ name: 'slack', provider: 'slack' });
  const ctx = context(slack, ['slack-secret']);

  it('answers a signed url_verification with its challenge as text/plain', () => {
    const body = Buffer.from('{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}');
    expect(verifyWebhook(signed(slack, 'slack-secret', body), ctx)).toEqual({
      kind: 'challenge',
      status: 200,
      contentType: 'text/plain',
      body: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    });
  });

  it('does not answer an unsigned url_verification', () => {
    const body = Buffer.from('{"challenge":"c","type":"url_verification"}');
    const req = withHeader(signed(slack, 'slack-secret', body), 'X-Slack-Signature', `v0=${'0'.repeat(64)}`);
    expect(outcome(verifyWebhook(req, ctx))).toBe('bad_signature');
  });

  it('dedupes Events API callbacks on event_id, typed by the inner event', () => {
    const body = Buffer.from('{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention"}}');
    expect(verifyWebhook(signed(slack, 'slack-secret', body), ctx)).toEqual({
      kind: 'accepted',
      dedupeKey: 'slack:Ev08MFMKH6',
      eventId: 'Ev08MFMKH6',
      eventType: 'app_mention',
      typeSigned: true,
    });
  });

  it('dedupes slash commands (form bodies) on the body hash', () => {
    const body = Buffer.from('command=%2Fweather&text=paris');
    expect(verifyWebhook(signed(slack, 'slack-secret', body), ctx)).toEqual({ kind: 'accepted', dedupeKey: bodyKey('slack', body, 'slack-secret'), typeSigned: false });
  });
});

describe('Stripe header and body', () => {
  const stripe = testSource({ name: 'stripe', provider: 'stripe' });
  const ctx = context(stripe, ['whsec_s']);
  const body = Buffer.from('{"id":"evt_1"}');
  const sig = (t: string) => hex('whsec_s', `${t}.${body.toString()}`);

  it.each([
    ['no t', `v1=${sig(String(NOW_SECONDS))}`, 'malformed_signature'],
    ['two t', `t=${NOW_SECONDS},t=${NOW_SECONDS},v1=${sig(String(NOW_SECONDS))}`, 'malformed_signature'],
    ['only v0', `t=${NOW_SECONDS},v0=${sig(String(NOW_SECONDS))}`, 'malformed_signature'],
    ['a t that is not a number', `t=soon,v1=${sig('soon')}`, 'malformed_timestamp'],
    ['a t with a sign', `t=+${NOW_SECONDS},v1=${sig(`+${NOW_SECONDS}`)}`, 'malformed_timestamp'],
    ['a truncated v1', `t=${NOW_SECONDS},v1=${sig(String(NOW_SECONDS)).slice(0, 63)}`, 'malformed_signature'],
    ['a v1 of another body', `t=${NOW_SECONDS},v1=${hex('whsec_s', `${NOW_SECONDS}.{}`)}`, 'bad_signature'],
  ])('refuses a header with %s', (_name, value, reason) => {
    expect(outcome(verifyWebhook(request(body, { 'Stripe-Signature': value }, URL_OF('stripe')), ctx))).toBe(reason);
  });

  it('dedupes on the body hash when the signed body is not JSON', () => {
    const text = Buffer.from('not json');
    expect(verifyWebhook(signed(stripe, 'whsec_s', text), ctx)).toEqual({ kind: 'accepted', dedupeKey: bodyKey('stripe', text, 'whsec_s'), typeSigned: false });
  });
});

describe('Zoho signature forms', () => {
  const zoho = testSource({ name: 'zoho-crm', provider: 'zoho' });
  const ctx = context(zoho, ['zoho-key']);
  const body = Buffer.from('{"module":"Leads","ids":["1"]}');

  it('accepts a plain hex HMAC of the raw body, and dedupes on the body hash', () => {
    const req = request(body, { 'X-Zoho-Webhook-Signature': hex('zoho-key', body) }, URL_OF('zoho-crm'));
    expect(verifyWebhook(req, ctx)).toEqual({ kind: 'accepted', dedupeKey: bodyKey('zoho-crm', body, 'zoho-key'), typeSigned: false });
  });

  it('accepts the t=,v= form over "t.body" and applies the window to it', () => {
    const value = (t: number) => `t=${t},v=${hex('zoho-key', Buffer.concat([Buffer.from(`${t}.`), body]))}`;
    const fresh = request(body, { 'x-zoho-webhook-signature': value(NOW_SECONDS) }, URL_OF('zoho-crm'));
    const stale = request(body, { 'x-zoho-webhook-signature': value(NOW_SECONDS - 301) }, URL_OF('zoho-crm'));
    expect([outcome(verifyWebhook(fresh, ctx)), outcome(verifyWebhook(stale, ctx))]).toEqual(['accepted', 'timestamp_out_of_window']);
  });
});

describe('Standard Webhooks headers', () => {
  const svix = testSource({ name: 'svix', provider: 'standard' });
  const ctx = context(svix, ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']);
  const body = Buffer.from('{"type":"user.created"}');

  it('refuses a request without webhook-id, which is part of what is signed', () => {
    const req = withHeader(signed(svix, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', body), 'webhook-id', undefined);
    expect(outcome(verifyWebhook(req, ctx))).toBe('missing_signature');
  });

  it('refuses a signature list with no v1 entry', () => {
    const req = withHeader(signed(svix, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', body), 'webhook-signature', 'v1a,AAAA v2,BBBB');
    expect(outcome(verifyWebhook(req, ctx))).toBe('malformed_signature');
  });

  it('refuses a request whose webhook-id was changed, since the id is signed', () => {
    const req = withHeader(signed(svix, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', body), 'webhook-id', 'msg_other');
    expect(outcome(verifyWebhook(req, ctx))).toBe('bad_signature');
  });
});

describe('Twilio form parameters', () => {
  const twilio = testSource({ name: 'twilio', provider: 'twilio' });
  const ctx = context(twilio, ['auth-token']);

  it('accepts the same parameters in another order: Twilio signs decoded, sorted parameters, not bytes', () => {
    const req = signed(twilio, 'auth-token', Buffer.from('b=2&a=1'));
    const reordered = { ...req, body: Buffer.from('a=1&b=2') };
    expect(outcome(verifyWebhook(reordered, ctx))).toBe('accepted');
  });

  it('refuses a changed parameter value', () => {
    const req = signed(twilio, 'auth-token', Buffer.from('Body=pay+10&To=%2B1'));
    expect(outcome(verifyWebhook({ ...req, body: Buffer.from('Body=pay+90&To=%2B1') }, ctx))).toBe('bad_signature');
  });

  it('signs for publicUrl when the source has one, as the verifier checks it', () => {
    const proxied: NamedSource = { ...twilio, publicUrl: 'https://hooks.example.com/webhooks/twilio' };
    const out = signRequest(proxied, 'auth-token', Buffer.from('Body=hi'), { now: NOW, url: 'http://localhost:3000/webhooks/twilio?x=1' });
    const req = request(Buffer.from('Body=hi'), out.headers, out.url);
    expect(outcome(verifyWebhook(req, context(proxied, ['auth-token'])))).toBe('accepted');
    expect(outcome(verifyWebhook(req, ctx))).toBe('bad_signature');
  });

  it('accepts a signed form of 256 parameters and refuses one of 257 as malformed_body, even correctly signed, before sorting', () => {
    const form = (count: number): Buffer => Buffer.from(Array.from({ length: count }, (_, i) => `p${i}=${i}`).join('&'));
    expect(outcome(verifyWebhook(signed(twilio, 'auth-token', form(256)), ctx))).toBe('accepted');
    expect(outcome(verifyWebhook(signed(twilio, 'auth-token', form(257)), ctx))).toBe('malformed_body');
  });

  it('leaves a JSON body (signed by URL) free of the form parameter limit', () => {
    const body = Buffer.from(JSON.stringify({ list: Array.from({ length: 400 }, (_, i) => `a&${i}`) }));
    expect(outcome(verifyWebhook(signed(twilio, 'auth-token', body), ctx))).toBe('accepted');
  });

  it('refuses a JSON-signed URL whose bodySHA256 is not a SHA-256', () => {
    const req = signed(twilio, 'auth-token', Buffer.from('{"a":1}'));
    const url = req.url.replace(/bodySHA256=[0-9a-f]+/, 'bodySHA256=zz');
    const resigned = signRequest(twilio, 'auth-token', Buffer.alloc(0), { now: NOW, url });
    expect(outcome(verifyWebhook({ ...req, url, headers: resigned.headers }, ctx))).toBe('bad_body_hash');
  });
});

describe('generic hmac sources', () => {
  const partner = testSource({
    name: 'partner',
    provider: 'hmac',
    hmac: { header: 'x-sig', timestampHeader: 'x-ts', idHeader: 'x-delivery' },
  });

  it('signs "{timestamp}.{body}" by default when a timestamp header is set, and dedupes on idHeader (the window bounds its replay)', () => {
    const body = Buffer.from('{"a":1}');
    const req = request(body, { 'x-sig': hex('p', `${NOW_SECONDS}.{"a":1}`), 'x-ts': String(NOW_SECONDS), 'x-delivery': 'd-1' }, URL_OF('partner'));
    expect(verifyWebhook(req, context(partner, ['p']))).toEqual({ kind: 'accepted', dedupeKey: 'partner:d-1', eventId: 'd-1', typeSigned: false });
  });

  it('dedupes on the body hash when neither the id header nor a timestamp is signed, keeping the id for logs', () => {
    const untimed = testSource({ name: 'partner', provider: 'hmac', hmac: { header: 'x-sig', idHeader: 'x-delivery' } });
    const body = Buffer.from('{"a":1}');
    const headers = { 'x-sig': hex('p', body) };

    const first = verifyWebhook(request(body, { ...headers, 'x-delivery': 'd-1' }, URL_OF('partner')), context(untimed, ['p']));
    const replayed = verifyWebhook(request(body, { ...headers, 'x-delivery': 'd-2' }, URL_OF('partner')), context(untimed, ['p']));

    expect(first).toEqual({ kind: 'accepted', dedupeKey: bodyKey('partner', body, 'p'), eventId: 'd-1', typeSigned: false });
    expect(replayed).toMatchObject({ dedupeKey: bodyKey('partner', body, 'p'), eventId: 'd-2' });
  });

  it('refuses a signature without the configured prefix', () => {
    const prefixed = testSource({ name: 'p', provider: 'hmac', hmac: { header: 'x-sig', prefix: 'sha256=' } });
    const body = Buffer.from('x');
    expect(outcome(verifyWebhook(request(body, { 'x-sig': hex('p', body) }, URL_OF('p')), context(prefixed, ['p'])))).toBe('malformed_signature');
  });
});

describe('provider ids used for dedupe', () => {
  // A source whose id dedupes as is: the signed timestamp bounds a replay under another id.
  const partner = testSource({ name: 'partner', provider: 'hmac', hmac: { header: 'x-sig', timestampHeader: 'x-ts', idHeader: 'x-delivery' } });
  const github = testSource({ name: 'github', provider: 'github' });
  const body = Buffer.from('{}');
  const withDelivery = (id: string) => verifyWebhook(signed(partner, 's', body, NOW, id), context(partner, ['s']));

  it('uses a printable id of up to 256 characters as is', () => {
    expect(withDelivery('a'.repeat(256))).toMatchObject({ dedupeKey: `partner:${'a'.repeat(256)}`, eventId: 'a'.repeat(256) });
  });

  it.each([
    ['longer than 256 characters', 'a'.repeat(257)],
    ['with a control character', 'abc\u0000def'],
    ['with a space', 'abc def'],
    ['with non-ASCII characters', 'événement'],
  ])('hashes an id %s, keeping it stable and out of eventId', (_name, id) => {
    const first = withDelivery(id);
    const again = withDelivery(id);
    expect(first).toMatchObject({ kind: 'accepted', dedupeKey: expect.stringMatching(/^partner:id-sha256:[0-9a-f]{64}$/) });
    expect(first).not.toHaveProperty('eventId');
    expect(again).toEqual(first);
  });

  it('drops an event type that is not printable ASCII', () => {
    const req = withHeader(signed(github, 's', body), 'X-GitHub-Event', 'push\r\nx-injected: 1');
    expect(verifyWebhook(req, context(github, ['s']))).not.toHaveProperty('eventType');
  });
});

describe('ids and types the signature does not cover', () => {
  const body = Buffer.from('{"id":820982911946154508,"email":"jon@example.com","total_price":"19.99"}');

  it.each([
    ['github', 'X-GitHub-Delivery', 'X-GitHub-Event', 'issues', 'repository_vulnerability_alert'],
    ['shopify', 'X-Shopify-Webhook-Id', 'X-Shopify-Topic', 'orders/create', 'customers/redact'],
  ] as const)('%s: a captured request re-sent under a new id dedupes with the original; under another type it is another event; both types unsigned', (provider, idHeader, typeHeader, type, other) => {
    const source = testSource({ name: provider, provider });
    const ctx = context(source, ['s']);
    const original = withHeader(signed(source, 's', body, NOW, 'delivery-1'), typeHeader, type);
    const replayed = withHeader(original, idHeader, 'delivery-2');
    const otherType = withHeader(withHeader(original, idHeader, 'delivery-4'), typeHeader, other);
    // A genuine redelivery: the provider signs the same bytes again, under the same or a new id.
    const redelivered = withHeader(signed(source, 's', body, NOW + 3_600_000, 'delivery-3'), typeHeader, type);

    const [first, replay, second, redelivery] = [original, replayed, otherType, redelivered].map((r) => verifyWebhook(r, ctx));

    const key = bodyKey(provider, body, 's');
    expect(first).toEqual({ kind: 'accepted', dedupeKey: `${key}:${type}`, eventId: 'delivery-1', eventType: type, typeSigned: false });
    expect(replay).toMatchObject({ kind: 'accepted', dedupeKey: `${key}:${type}`, eventId: 'delivery-2', typeSigned: false });
    expect(second).toMatchObject({ kind: 'accepted', dedupeKey: `${key}:${other}`, eventType: other, typeSigned: false });
    expect(redelivery).toMatchObject({ kind: 'accepted', dedupeKey: `${key}:${type}`, eventId: 'delivery-3' });
  });

  it('twilio: the idempotency token is not signed, so a form dedupes on its body and the token is only logged', () => {
    const twilio = testSource({ name: 'twilio', provider: 'twilio' });
    const form = Buffer.from('MessageSid=SM1&Body=hi');

    const first = verifyWebhook(signed(twilio, 't', form, NOW, 'idem-1'), context(twilio, ['t']));
    const again = verifyWebhook(signed(twilio, 't', form, NOW, 'idem-2'), context(twilio, ['t']));

    expect(first).toEqual({ kind: 'accepted', dedupeKey: bodyKey('twilio', form, 't'), eventId: 'idem-1', typeSigned: false });
    expect(again).toMatchObject({ dedupeKey: bodyKey('twilio', form, 't') });
  });

  it('stripe, slack and standard keep their signed ids as keys, and stripe and slack types are signed', () => {
    const stripe = testSource({ name: 'stripe', provider: 'stripe' });
    const slack = testSource({ name: 'slack', provider: 'slack' });
    const svix = testSource({ name: 'svix', provider: 'standard' });
    const svixSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

    const fromStripe = verifyWebhook(signed(stripe, 'whsec_s', Buffer.from('{"id":"evt_9","type":"charge.refunded"}')), context(stripe, ['whsec_s']));
    const fromSlack = verifyWebhook(signed(slack, 'x', Buffer.from('{"type":"event_callback","event_id":"Ev9","event":{"type":"message"}}')), context(slack, ['x']));
    const fromSvix = verifyWebhook(signed(svix, svixSecret, Buffer.from('{"type":"user.created"}'), NOW, 'msg_9'), context(svix, [svixSecret]));

    expect(fromStripe).toEqual({ kind: 'accepted', dedupeKey: 'stripe:evt_9', eventId: 'evt_9', eventType: 'charge.refunded', typeSigned: true });
    expect(fromSlack).toEqual({ kind: 'accepted', dedupeKey: 'slack:Ev9', eventId: 'Ev9', eventType: 'message', typeSigned: true });
    expect(fromSvix).toEqual({ kind: 'accepted', dedupeKey: 'svix:msg_9', eventId: 'msg_9', typeSigned: false });
  });
});

describe('token signer', () => {
  it('puts a query token in the URL', () => {
    const orders = testSource({ name: 'orders', provider: 'token', query: 'token' });
    const out = signRequest(orders, 'tok', Buffer.from('{}'), { now: NOW, url: URL_OF('orders') });
    expect(out.url).toBe(`${URL_OF('orders')}?token=tok`);
    expect(outcome(verifyWebhook(request(Buffer.from('{}'), out.headers, out.url), context(orders, ['tok'])))).toBe('accepted');
  });
});

describe('verifyWebhook', () => {
  it('refuses a source whose provider it does not know', () => {
    const unknown = { name: 'x', provider: 'paypal' } as unknown as NamedSource;
    expect(verifyWebhook(request(Buffer.from('{}'), {}, URL_OF('x')), context(unknown, ['s']))).toEqual({ kind: 'rejected', reason: 'bad_signature' });
  });
});
