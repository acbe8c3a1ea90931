import type { APIGatewayProxyEvent } from 'aws-lambda';
import { getExpectedBodyHash, getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { inlineSecrets } from '../../lambda/runtime/secrets';
import { toProxyEvent } from '../../local/apigateway';
import { type LocalStack, startLocalStack } from '../../local/emulators';
import { lambdaContext } from '../ingest/helpers';
import { testSource } from '../config/sources';
import { harness, type Harness } from './harness';

/**
 * Twilio signs the webhook URL exactly as configured in its console, query string included, and
 * does not retry a 4xx. API Gateway hands the verifier decoded, grouped parameters only, so each
 * case here is a URL as a person or a client writes it, sent as Twilio sends it, turned into the
 * REST proxy event by the same builder as local mode, and signed by the twilio SDK.
 */

const AUTH_TOKEN = 'twilio-auth-token-0b7e';
const HOST = 'hooks.example.com';
const params = { AccountSid: 'AC0123456789abcdef', Body: 'Hello', From: '+15550001111', To: '+15550002222' };
const formBody = Buffer.from(new URLSearchParams(params).toString(), 'utf8');

const TWILIO = testSource({ name: 'twilio', provider: 'twilio' });
const PROXIED = testSource({ name: 'proxied', provider: 'twilio', publicUrl: `https://${HOST}/webhooks/twilio?ignored=1` });

let stack: LocalStack;
let h: Harness;
let seq = 0;

beforeAll(async () => {
  stack = await startLocalStack({ sources: [TWILIO, PROXIED] });
  h = harness(stack, TWILIO, { secrets: inlineSecrets({ secrets: ['older-token', AUTH_TOKEN] }) });
}, 30_000);
afterAll(async () => {
  h.close();
  await stack.stop();
});

/** What API Gateway hands the function for `POST <pathAndQuery>` on the custom domain, as Twilio sends it. */
function twilioEvent(pathAndQuery: string, signature: string, body: Buffer = formBody, contentType = 'application/x-www-form-urlencoded'): APIGatewayProxyEvent {
  seq += 1;
  return toProxyEvent(
    {
      method: 'POST',
      url: pathAndQuery,
      rawHeaders: ['Host', HOST, 'Content-Type', contentType, 'X-Twilio-Signature', signature, 'I-Twilio-Idempotency-Token', `idem-${seq}-${Date.now()}`],
      body,
      sourceIp: '54.172.60.1',
      serverPort: 443,
    },
    'twilio',
    { stage: 'prod', proto: 'https' },
  );
}

const status = async (event: APIGatewayProxyEvent, handler = h.handler): Promise<string> => {
  const response = await handler(event, lambdaContext());
  return `${response.statusCode} ${(JSON.parse(response.body) as { status?: string; error?: string }).status ?? (JSON.parse(response.body) as { error?: string }).error}`;
};

describe('Twilio webhook URLs with a query string, through the verifier handler', () => {
  afterEach(async () => {
    await h.drain();
  });

  it.each([
    ['an unescaped URL as a parameter value', '?next=https://ehr.example.org/cb'],
    ['a timestamp with colons', '?at=2024-05-01T10:00:00Z'],
    ['a space written as +', '?name=John+Doe'],
    ['a comma-separated list', '?tags=a,b'],
    ['a repeated name around another one', '?b=1&a=2&b=3'],
    ["an apostrophe and a + space, beside a form body", "?Body=It's+amazing"],
    ['percent-encoded reserved characters', '?next=https%3A%2F%2Fehr.example.org%2Fcb&name=John%20Doe'],
    ['form-encoded reserved characters', '?next=https%3A%2F%2Fehr.example.org%2Fcb&name=John+Doe&q=a%2Cb'],
    ['names in an order API Gateway may not keep', '?z=1&2=two&a=3'],
  ])('accepts a delivery to a URL configured with %s', async (_label, query) => {
    // Each case is its own message: Twilio dedupes on the body (its idempotency token is unsigned).
    const message = { ...params, MessageSid: `SM${Buffer.from(query).toString('hex')}` };
    const configured = `https://${HOST}/webhooks/twilio${query}`;
    const signature = getExpectedTwilioSignature(AUTH_TOKEN, configured, message);

    const answer = await status(twilioEvent(`/webhooks/twilio${query}`, signature, Buffer.from(new URLSearchParams(message).toString(), 'utf8')));

    expect(answer).toBe('200 accepted');
  });

  it('accepts a JSON delivery whose configured URL has a query before the bodySHA256 Twilio adds', async () => {
    const json = '{"CallSid":"CA1","note":"café"}';
    const query = `?next=https://ehr.example.org/cb&name=John+Doe&bodySHA256=${getExpectedBodyHash(json)}`;
    const signature = getExpectedTwilioSignature(AUTH_TOKEN, `https://${HOST}/webhooks/twilio${query}`, {});

    const answer = await status(twilioEvent(`/webhooks/twilio${query}`, signature, Buffer.from(json, 'utf8'), 'application/json'));

    expect(answer).toBe('200 accepted');
  });

  it('accepts a delivery for a publicUrl whose query differs from the request, signed over the request query', async () => {
    const proxied = harness(stack, PROXIED, { secrets: inlineSecrets({ secrets: [AUTH_TOKEN] }) });
    const signature = getExpectedTwilioSignature(AUTH_TOKEN, `https://${HOST}/webhooks/twilio?next=https://ehr.example.org/cb`, params);
    const event = toProxyEvent(
      { method: 'POST', url: '/webhooks/proxied?next=https://ehr.example.org/cb', rawHeaders: ['Host', 'internal.example:8443', 'X-Twilio-Signature', signature], body: formBody, sourceIp: '54.172.60.1', serverPort: 443 },
      'proxied',
      { stage: 'prod' },
    );

    try {
      expect(await status(event, proxied.handler)).toBe('200 accepted');
      await proxied.drain();
    } finally {
      proxied.close();
    }
  });

  it.each([
    ['another value of the parameter', '?next=https://ehr.example.org/cb', '?next=https://evil.example/cb'],
    ['one more parameter', '?next=https://ehr.example.org/cb', '?next=https://ehr.example.org/cb&admin=1'],
    ['a value moved to another name', '?b=1&a=2&b=3', '?b=1&a=3&b=2'],
    ['a space where a + was sent', '?name=John%2BDoe', '?name=John+Doe'],
  ])('refuses a request whose query is not the one signed: %s', async (_label, signedQuery, sentQuery) => {
    const signature = getExpectedTwilioSignature(AUTH_TOKEN, `https://${HOST}/webhooks/twilio${signedQuery}`, params);

    const answer = await status(twilioEvent(`/webhooks/twilio${sentQuery}`, signature));

    expect(answer).toBe('401 bad_signature');
  });
});
