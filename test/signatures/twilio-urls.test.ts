import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { testSource } from '../config/sources';
import { verifyWebhook } from '../../lambda/signatures';
import { candidateUrls, MAX_CANDIDATE_URLS, MAX_REORDERED_PARAMS } from '../../lambda/signatures/providers/twilio';
import { context, request } from './fixtures';

/**
 * The verifier sees the query the way API Gateway rebuilds it (decoded parameters, grouped by
 * name, re-encoded with encodeURIComponent), never as Twilio signed it; these tests give it that
 * rebuilt URL and a signature over the URL as configured, made by the twilio SDK.
 */

const twilio = testSource({ name: 'twilio', provider: 'twilio' });
const token = 'sdk-auth-token';
const params = { CallSid: 'CA1', From: '+15550001111' };
const body = Buffer.from(new URLSearchParams(params).toString());
const BASE = 'https://hooks.example.com/webhooks/twilio';

/** The URL the verifier builds from API Gateway's decoded parameters. */
function rebuilt(query: string): string {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(query)) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  const parts = [...grouped].flatMap(([name, values]) => values.map((v) => `${encodeURIComponent(name)}=${encodeURIComponent(v)}`));
  return `${BASE}?${parts.join('&')}`;
}

const verdict = (configuredQuery: string, receivedUrl = rebuilt(configuredQuery)): string => {
  const signature = getExpectedTwilioSignature(token, `${BASE}?${configuredQuery}`, params);
  const result = verifyWebhook(request(body, { 'X-Twilio-Signature': signature }, receivedUrl), context(twilio, [token]));
  return result.kind === 'rejected' ? result.reason : result.kind;
};

/** `count` parameters with distinct names, each value needing escaping in every spelling but the minimal one. */
const escapedParams = (count: number): string[] => Array.from({ length: count }, (_, i) => `p${i}=https://h${i}.example/x,y`);

describe('Twilio URL spellings', () => {
  it.each([
    ['next=https://ehr.example.org/cb'],
    ['at=2024-05-01T10:00:00Z'],
    ['name=John+Doe'],
    ['tags=a,b'],
    ['b=1&a=2&b=3'],
    ["Body=It's+amazing"],
    ['q=caf%C3%A9+%26+co&x=%2B1'],
    ['filter=a%20b&sort=-created'],
  ])('accepts the rebuilt URL of a URL configured as ?%s', (query) => {
    expect(verdict(query)).toBe('accepted');
  });

  it('tries the URL as received first, as the SDK does', () => {
    const url = `${BASE}?a=1&b=2`;

    expect(candidateUrls(url).next().value).toBe(url);
  });

  it(`stops after ${MAX_CANDIDATE_URLS} distinct URLs, however many spellings and orders the query has`, () => {
    const many = [...candidateUrls(rebuilt(escapedParams(MAX_REORDERED_PARAMS).join('&')))];
    const huge = [...candidateUrls(rebuilt(escapedParams(500).join('&')))];

    expect(many).toHaveLength(MAX_CANDIDATE_URLS);
    expect(new Set(many).size).toBe(MAX_CANDIDATE_URLS);
    expect(huge.length).toBeLessThanOrEqual(MAX_CANDIDATE_URLS);
  });

  it('refuses a genuine signature over an order past the bound, and accepts the received order', () => {
    const pairs = escapedParams(MAX_REORDERED_PARAMS);
    const received = rebuilt(pairs.join('&'));

    expect(verdict(pairs.join('&'), received)).toBe('accepted');
    expect(verdict([...pairs].reverse().join('&'), received)).toBe('bad_signature');
  });

  it(`tries only the received order past ${MAX_REORDERED_PARAMS} parameters`, () => {
    const pairs = Array.from({ length: MAX_REORDERED_PARAMS + 1 }, (_, i) => `k${i}=${i}`);
    const swapped = [pairs[1], pairs[0], ...pairs.slice(2)].join('&');
    const received = rebuilt(pairs.join('&'));

    expect(verdict(pairs.join('&'), received)).toBe('accepted');
    expect(verdict(swapped, received)).toBe('bad_signature');
  });

  it('never tries a URL whose decoded parameters differ from the received ones', () => {
    const received = rebuilt('b=1&a=2&b=3&name=John+Doe');
    const decoded = (url: string): string => JSON.stringify([...new URLSearchParams(url.slice(url.indexOf('?') + 1))].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
    const perName = (url: string): string => JSON.stringify(new URLSearchParams(url.slice(url.indexOf('?') + 1)).getAll('b'));

    const candidates = [...candidateUrls(received)];

    expect(candidates.length).toBeGreaterThan(1);
    for (const candidate of candidates) {
      expect(decoded(candidate)).toBe(decoded(received));
      expect(perName(candidate)).toBe('["1","3"]');
    }
  });
});
