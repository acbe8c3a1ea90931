/**
 * Local end-to-end throughput and latency, the AWS calls behind each accepted event, and the
 * floor (./floor.ts): the same DynamoDB and SQS calls made directly against the same emulators
 * at the same concurrency. e2e / floor is the figure that means something on a shared machine;
 * absolute rates depend on the machine. The processors drain the queue in the same process
 * during the e2e segments: on a laptop, as on `npm start`, they share it.
 *
 * Files: logs.ts (stdout capture), floor.ts, rounds.ts (alternation and the ratio),
 * load-process.ts (the load generator's process), phases.ts (per-phase summaries), types.ts.
 */
import { performance } from 'node:perf_hooks';
import { namedSource } from '../../lambda/config/schema';
import { parseConfig } from '../../lib/config-file';
import { signRequest } from '../../lambda/signatures/sign';
import { type LocalApp, startLocal } from '../../local/app';
import { createLocalKms, type KmsCallCounts } from '../../local/kms';
import { createCallLog, instrumenter } from '../calls';
import { eventBody, type LoadResult, type LoadSpec } from '../load';
import { percentile } from '../stats';
import { createFloor, type FloorSegment } from './floor';
import { combine, runLoadProcess } from './load-process';
import { LogCapture } from './logs';
import { kmsDelta, kmsSnapshot, queueDepth, sendCount, summarise, waitFor } from './phases';
import { type Alternated, alternateRounds } from './rounds';
import type { E2eOptions, E2eResult, FloorResult, PhaseSummary } from './types';

export type { LogBytes } from './logs';
export type { E2eOptions, E2eResult, FloorResult, PhaseSummary, Round } from './types';

const SECRET = 'bench-github-secret';
const CONFIG = parseConfig({ sources: { github: { provider: 'github', secrets: [SECRET] } } }, 'local');
const SOURCE = namedSource({ name: 'github', provider: 'github', secrets: [SECRET] });
const QUEUE = `hookgate-${SOURCE.name}`;

export const E2E_DEFAULTS: E2eOptions = { bodyBytes: 2 * 1024, connections: 10, warmupSeconds: 2, serialSeconds: 3, largeBodyBytes: 64 * 1024, loadSeconds: 15, floorSeconds: 15, rounds: 3 };

/** One signed event from this process: the cold-start event, before any load. */
async function sendOne(url: string, body: Buffer, id: string): Promise<number> {
  const signed = signRequest(SOURCE, SECRET, body, { now: Date.now(), url, eventId: id });
  const res = await fetch(signed.url, { method: 'POST', headers: { 'content-type': 'application/json', ...signed.headers }, body });
  await res.arrayBuffer();
  return res.status;
}

/** The floor segments of a run as one result. */
function floorResult(parts: readonly FloorSegment[], messageBytes: number): FloorResult {
  const events = parts.reduce((a, f) => a + f.events, 0);
  const seconds = parts.reduce((a, f) => a + f.seconds, 0);
  const latencies = parts.flatMap((f) => f.latencies);
  return {
    events,
    cpuMsPerEvent: parts.reduce((a, f) => a + f.cpuMs, 0) / Math.max(1, events),
    seconds,
    perSecond: events / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors: parts.reduce((a, f) => a + f.errors, 0),
    messageBytes,
  };
}

