import type { ArchiveResult } from './archive';
import type { ColdStartResult } from './coldstart';
import type { DestinationsResult } from './destinations';
import type { E2eResult } from './e2e';
import type { Row } from './verify';

/** Where a run happened: the figures are ratios, but the machine explains their noise. */
export interface Machine {
  readonly nproc: number;
  readonly cpu: string;
  readonly node: string;
  readonly platform: string;
  /** ISO 8601, UTC. */
  readonly date: string;
  /** 1-minute load average at start and end: other work on the shared machine. */
  readonly loadAverage: readonly [number, number];
}

export interface Target {
  readonly name: string;
  readonly value: string;
  readonly target: string;
  readonly met: boolean;
}

/** bench/results.json. */
export interface BenchResults {
  readonly machine: Machine;
  readonly seconds: number;
  readonly verify: readonly Row[];
  readonly e2e: E2eResult;
  readonly coldStart: ColdStartResult;
  /** Forwarding to destinations (absent in runs before issue #10). */
  readonly destinations?: DestinationsResult;
  /** The archive's writes and listings (absent in runs before issue #11). */
  readonly archive?: ArchiveResult;
  readonly targets: readonly Target[];
}
