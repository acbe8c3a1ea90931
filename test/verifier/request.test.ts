import type { APIGatewayProxyEvent } from 'aws-lambda';
import { SecretsError } from '../../lambda/ingest/errors';
import { parseSecretValue } from '../../lambda/runtime/secrets';
import { errorNames } from '../../lambda/runtime/error-names';
import { toHttpResponse, unavailable } from '../../lambda/verifier/http-response';
import { rawBody, requestHeaders, requestUrl } from '../../lambda/verifier/request';
import { QueueError } from '../../lambda/ingest/errors';
import { apiEvent } from './harness';

function withQuery(event: APIGatewayProxyEvent, query: Record<string, string[]>): APIGatewayProxyEvent {
  return {
    ...event,
    multiValueQueryStringParameters: query,
    queryStringParameters: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v[v.length - 1]])),
  };
}

describe('request reconstruction', () => {
  it('rebuilds the execute-api URL with the stage, path and query string', () => {
    const event = withQuery(apiEvent({ path: '/webhooks/twilio' }), { bodySHA256: ['ab12'], a: ['1', '2 3'] });

    expect(requestUrl(event, {})).toBe('https://abc123.execute-api.us-east-1.amazonaws.com/prod/webhooks/twilio?bodySHA256=ab12&a=1&a=2%203');
  });

  it('uses the custom domain path without the stage, and http when the local server says so', () => {
    const event = apiEvent({ path: '/webhooks/twilio', headers: { Host: 'localhost:3000' }, proto: 'http' });

    expect(requestUrl(event, {})).toBe('http://localhost:3000/webhooks/twilio');
  });

  it('prefers the configured publicUrl and keeps the query string', () => {
    const event = withQuery(apiEvent(), { bodySHA256: ['ff'] });

    expect(requestUrl(event, { publicUrl: 'https://hooks.example.com/webhooks/twilio' })).toBe('https://hooks.example.com/webhooks/twilio?bodySHA256=ff');
  });

  it("replaces publicUrl's own query with the request's, never merging the two", () => {
    const publicUrl = 'https://hooks.example.com/webhooks/twilio?foo=1&bar=2#frag';
    const withSame = withQuery(apiEvent(), { foo: ['1'], bar: ['2'] });
    const withOther = withQuery(apiEvent(), { next: ['https://ehr.example.org/cb'] });

    expect(requestUrl(withSame, { publicUrl })).toBe('https://hooks.example.com/webhooks/twilio?foo=1&bar=2');
    expect(requestUrl(withOther, { publicUrl })).toBe('https://hooks.example.com/webhooks/twilio?next=https%3A%2F%2Fehr.example.org%2Fcb');
    expect(requestUrl(apiEvent(), { publicUrl })).toBe('https://hooks.example.com/webhooks/twilio');
  });

  it('rebuilds a query whose decoded values hold a lone surrogate without throwing', () => {
    const event = withQuery(apiEvent(), { a: ['\ud800x'] });

    expect(requestUrl(event, {})).toMatch(/\?a=%EF%BF%BDx$/);
  });

  it('keeps a header named __proto__ as an ordinary header', () => {
    const headers = requestHeaders(JSON.parse('{"headers":{"__proto__":"x","Host":"h"},"multiValueHeaders":{"__proto__":["x","y"]}}') as Parameters<typeof requestHeaders>[0]);

    expect(Object.getPrototypeOf(headers)).toBeNull();
    expect(Object.entries(headers)).toEqual([['__proto__', 'x, y'], ['Host', 'h']]);
  });

  it('decodes base64 bodies and reads a missing body as empty', () => {
    expect(rawBody({ body: Buffer.from([0xff, 0x00]).toString('base64'), isBase64Encoded: true })).toEqual(Buffer.from([0xff, 0x00]));
    expect(rawBody({ body: 'é', isBase64Encoded: false })).toEqual(Buffer.from('é', 'utf8'));
    expect(rawBody({ body: null, isBase64Encoded: false })).toEqual(Buffer.alloc(0));
  });

  it('joins a repeated header the way Node does', () => {
    const headers = requestHeaders({ headers: { 'X-Sig': 'b' }, multiValueHeaders: { 'X-Sig': ['a', 'b'] } });

    expect(headers['X-Sig']).toBe('a, b');
  });
});

describe('HTTP answers', () => {
  it('map every outcome to the contract status and a fixed body', () => {
    const answers = [
      toHttpResponse({ kind: 'accepted', dedupeKey: 'k' }),
      toHttpResponse({ kind: 'duplicate', dedupeKey: 'k' }),
      toHttpResponse({ kind: 'in_progress', dedupeKey: 'k' }),
      toHttpResponse({ kind: 'rejected', reason: 'timestamp_out_of_window' }),
      toHttpResponse({ kind: 'rejected', reason: 'bad_verify_token' }),
      toHttpResponse({ kind: 'rejected', reason: 'malformed_challenge' }),
      toHttpResponse({ kind: 'rejected', reason: 'method_not_allowed' }),
      toHttpResponse({ kind: 'rejected', reason: 'payload_too_large' }),
      toHttpResponse({ kind: 'challenge', status: 200, contentType: 'text/plain', body: '1158201444' }),
      toHttpResponse(unavailable(new Error('secret detail from the SDK'))),
    ].map((r) => `${r.statusCode} ${r.body}`);

    expect(answers).toEqual([
      '200 {"id":"k","status":"accepted"}',
      '200 {"id":"k","status":"duplicate"}',
      '409 {"error":"in_progress"}',
      '401 {"error":"timestamp_out_of_window"}',
      '403 {"error":"bad_verify_token"}',
      '400 {"error":"malformed_challenge"}',
      '405 {"error":"method_not_allowed"}',
      '413 {"error":"payload_too_large"}',
      '200 1158201444',
      '503 {"error":"unavailable"}',
    ]);
  });

  it('serve a challenge echo as text that a browser must not sniff, and never cache', () => {
    const response = toHttpResponse({ kind: 'challenge', status: 200, contentType: 'text/plain', body: '1158201444' });

    expect(response.headers).toEqual({ 'Content-Type': 'text/plain', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  });

  it('name the cause chain of an error without its messages', () => {
    const err = new QueueError({ cause: Object.assign(new Error('body: PHI'), { name: 'ThrottlingException' }) });

    expect(errorNames(err)).toEqual(['QueueError', 'ThrottlingException']);
    expect(unavailable(err)).toEqual({ kind: 'unavailable', code: 'queue' });
  });
});

describe('secret values', () => {
  it('read a plain string as one secret and JSON as a list with an optional verify token', () => {
    expect(parseSecretValue('whsec_abc')).toEqual({ secrets: ['whsec_abc'] });
    expect(parseSecretValue('{"secrets":["new","old"],"verifyToken":"vt"}')).toEqual({ secrets: ['new', 'old'], verifyToken: 'vt' });
  });

  it('refuse empty or malformed values without echoing them', () => {
    for (const value of ['', '{"secrets":[]}', '{"secrets":"one"}', '{not json super-secret']) {
      let thrown: unknown;
      try {
        parseSecretValue(value);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(SecretsError);
      expect((thrown as Error).message).not.toContain('super-secret');
    }
  });
});
