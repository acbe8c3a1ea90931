import { ASSUMPTIONS, xrayPerMillion } from '../../bench/cost';

/**
 * The one piece of the cost model that is arithmetic rather than measurement: X-Ray per million
 * webhooks depends on the monthly volume through the sampling reservoir and the free tier.
 */

const DEFAULT_RULE = ASSUMPTIONS.defaultSampling;

test('under the default rule a quiet service is traced in full: every request beyond the free 100,000 costs $5 per million', () => {
  // Prepare: 1 M a month is 0.39 requests/s, under the 1 request/s reservoir.
  const monthly = 1_000_000;

  // Act
  const perMillion = xrayPerMillion(monthly, DEFAULT_RULE);

  // Assess
  expect(perMillion).toBeCloseTo(4.5, 6);
});

test('above the default reservoir only 5 % of the rest is traced, so the cost per million falls with volume', () => {
  // Prepare
  const reservoir = DEFAULT_RULE.reservoirPerSecond * 30 * 86_400;
  const monthly = 10_000_000;
  const traced = reservoir + 0.05 * (monthly - reservoir);

  // Act
  const perMillion = xrayPerMillion(monthly, DEFAULT_RULE);

  // Assess
  expect(perMillion).toBeCloseTo((((traced - 100_000) / 1_000_000) * 5) / 10, 6);
  expect(xrayPerMillion(100_000_000, DEFAULT_RULE)).toBeLessThan(perMillion);
});

test('under the free tier X-Ray costs nothing', () => {
  // Act and assess
  expect(xrayPerMillion(50_000, DEFAULT_RULE)).toBe(0);
});

test('the stack rule (1 %, no reservoir) traces 1 in 100 requests, free up to 10 M a month', () => {
  // Act and assess: 100 M a month is 1 M traces, 0.9 M billed at $5 per million, spread over 100 M webhooks.
  expect(xrayPerMillion(10_000_000)).toBe(0);
  expect(xrayPerMillion(100_000_000)).toBeCloseTo((0.9 * 5) / 100, 6);
});
