import { median } from '../stats';
import type { Round } from './types';

/** The two sides of a round and how to read a rate (events per second) off each one's result. */
export interface Segments<E, F> {
  readonly e2e: (round: number) => Promise<E>;
  readonly floor: (round: number) => Promise<F>;
  readonly e2eRate: (part: E) => number;
  readonly floorRate: (part: F) => number;
}

export interface Alternated<E, F> {
  readonly e2eParts: readonly E[];
  readonly floorParts: readonly F[];
  readonly rounds: readonly Round[];
  /** Median over the rounds of e2e / floor. */
  readonly ratio: number;
}

/**
 * Runs `count` rounds of one e2e segment and one floor segment back to back, e2e first in even
 * rounds and floor first in odd ones, so that a change of load on the shared machine hits both
 * sides of a pair and neither side always runs second. The figure is the median of the rounds'
 * own ratios (as bench/verify.ts pairs its rounds), not the ratio of the totals.
 */
export async function alternateRounds<E, F>(count: number, segments: Segments<E, F>, onRound: (round: Round, index: number) => void = () => undefined): Promise<Alternated<E, F>> {
  const e2eParts: E[] = [];
  const floorParts: F[] = [];
  const rounds: Round[] = [];
  for (let index = 0; index < count; index++) {
    let e2e: E;
    let floor: F;
    if (index % 2 === 0) {
      e2e = await segments.e2e(index);
      floor = await segments.floor(index);
    } else {
      floor = await segments.floor(index);
      e2e = await segments.e2e(index);
    }
    e2eParts.push(e2e);
    floorParts.push(floor);
    const e2ePerSecond = segments.e2eRate(e2e);
    const floorPerSecond = segments.floorRate(floor);
    const round = { e2ePerSecond, floorPerSecond, ratio: e2ePerSecond / floorPerSecond };
    rounds.push(round);
    onRound(round, index);
  }
  return { e2eParts, floorParts, rounds, ratio: median(rounds.map((r) => r.ratio)) };
}
