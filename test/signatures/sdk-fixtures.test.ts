import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { getExpectedBodyHash, getExpectedTwilioSignature, validateRequest, validateRequestWithBody } from 'twilio/lib/webhooks/webhooks';
import type { NamedSource } from '../../lambda/config/schema';
import { verifyWebhook } from '../../lambda/signatures';
import { bodyKey } from '../../lambda/signatures/dedupe-key';
import { signRequest } from '../../lambda/signatures/sign';
import { context, NOW, NOW_SECONDS, request, testSource } from './fixtures';

/**
 * Fixtures come from the providers' own SDKs (and from published examples), never from our
 * signer, so that a mistake shared by our signer and our verifier cannot hide.
 */

/** @octokit/webhooks-methods is ESM only, which jest's CommonJS runtime cannot load: run it in Node. */
function octokitSign(pairs: readonly (readonly [string, string])[]): string[] {
  const script =
    "import { sign } from '@octokit/webhooks-methods';" +
    'const pairs = JSON.parse(process.argv[1]);' +
    'console.log(JSON.stringify(await Promise.all(pairs.map(([s, p]) => sign(s, p)))));';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(pairs)], { encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

const payload = '{"id":"evt_123","type":"payment_intent.succeeded","object":"event","data":{"note":"café ✓ \\u00e9"}}';
const body = Buffer.from(payload, 'utf8');

describe('GitHub', () => {
  const github = testSource({ name: 'github', provider: 'github' });

  it("verifies GitHub's published example byte for byte", () => {
    // Prepare: docs.github.com "Validating webhook deliveries", test values
    const req = request(Buffer.from('Hello, World!'), {
      'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
      'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'X-GitHub-Event': 'push',
    }, 'https://hooks.example.com/webhooks/github');
    // Act
    const result = verifyWebhook(req, context(github, ["It's a Secret to Everybody"]));
    // Assess
    // Neither the delivery id nor the event header is signed: body key with the type, unsigned type.
    expect(result).toEqual({
      kind: 'accepted',
      dedupeKey: `${bodyKey('github', Buffer.from('Hello, World!'), "It's a Secret to Everybody")}:push`,
      eventId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      eventType: 'push',
      typeSigned: false,
    });
  });

  it('accepts what @octokit/webhooks-methods signs, and signs the same as it', () => {
    const [fromSdk] = octokitSign([['gh-secret', payload]]);
    const req = request(body, { 'x-hub-signature-256': fromSdk }, 'https://h/webhooks/github');
    const ours = signRequest(github, 'gh-secret', body, { now: NOW, url: 'https://h/webhooks/github' });
    expect(verifyWebhook(req, context(github, ['other', 'gh-secret'])).kind).toBe('accepted');
    expect(ours.headers['X-Hub-Signature-256']).toBe(fromSdk);
  });
});

describe('Slack', () => {
  it("verifies Slack's published example byte for byte", () => {
    // Prepare: api.slack.com "Verifying requests from Slack", the worked example. Its command is
    // `%2Fwebhook-collect`: copies that read `%2Fwebbot` do not hash to the published signature.
    const slackBody =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const slack = testSource({ name: 'slack', provider: 'slack' });
    const req = request(Buffer.from(slackBody), {
      'X-Slack-Request-Timestamp': '1531420618',
      'X-Slack-Signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    }, 'https://h/webhooks/slack');
    // Act
    const result = verifyWebhook(req, context(slack, ['8f742231b10e8888abcd99yyyzzz85a5'], {}, 1531420618_000 + 60_000));
    // Assess
    expect(result).toMatchObject({ kind: 'accepted', dedupeKey: expect.stringMatching(/^slack:hmac-sha256:[0-9a-f]{64}$/) });
  });
});

describe('Stripe', () => {
  const stripe = testSource({ name: 'stripe', provider: 'stripe' });
  const secret = 'whsec_test_secret';

  it('accepts what the stripe SDK signs, and dedupes on the event id from the body', () => {
    const sdkHeader = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: NOW_SECONDS });
    const req = request(body, { 'Stripe-Signature': sdkHeader }, 'https://h/webhooks/stripe');
    expect(verifyWebhook(req, context(stripe, [secret]))).toEqual({
      kind: 'accepted',
      dedupeKey: 'stripe:evt_123',
      eventId: 'evt_123',
      eventType: 'payment_intent.succeeded',
      typeSigned: true,
    });
  });

  it('signs exactly as the stripe SDK does, and the SDK accepts our signature', () => {
    const sdkHeader = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: NOW_SECONDS });
    const ours = signRequest(stripe, secret, body, { now: NOW, url: 'https://h/webhooks/stripe' });
    const live = signRequest(stripe, secret, body, { now: Date.now(), url: 'https://h/webhooks/stripe' });
    expect(ours.headers['Stripe-Signature']).toBe(sdkHeader);
    expect(() => Stripe.webhooks.constructEvent(body, live.headers['Stripe-Signature'] ?? '', secret)).not.toThrow();
  });

  it('accepts a header with several v1 signatures when any one matches (secret roll on Stripe side)', () => {
    const sdkHeader = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: NOW_SECONDS });
    const value = sdkHeader.replace(',v1=', `,v1=${'0'.repeat(64)},v0=${'1'.repeat(64)},v1=`);
    const req = request(body, { 'stripe-signature': value }, 'https://h/webhooks/stripe');
    expect(verifyWebhook(req, context(stripe, [secret])).kind).toBe('accepted');
  });
});

