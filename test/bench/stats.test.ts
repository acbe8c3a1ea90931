import { median, percentile, stats } from '../../bench/stats';

/** One definition of median and percentile for every bench figure. */

test('the median of an odd count is the middle value, of an even count the upper of the two middles', () => {
  // Act and assess
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(3);
});

test('a percentile is the sorted value at rank floor(p % of the count), the largest at 100', () => {
  // Prepare
  const values = Array.from({ length: 10 }, (_, i) => 10 - i);

  // Act and assess
  expect(percentile(values, 0)).toBe(1);
  expect(percentile(values, 90)).toBe(10);
  expect(percentile(values, 100)).toBe(10);
  expect(values[0]).toBe(10); // the input is not sorted in place
});

test('no values give NaN, never a made-up 0', () => {
  // Act and assess
  expect(median([])).toBeNaN();
  expect(stats([])).toEqual({ count: 0, mean: Number.NaN, p50: Number.NaN, p99: Number.NaN });
});
