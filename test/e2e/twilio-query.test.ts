import { request } from 'node:http';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { parseConfig } from '../../lib/config-file';
import { type LocalApp, startLocal } from '../../local/app';
import { telemetry } from '../verifier/harness';

/**
 * Twilio deliveries to URLs configured with a query string, over HTTP to local mode: the local
 * server turns the raw request into the REST proxy event (decoded parameters only), and the
 * verifier must still find the URL Twilio signed. Signatures come from the twilio SDK.
 */

const AUTH_TOKEN = 'e2e-twilio-auth-token-5d1f';
let app: LocalApp;

beforeAll(async () => {
  app = await startLocal({
    config: parseConfig({ sources: { twilio: { provider: 'twilio', secrets: [AUTH_TOKEN] } } }, 'test'),
    port: 0,
    waitTimeSeconds: 1,
    logger: (source) => telemetry(source, { quiet: true }).logger,
  });
}, 30_000);

afterAll(async () => {
  await app?.stop();
});

/** POSTs a form to `pathAndQuery` with the path written as given (fetch would re-encode it). */
function post(pathAndQuery: string, form: Record<string, string>, signature: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams(form).toString();
    const req = request(
      { host: '127.0.0.1', port: app.port, method: 'POST', path: pathAndQuery, headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('end to end, Twilio URLs with a query string', () => {
  it.each([
    ['an unescaped URL value', '?next=https://ehr.example.org/cb&name=John+Doe'],
    ['a repeated name around another one', '?b=1&a=2&b=3'],
    ["an apostrophe and a + space", "?Body=It's+amazing"],
  ])('accepts a form delivery to a URL configured with %s', async (_label, query) => {
    const form = { AccountSid: 'AC1', Body: `e2e ${query}`, From: '+15550001111' };
    const pathAndQuery = `/webhooks/twilio${query}`;
    const signature = getExpectedTwilioSignature(AUTH_TOKEN, `${app.url}${pathAndQuery}`, form);

    const reply = await post(pathAndQuery, form, signature);

    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ status: 'accepted' });
  });

  it('refuses the same delivery when its query is not the one signed', async () => {
    const form = { AccountSid: 'AC1', Body: 'e2e forged', From: '+15550001111' };
    const signature = getExpectedTwilioSignature(AUTH_TOKEN, `${app.url}/webhooks/twilio?next=https://ehr.example.org/cb`, form);

    const reply = await post('/webhooks/twilio?next=https://evil.example/cb', form, signature);

    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body)).toEqual({ error: 'bad_signature' });
  });
});