describe('Twilio', () => {
  const twilio = testSource({ name: 'twilio', provider: 'twilio' });
  const token = '12345';
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' };
  const formBody = Buffer.from(new URLSearchParams(params).toString());

  it('accepts a form request signed by the twilio SDK', () => {
    const signature = getExpectedTwilioSignature(token, url, params);
    const req = request(formBody, { 'X-Twilio-Signature': signature, 'I-Twilio-Idempotency-Token': 'idem-1' }, url);
    // The idempotency token is not signed: body key, the token kept for logs.
    expect(verifyWebhook(req, context(twilio, [token]))).toEqual({ kind: 'accepted', dedupeKey: bodyKey('twilio', formBody, token), eventId: 'idem-1', typeSigned: false });
  });

  it('signs a form the same as the twilio SDK, and the SDK accepts it', () => {
    const ours = signRequest(twilio, token, formBody, { now: NOW, url });
    const signature = ours.headers['X-Twilio-Signature'] ?? '';
    expect(signature).toBe(getExpectedTwilioSignature(token, url, params));
    expect(validateRequest(token, signature, url, params)).toBe(true);
  });

  it('signs repeated form keys as the twilio SDK does: distinct values, sorted', () => {
    const repeated = Buffer.from('To=%2B1&Media=b&Media=a&Media=b&From=%2B2');
    const sdk = getExpectedTwilioSignature(token, url, { To: '+1', Media: ['b', 'a', 'b'], From: '+2' });
    const req = request(repeated, { 'X-Twilio-Signature': sdk }, url);
    expect(signRequest(twilio, token, repeated, { now: NOW, url }).headers['X-Twilio-Signature']).toBe(sdk);
    expect(verifyWebhook(req, context(twilio, [token])).kind).toBe('accepted');
  });

  it('accepts a JSON request signed by the twilio SDK with bodySHA256 in the URL', () => {
    const jsonUrl = `https://mycompany.com/myapp?bodySHA256=${getExpectedBodyHash(payload)}`;
    const signature = getExpectedTwilioSignature(token, jsonUrl, {});
    const req = request(body, { 'X-Twilio-Signature': signature }, jsonUrl);
    expect(verifyWebhook(req, context(twilio, [token])).kind).toBe('accepted');
  });

  it('signs a JSON body the way the twilio SDK validates it', () => {
    const ours = signRequest(twilio, token, body, { now: NOW, url: 'https://mycompany.com/myapp' });
    expect(ours.url).toBe(`https://mycompany.com/myapp?bodySHA256=${getExpectedBodyHash(payload)}`);
    expect(validateRequestWithBody(token, ours.headers['X-Twilio-Signature'] ?? '', ours.url, payload)).toBe(true);
  });

  it('refuses a JSON request whose body does not hash to bodySHA256, although the URL signature is valid', () => {
    const jsonUrl = `https://mycompany.com/myapp?bodySHA256=${getExpectedBodyHash('{"other":true}')}`;
    const req = request(body, { 'X-Twilio-Signature': getExpectedTwilioSignature(token, jsonUrl, {}) }, jsonUrl);
    expect(verifyWebhook(req, context(twilio, [token]))).toEqual({ kind: 'rejected', reason: 'bad_body_hash' });
  });

  it('accepts a signature over the URL with the default port when the request URL has none, and the reverse', () => {
    const withPort = 'https://mycompany.com:443/myapp.php?foo=1&bar=2';
    const signedWithPort = request(formBody, { 'X-Twilio-Signature': getExpectedTwilioSignature(token, withPort, params) }, url);
    const signedWithout = request(formBody, { 'X-Twilio-Signature': getExpectedTwilioSignature(token, url, params) }, withPort);
    expect(verifyWebhook(signedWithPort, context(twilio, [token])).kind).toBe('accepted');
    expect(verifyWebhook(signedWithout, context(twilio, [token])).kind).toBe('accepted');
  });

  it('verifies against publicUrl, keeping the query string of the request', () => {
    const behindProxy: NamedSource = { ...twilio, publicUrl: 'https://hooks.example.com/webhooks/twilio' };
    const publicSigned = getExpectedTwilioSignature(token, 'https://hooks.example.com/webhooks/twilio?foo=1', params);
    const req = request(formBody, { 'X-Twilio-Signature': publicSigned }, 'http://internal:3000/webhooks/twilio?foo=1');
    expect(verifyWebhook(req, context(behindProxy, [token])).kind).toBe('accepted');
    expect(verifyWebhook(req, context(twilio, [token])).kind).toBe('rejected');
  });
});

