import fc from 'fast-check';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { verifyWebhook } from '../../lambda/signatures';
import { formParamParts, formParams, MAX_FORM_PARAMS, withinFormParamLimit } from '../../lambda/signatures/providers/twilio';
import { context, request, testSource } from './fixtures';

/** What URLSearchParams (the WHATWG reading the fast parser must match) makes of a form. */
function reference(body: Buffer): string {
  const grouped = new Map<string, Set<string>>();
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) grouped.set(key, (grouped.get(key) ?? new Set<string>()).add(value));
  return [...grouped.keys()].sort().map((key) => [...(grouped.get(key) ?? [])].sort().map((value) => key + value).join('')).join('');
}

const long = (char: string): string => char.repeat(3000);

const BODIES: readonly string[] = [
  'b=2&a=1',
  'Body=pay+10&To=%2B1',
  `Body=${long('x')}&AccountSid=AC1&Body=${long('w')}`,
  `Big=${long('y')}&Big=${long('y')}&a=%C3%A9`,
  `Raw=${long('z')}+1&Esc=${long('%41')}`,
  'a=%zz&b=%FF&c=%C3',
  'flag&=v&&a=1=2&%3D=%26',
  `k=${long('q')}`,
  'Body=caf\u00e9&To=%E2%9C%93',
];

describe('Twilio form parameters, read fast', () => {
  it.each(BODIES.map((body) => [body.length > 60 ? `${body.slice(0, 57)}...` : body, body]))('reads %s as URLSearchParams does, in text and in hashed parts', (_label, text) => {
    const body = Buffer.from(text, 'utf8');
    expect(formParams(body)).toBe(reference(body));
    expect(Buffer.concat(formParamParts(body)).equals(Buffer.from(reference(body), 'utf8'))).toBe(true);
  });

  it('hashes a long plain value from the body itself, without copying it', () => {
    const body = Buffer.from(`From=%2B1&Body=${long('x')}`);
    expect(formParamParts(body).some((part) => part.buffer === body.buffer)).toBe(true);
  });

  it('agrees with URLSearchParams on any form, escaped or not', () => {
    const component = fc.string({ unit: fc.constantFrom('a', 'b', '=', '&', '+', '%', '2', 'B', 'C3', '%A9', ' ', 'é', '\u{1F600}') });
    fc.assert(
      fc.property(fc.array(fc.tuple(component, component), { maxLength: 12 }), fc.boolean(), (pairs, encode) => {
        const text = pairs.map(([k, v]) => (encode ? `${encodeURIComponent(k)}=${encodeURIComponent(v)}` : `${k}=${v}`)).join('&');
        const body = Buffer.from(text, 'utf8');
        expect(formParams(body)).toBe(reference(body));
        expect(Buffer.concat(formParamParts(body)).toString('utf8')).toBe(reference(body));
      }),
    );
  });

  it('verifies what the twilio SDK signs for a form with a long value', () => {
    const source = testSource({ name: 'twilio', provider: 'twilio' });
    const url = 'https://hooks.example.com/webhooks/twilio';
    const params = { Body: long('x'), From: '+15550001111', MediaUrl0: 'https://api.twilio.com/m/1' };
    const signature = getExpectedTwilioSignature('auth-token', url, params);
    const req = request(Buffer.from(new URLSearchParams(params).toString()), { 'X-Twilio-Signature': signature }, url);
    expect(verifyWebhook(req, context(source, ['auth-token'])).kind).toBe('accepted');
  });

  it('counts separators up to the parameter limit without decoding', () => {
    const form = (count: number): Buffer => Buffer.from(Array.from({ length: count }, () => 'a=1').join('&'));
    expect(withinFormParamLimit(form(MAX_FORM_PARAMS))).toBe(true);
    expect(withinFormParamLimit(form(MAX_FORM_PARAMS + 1))).toBe(false);
  });
});
