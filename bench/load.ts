/**
 * The load generator, run in its own process by bench/e2e/load-process.ts so that signing and autocannon's
 * own work do not share the event loop of the server under test (they still share the 2 cores:
 * an HTTP client costs CPU wherever it runs). Input: one JSON argument ({@link LoadSpec});
 * output: one JSON line ({@link LoadResult}) on stdout.
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import type { NamedSource } from '../lambda/config/schema';
import { signRequest } from '../lambda/signatures/sign';

export interface LoadSpec {
  /** The source's webhook URL. */
  readonly url: string;
  readonly source: NamedSource;
  readonly secret: string;
  readonly bodyBytes: number;
  readonly connections: number;
  /** Seconds. */
  readonly duration: number;
  /** Makes event ids unique across the phases of one run. */
  readonly idPrefix: string;
}

export interface LoadResult {
  readonly requests: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly seconds: number;
  /** Latency percentiles, ms. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  /** CPU the load generator itself used (user + system), ms: it shares the cores with the server. */
  readonly cpuMs: number;
}

/** A JSON body of exactly `bytes` bytes, unique per event id. */
export function eventBody(id: string, bytes: number): Buffer {
  const head = `{"action":"opened","delivery":"${id}","nonce":"${randomBytes(8).toString('hex')}","padding":"`;
  return Buffer.from(`${head}${'x'.repeat(Math.max(0, bytes - head.length - 2))}"}`, 'utf8');
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const target = new URL(spec.url);
  const cpu = process.cpuUsage();
  let seq = 0;
  const result = await autocannon({
    url: target.origin,
    connections: spec.connections,
    duration: spec.duration,
    // One request in flight per connection, like a provider's delivery worker.
    pipelining: 1,
    requests: [
      {
        method: 'POST',
        path: target.pathname,
        // Called per request: a fresh id, body and signature, so nothing is a duplicate.
        setupRequest: (request) => {
          const id = `${spec.idPrefix}-${process.pid}-${(seq += 1)}`;
          const body = eventBody(id, spec.bodyBytes);
          const signed = signRequest(spec.source, spec.secret, body, { now: Date.now(), url: spec.url, eventId: id });
          return { ...request, body, headers: { 'content-type': 'application/json', ...signed.headers } };
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    cpuMs: (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000,
  };
}

if (require.main === module) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  runLoad(spec)
    .then((result) => process.stdout.write(`${JSON.stringify(result)}\n`))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
