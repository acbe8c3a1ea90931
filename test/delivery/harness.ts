import { type DestinationConfigInput, destinationSchema, type NamedDestination } from '../../lambda/config/destinations';
import type { AttemptContext, AttemptResult, DeliveryEvent, Target } from '../../lambda/delivery/contract';
import type { DeliveryCountName, DeliveryMetrics } from '../../lambda/delivery/engine';

/** The delivery table as the stack creates it (local mode's). */
export { createDeliveryTable } from '../../local/emulators';

/** An http destination as a config file would give it, defaults applied by the schema. */
export function testDestination(name: string, source: string, fields: Partial<DestinationConfigInput> = {}): NamedDestination {
  const input = { type: 'http', url: 'https://billing.example/hooks', secretName: `hookgate/test/out/${name}`, ...fields };
  return { ...destinationSchema.parse(input), name, source };
}

/** A fake target: answers each call with what `answer` says (or throws what it throws), and keeps the calls. */
export function scriptedTarget(
  answer: (event: DeliveryEvent, context: AttemptContext, call: number) => AttemptResult | Promise<AttemptResult>,
): Target & { readonly calls: { event: DeliveryEvent; context: AttemptContext }[] } {
  const calls: { event: DeliveryEvent; context: AttemptContext }[] = [];
  return {
    calls,
    async deliver(event, context) {
      calls.push({ event, context });
      return answer(event, context, calls.length);
    },
  };
}

/** Answers of an http receiver, as the http target reports them. */
export const answer = {
  ok: (): AttemptResult => ({ verdict: 'delivered', statusCode: 200, latencyMs: 12 }),
  status: (statusCode: number, verdict: AttemptResult['verdict'], retryAfterSeconds?: number): AttemptResult => ({
    verdict,
    statusCode,
    errorClass: `http-${statusCode}`,
    latencyMs: 7,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  }),
  refused: (): AttemptResult => ({ verdict: 'refused-address', errorClass: 'metadata', latencyMs: 1 }),
};

/** Metrics kept in memory: counts by name and every latency. */
export function memoryMetrics(): DeliveryMetrics & { readonly counts: Partial<Record<DeliveryCountName, number>>; readonly latencies: number[] } {
  const counts: Partial<Record<DeliveryCountName, number>> = {};
  const latencies: number[] = [];
  return {
    counts,
    latencies,
    count: (name, value) => void (counts[name] = (counts[name] ?? 0) + value),
    latency: (ms) => void latencies.push(ms),
    flush: () => undefined,
  };
}

/** A seeded generator in [0, 1) (mulberry32), so a run's randomness is repeatable. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
