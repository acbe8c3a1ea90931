import type { KmsCallCounts } from '../../local/kms';
import type { LoadResult } from '../load';
import type { Stats } from '../stats';
import type { LogBytes } from './logs';

/** Durations of the phases, seconds; the whole bench must fit in a few minutes on 2 cores. */
export interface E2eOptions {
  readonly bodyBytes: number;
  readonly connections: number;
  readonly warmupSeconds: number;
  /** Concurrency 1: per-invocation durations, the proxy for Lambda billed duration. */
  readonly serialSeconds: number;
  /** Body of the second serial phase, for the cost of large payloads. */
  readonly largeBodyBytes: number;
  /** Total seconds of e2e load and of floor, each split over `rounds` alternating segments. */
  readonly loadSeconds: number;
  readonly floorSeconds: number;
  readonly rounds: number;
}

/** One phase, summarised. `events` counts what the verifier accepted (SendMessage calls). */
export interface PhaseSummary {
  readonly events: number;
  readonly calls: Record<string, number>;
  /** `calls` divided by `events`. */
  readonly callsPerEvent: Record<string, number>;
  readonly kms: KmsCallCounts;
  /** Messages per ReceiveMessage that returned any; calls that returned none are in `calls`. */
  readonly receiveBatch: Stats;
  readonly deleteBatch: Stats;
  readonly processed: number;
  /** Per processor invocation (one batch), ms. */
  readonly processorMs: Stats;
  /** The verifier's own durationMs per accepted event (integer ms). */
  readonly verifierMs: Stats;
  /** Mean of max(1, ceil(durationMs)): what Lambda would bill per invocation at this duration. */
  readonly verifierBilledMs: number;
  readonly processorBilledMs: number;
  /** Bytes of each SendMessage body. */
  readonly sendBytes: Stats;
  readonly log: LogBytes;
  /** Log bytes per accepted event, by kind. */
  readonly logPerEvent: { readonly verifierLog: number; readonly verifierEmf: number; readonly processorLog: number };
}

/** One e2e segment and one floor segment, back to back. */
export interface Round {
  readonly e2ePerSecond: number;
  readonly floorPerSecond: number;
  readonly ratio: number;
}

export interface FloorResult {
  readonly events: number;
  /** CPU of this process (the floor's clients and dynalite) per event, ms. */
  readonly cpuMsPerEvent: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly messageBytes: number;
}

export interface E2eResult {
  readonly options: E2eOptions;
  /** The very first event of a fresh app: what a cold start costs in calls. */
  readonly cold: PhaseSummary & { readonly status: number; readonly ms: number };
  readonly serial: { readonly load: LoadResult; readonly calls: PhaseSummary };
  readonly serialLarge: { readonly load: LoadResult; readonly calls: PhaseSummary };
  /**
   * `perSecond`: 2xx answers per second of the load phase, as the client measured it.
   * `cpuMsPerEvent`: CPU of this process (server, verifier, processors, dynalite) per accepted
   * event; `loadCpuMsPerEvent`: the load generator's.
   */
  readonly load: { readonly load: LoadResult; readonly calls: PhaseSummary; readonly perSecond: number; readonly cpuMsPerEvent: number; readonly loadCpuMsPerEvent: number };
  readonly floor: FloorResult;
  /** Accepted (2xx) over the whole run vs messages the processors deleted after the drain. */
  readonly drained: { readonly accepted: number; readonly processed: number; readonly queueLeft: number; readonly dlq: number };
  /** Each round: an e2e segment and a floor segment back to back. */
  readonly rounds: readonly Round[];
  /** Median over the rounds of e2e / floor. */
  readonly ratio: number;
}