describe('Standard Webhooks', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const svix = testSource({ name: 'svix', provider: 'standard' });

  it('accepts what the standardwebhooks library signs, and dedupes on webhook-id', () => {
    const signature = new Webhook(secret).sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', new Date(NOW), payload);
    const req = request(body, {
      'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      'webhook-timestamp': String(NOW_SECONDS),
      'webhook-signature': `v1a,c29tZQ== ${signature} v2,abc`,
    }, 'https://h/webhooks/svix');
    expect(verifyWebhook(req, context(svix, [secret]))).toEqual({
      kind: 'accepted',
      dedupeKey: 'svix:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      eventId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      typeSigned: false,
    });
  });

  it('accepts the svix- header names', () => {
    const signature = new Webhook(secret).sign('msg_1', new Date(NOW), payload);
    const req = request(body, { 'Svix-Id': 'msg_1', 'Svix-Timestamp': String(NOW_SECONDS), 'Svix-Signature': signature }, 'https://h/webhooks/svix');
    expect(verifyWebhook(req, context(svix, [secret])).kind).toBe('accepted');
  });

  it('accepts what the standardwebhooks library signs with a bare base64 secret, configured bare or with whsec_', () => {
    const bare = secret.slice('whsec_'.length);
    const signature = new Webhook(bare).sign('msg_bare', new Date(NOW), payload);
    const req = request(body, { 'webhook-id': 'msg_bare', 'webhook-timestamp': String(NOW_SECONDS), 'webhook-signature': signature }, 'https://h/webhooks/svix');

    expect(verifyWebhook(req, context(svix, [bare])).kind).toBe('accepted');
    expect(verifyWebhook(req, context(svix, [secret])).kind).toBe('accepted');
    expect(verifyWebhook(req, context(svix, ['whsec_aG9va2dhdGUtbG9jYWwtZGV2LXNlY3JldC0zMmJ5dGU=', bare])).kind).toBe('accepted');
  });

  it('signs with a bare secret exactly as the standardwebhooks library does', () => {
    const bare = secret.slice('whsec_'.length);

    const ours = signRequest(svix, bare, body, { now: NOW, url: 'https://h', eventId: 'msg_1' });

    expect(ours.headers['webhook-signature']).toBe(new Webhook(bare).sign('msg_1', new Date(NOW), payload));
  });

  it.each([['whsec_'], ['whsec_A'], ['A'], ['whsec_not base64!']])(
    'never verifies with the secret %j, which decodes to no key (an empty HMAC key is public), and will not sign with it',
    (unusable) => {
      const timestamp = String(NOW_SECONDS);
      const emptyKeyed = createHmac('sha256', Buffer.alloc(0)).update(`msg_1.${timestamp}.${payload}`).digest('base64');
      const forged = request(body, { 'webhook-id': 'msg_1', 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${emptyKeyed}` }, 'https://h/webhooks/svix');

      expect(verifyWebhook(forged, context(svix, [unusable]))).toEqual({ kind: 'rejected', reason: 'bad_signature' });
      expect(() => signRequest(svix, unusable, body, { now: NOW, url: 'https://h' })).toThrow('base64');
      expect(() => new Webhook(unusable)).toThrow();
    },
  );

  it('signs as the standardwebhooks library does, and the library accepts our signature', () => {
    const ours = signRequest(svix, secret, body, { now: NOW, url: 'https://h', eventId: 'msg_1' });
    const live = signRequest(svix, secret, body, { now: Date.now(), url: 'https://h', eventId: 'msg_1' });
    expect(ours.headers['webhook-signature']).toBe(new Webhook(secret).sign('msg_1', new Date(NOW), payload));
    expect(() => new Webhook(secret).verify(payload, live.headers)).not.toThrow();
  });
});
