import { alternateRounds } from '../../bench/e2e/rounds';

/** The e2e/floor method of docs/performance.md: alternating rounds, median of the rounds' ratios. */

test('rounds alternate which side runs first, e2e first in even rounds', async () => {
  // Prepare
  const order: string[] = [];
  const segments = {
    e2e: async (round: number) => void order.push(`e2e${round}`),
    floor: async (round: number) => void order.push(`floor${round}`),
    e2eRate: () => 1,
    floorRate: () => 1,
  };

  // Act
  await alternateRounds(4, segments);

  // Assess
  expect(order).toEqual(['e2e0', 'floor0', 'floor1', 'e2e1', 'e2e2', 'floor2', 'floor3', 'e2e3']);
});

test('the ratio is the median of the rounds\' own ratios, not the ratio of the totals', async () => {
  // Prepare: per-round e2e and floor rates; ratios 0.5, 0.25 and 0.4.
  const e2e = [50, 100, 40];
  const floor = [100, 400, 100];

  // Act
  const result = await alternateRounds(3, {
    e2e: async (round) => e2e[round] ?? Number.NaN,
    floor: async (round) => floor[round] ?? Number.NaN,
    e2eRate: (rate) => rate,
    floorRate: (rate) => rate,
  });

  // Assess: the totals would give 190 / 600 = 0.32.
  expect(result.rounds.map((r) => r.ratio)).toEqual([0.5, 0.25, 0.4]);
  expect(result.ratio).toBe(0.4);
  expect(result.e2eParts).toEqual(e2e);
  expect(result.floorParts).toEqual(floor);
});
