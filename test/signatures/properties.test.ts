import fc from 'fast-check';
import { verifyWebhook } from '../../lambda/signatures';
import { PROVIDER_STRATEGIES } from '../../lambda/signatures/registry';
import type { WebhookRequest } from '../../lambda/signatures/types';
import { context, NOW, SCHEMES, signed, URL_OF } from './fixtures';

const RUNS = { numRuns: 200 };

/** JSON objects with raw unicode, and the same with every non-ASCII character escaped (`\u00e9`). */
const jsonBodies = fc.jsonValue({ stringUnit: 'grapheme' }).chain((value) => {
  const text = JSON.stringify({ id: 'evt_1', value });
  const escaped = text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return fc.constantFrom(Buffer.from(text, 'utf8'), Buffer.from(escaped, 'utf8'));
});

/** Bodies of every kind: arbitrary bytes (often not UTF-8), unicode text, and JSON. */
const bodies = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }).map((text) => Buffer.from(text, 'utf8')),
  jsonBodies,
);

describe.each(SCHEMES.filter((scheme) => scheme.coversBytes))('the $label scheme over random bodies', (scheme) => {
  const [secret] = scheme.secrets;
  const ctx = context(scheme.source, scheme.secrets);
  const arbitrary = scheme.jsonOnly === true ? jsonBodies : bodies;

  it('accepts every body it signed', () => {
    fc.assert(
      fc.property(arbitrary, (body) => {
        expect(verifyWebhook(signed(scheme.source, secret, body), ctx).kind).toBe('accepted');
      }),
      RUNS,
    );
  });

  it('refuses every body with any one byte changed', () => {
    fc.assert(
      fc.property(arbitrary, fc.nat(), fc.integer({ min: 1, max: 255 }), (body, at, mask) => {
        const req = signed(scheme.source, secret, body);
        const copy = Buffer.from(body);
        const index = at % copy.length;
        copy[index] = (copy[index] ?? 0) ^ mask;
        expect(verifyWebhook({ ...req, body: copy }, ctx)).toMatchObject({ kind: 'rejected' });
      }),
      RUNS,
    );
  });
});

/** Header names every scheme reads, in several cases, plus random ones. */
const HEADER_NAMES = [
  ...new Set(
    SCHEMES.flatMap((s) => [s.signatureHeader, s.timestampHeader ?? 'x-none'])
      .concat(['webhook-id', 'svix-id', 'svix-signature', 'svix-timestamp', 'X-GitHub-Delivery', 'I-Twilio-Idempotency-Token'])
      .flatMap((name) => [name, name.toLowerCase(), name.toUpperCase()]),
  ),
];

/** Header values that try to break parsers: random text, near-miss formats, huge values. */
const garbage = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.stringMatching(/^(t=[0-9a-z+-]{0,14},)?(v1?|v0|sha256|sha512)[=,][0-9a-zA-Z+/=]{0,140}( v1,[A-Za-z0-9+/=]{0,50})*$/),
  fc.constantFrom('', ' ', '=', ',', 't=', 'v1=', 'sha256=', 'v0=', '%', '\u0000', 'x'.repeat(100_000), `t=${'9'.repeat(400)},v1=00`),
);

const requests = fc.record({
  method: fc.constantFrom('POST', 'GET', 'post', 'get', 'PUT', ''),
  url: fc.oneof(fc.constant(URL_OF('any')), fc.webUrl({ withQueryParameters: true }), fc.string({ unit: 'binary', maxLength: 100 }), fc.constant('https://h/x?bodySHA256=%zz&hub.mode=subscribe')),
  headers: fc.dictionary(fc.oneof(fc.constantFrom(...HEADER_NAMES), fc.string({ maxLength: 20 })), garbage, { maxKeys: 6 }),
  body: fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), fc.constant(Buffer.alloc(0))),
});

describe.each(SCHEMES)('the $label strategy given garbage', (scheme) => {
  const ctx = context(scheme.source, scheme.secrets, { verifyToken: 'vt' }, NOW);
  const strategy = PROVIDER_STRATEGIES[scheme.source.provider];

  it('never throws and always refuses', () => {
    fc.assert(
      fc.property(requests, (req: WebhookRequest) => {
        // The strategy itself, not verifyWebhook, whose catch-all would hide a throw.
        const direct = strategy.verify(req, ctx);
        expect(direct.kind).toBe('rejected');
        expect(verifyWebhook(req, ctx).kind).toBe('rejected');
      }),
      RUNS,
    );
  });
});