/** Runs the phases in order: cold event, warm-up, serial (2 KB, then large), alternating load and floor rounds, drain. */
export async function benchE2e(options: E2eOptions = E2E_DEFAULTS, progress: (line: string) => void = () => undefined): Promise<E2eResult> {
  const log = createCallLog();
  const kms = createLocalKms();
  const capture = new LogCapture();
  capture.start();
  let app: LocalApp | undefined;
  let accepted = 0;
  let processed = 0;
  try {
    app = await startLocal({
      config: CONFIG,
      port: 0,
      kms,
      instrument: instrumenter(log, QUEUE),
    });
    const url = `${app.url}/webhooks/${SOURCE.name}`;
    const spec = (phase: string, connections: number, duration: number, bodyBytes = options.bodyBytes): LoadSpec => ({
      url,
      source: SOURCE,
      secret: SECRET,
      bodyBytes,
      connections,
      duration,
      idPrefix: phase,
    });

    // Collects one phase: waits until the processors deleted every message the verifier sent.
    const collect = async (kmsBefore: KmsCallCounts): Promise<PhaseSummary> => {
      const drained = await waitFor(() => log.processed >= sendCount(log), 60_000);
      if (!drained) progress(`  drain timed out: ${log.processed} processed of ${sendCount(log)} sent`);
      const phase = summarise(log, capture.take(), kmsDelta(kmsSnapshot(kms.calls), kmsBefore));
      accepted += phase.events;
      processed += phase.processed;
      log.reset();
      return phase;
    };

    // Cold: the first event of a fresh process (data key generation, connections).
    let before = kmsSnapshot(kms.calls);
    // autocannon's duration may end with one request per connection in flight: the verifier
    // still accepts it, so accepted counts come from the verifier's SendMessage calls.
    const coldStarted = performance.now();
    const coldStatus = await sendOne(url, eventBody('cold', options.bodyBytes), 'cold-1');
    const coldMs = performance.now() - coldStarted;
    const cold = await collect(before);
    progress(`  cold: ${cold.events} event(s), HTTP ${coldStatus}, ${coldMs.toFixed(0)} ms`);

    const warm = await runLoadProcess(spec('warm', options.connections, options.warmupSeconds));
    await collect(kmsSnapshot(kms.calls));
    progress(`  warm-up: ${warm.ok2xx} events`);

    before = kmsSnapshot(kms.calls);
    const serialLoad = await runLoadProcess(spec('serial', 1, options.serialSeconds));
    const serial = { load: serialLoad, calls: await collect(before) };
    progress(`  serial: ${serial.calls.events} events, p50 ${serialLoad.p50} ms`);

    before = kmsSnapshot(kms.calls);
    const largeLoad = await runLoadProcess(spec('large', 1, options.serialSeconds, options.largeBodyBytes));
    const serialLarge = { load: largeLoad, calls: await collect(before) };
    progress(`  serial ${options.largeBodyBytes / 1024} KB: ${serialLarge.calls.events} events, p50 ${largeLoad.p50} ms`);

    const sample = log.sample ?? { bodyBytes: 4 * 1024, attributes: {} };
    const floor = await createFloor(app, options.connections, sample, CONFIG.dedupeTtlDays);
    let loadCpuMs = 0;
    before = kmsSnapshot(kms.calls);
    let alternated: Alternated<LoadResult, FloorSegment>;
    try {
      await floor.segment(Math.min(2, options.warmupSeconds));
      alternated = await alternateRounds(
        options.rounds,
        {
          e2e: async (round): Promise<LoadResult> => {
            const cpu = process.cpuUsage();
            const part = await runLoadProcess(spec(`load${round}`, options.connections, options.loadSeconds / options.rounds));
            // The processors finish this segment's messages before the floor runs.
            await waitFor(() => log.processed >= sendCount(log), 60_000);
            const used = process.cpuUsage(cpu);
            loadCpuMs += (used.user + used.system) / 1000;
            return part;
          },
          floor: () => floor.segment(options.floorSeconds / options.rounds),
          // As the client saw it: 2xx answers within autocannon's measured duration.
          e2eRate: (part) => part.ok2xx / part.seconds,
          floorRate: (part) => part.events / part.seconds,
        },
        (r, i) => progress(`  round ${i + 1}: e2e ${r.e2ePerSecond.toFixed(0)}/s, floor ${r.floorPerSecond.toFixed(0)}/s`),
      );
    } finally {
      await floor.close();
    }
    const loadResult = combine(alternated.e2eParts);
    const loadCalls = await collect(before);
    const load = {
      load: loadResult,
      calls: loadCalls,
      perSecond: loadResult.ok2xx / loadResult.seconds,
      cpuMsPerEvent: loadCpuMs / Math.max(1, loadCalls.events),
      loadCpuMsPerEvent: loadResult.cpuMs / Math.max(1, loadResult.requests),
    };

    const queues = app.stack.resources.queues[SOURCE.name];
    const drained = {
      accepted,
      processed,
      queueLeft: queues === undefined ? -1 : await queueDepth(app, queues.queueUrl),
      dlq: queues === undefined ? -1 : await queueDepth(app, queues.dlqUrl),
    };
    return {
      options,
      cold: { ...cold, status: coldStatus, ms: coldMs },
      serial,
      serialLarge,
      load,
      floor: floorResult(alternated.floorParts, floor.messageBytes),
      drained,
      rounds: alternated.rounds,
      ratio: alternated.ratio,
    };
  } finally {
    capture.stop();
    await app?.stop();
  }
}
