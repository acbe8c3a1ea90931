import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type CircuitState, readCircuit } from '../../lambda/delivery/circuit';
import { METRICS } from '../../lambda/runtime/telemetry';
import type { QueuePair, SourceResources } from '../../lib/stack-outputs';
import type { Command } from '../command';
import { type Cell, print, table } from '../output';
import { type QueueDepth, queueDepth } from '../queues';
import type { Target } from '../target';

/** `hookgate status`: per source, traffic, queue and DLQ depths, and each destination's circuit. */

/** The last hour's counts and the last accepted event of a source; undefined where metrics are not reachable (local mode). */
export interface SourceTraffic {
  readonly accepted: number;
  readonly rejected: number;
  /** Start of the last 5-minute period with an accepted event in the last 24 hours. */
  readonly lastEventAt?: string;
}

/** One destination's state. */
export interface DestinationStatus {
  readonly name: string;
  readonly circuit?: CircuitState;
  readonly queue: QueueDepth;
  readonly dlq: QueueDepth;
}

/** One source's state. */
export interface SourceStatus {
  readonly source: string;
  readonly traffic?: SourceTraffic;
  readonly queue: QueueDepth;
  readonly dlq: QueueDepth;
  readonly destinations: readonly DestinationStatus[];
}

/** Reads the state of every source. */
export async function readStatus(target: Target, now: Date): Promise<SourceStatus[]> {
  const { sqs, dynamodb, cloudwatch } = target.clients;
  const traffic = cloudwatch === undefined ? undefined : await readTraffic(cloudwatch, target.resources.environment, target.resources.sources, now);
  return Promise.all(
    target.resources.sources.map(async (source) => ({
      source: source.source,
      ...(traffic === undefined ? {} : { traffic: traffic.get(source.source) ?? { accepted: 0, rejected: 0 } }),
      queue: await queueDepth(sqs, source.queueUrl),
      dlq: await queueDepth(sqs, source.dlqUrl),
      destinations: await Promise.all(Object.entries(source.destinations).map(([name, queues]) => destinationStatus(target, dynamodb, source.source, name, queues))),
    })),
  );
}

async function destinationStatus(target: Target, dynamodb: DynamoDBClient, source: string, name: string, queues: QueuePair): Promise<DestinationStatus> {
  const table = target.resources.deliveryTable;
  const circuit = table === undefined ? undefined : await readCircuit({ client: dynamodb, tableName: table }, { source, destination: name });
  return { name, ...(circuit === undefined ? {} : { circuit }), queue: await queueDepth(target.clients.sqs, queues.queueUrl), dlq: await queueDepth(target.clients.sqs, queues.dlqUrl) };
}

const HOUR_MS = 3_600_000;
const LAST_EVENT_PERIOD_S = 300;

/** One GetMetricData call for every source: accepted and rejected sums of the last hour, accepted per 5 minutes over a day. */
async function readTraffic(client: CloudWatchClient, environment: string, sources: readonly SourceResources[], now: Date): Promise<Map<string, SourceTraffic>> {
  const namespace = `${METRICS.namespacePrefix}/${environment}`;
  const metric = (name: string, source: string, period: number, id: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: namespace, MetricName: name, Dimensions: [{ Name: 'service', Value: METRICS.service }, { Name: METRICS.sourceDimension, Value: source }] },
      Period: period,
      Stat: 'Sum',
    },
  });
  const queries = sources.flatMap((s, i) => [metric(METRICS.accepted, s.source, 3600, `a${i}`), metric(METRICS.rejected, s.source, 3600, `r${i}`), metric(METRICS.accepted, s.source, LAST_EVENT_PERIOD_S, `l${i}`)]);
  const values = new Map<string, { timestamps: Date[]; values: number[] }>();
  let nextToken: string | undefined;
  do {
    const out = await client.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(now.getTime() - 24 * HOUR_MS), EndTime: now, NextToken: nextToken, ScanBy: 'TimestampDescending' }));
    for (const r of out.MetricDataResults ?? []) {
      const prior = values.get(r.Id ?? '') ?? { timestamps: [], values: [] };
      values.set(r.Id ?? '', { timestamps: [...prior.timestamps, ...(r.Timestamps ?? [])], values: [...prior.values, ...(r.Values ?? [])] });
    }
    nextToken = out.NextToken;
  } while (nextToken !== undefined);
  const hourAgo = now.getTime() - HOUR_MS;
  const sumSince = (id: string): number => {
    const v = values.get(id);
    return (v?.values ?? []).reduce((sum, value, j) => ((v?.timestamps[j]?.getTime() ?? 0) >= hourAgo ? sum + value : sum), 0);
  };
  return new Map(
    sources.map((s, i) => {
      const last = values.get(`l${i}`);
      const lastAt = (last?.timestamps ?? []).filter((_, j) => (last?.values[j] ?? 0) > 0).sort((a, b) => b.getTime() - a.getTime())[0];
      return [s.source, { accepted: sumSince(`a${i}`), rejected: sumSince(`r${i}`), ...(lastAt === undefined ? {} : { lastEventAt: lastAt.toISOString() }) }];
    }),
  );
}

/** A circuit state for people. */
export function circuitText(circuit: CircuitState | undefined): string {
  if (circuit === undefined) return '-';
  switch (circuit.state) {
    case 'closed':
      return circuit.failures === 0 ? 'closed' : `closed (${circuit.failures} failures)`;
    case 'open':
      return `open until ${new Date(circuit.openUntil).toISOString()}`;
    case 'half-open':
      return 'half-open (probing)';
    case 'paused':
      return `paused (${circuit.reason}${circuit.since === undefined ? '' : ` since ${circuit.since}`})`;
  }
}

const depth = (d: QueueDepth): string => (d.inFlight === 0 ? String(d.visible) : `${d.visible} (+${d.inFlight} in flight)`);

function humanStatus(label: string, sources: readonly SourceStatus[]): string {
  const na: Cell = 'n/a';
  const sourceRows = sources.map((s) => [s.source, s.traffic?.accepted ?? na, s.traffic?.rejected ?? na, s.traffic === undefined ? na : (s.traffic.lastEventAt ?? 'none in 24h'), depth(s.queue), depth(s.dlq)]);
  const destinationRows = sources.flatMap((s) => s.destinations.map((d) => [`${s.source}/${d.name}`, circuitText(d.circuit), depth(d.queue), depth(d.dlq)]));
  const parts = [`${label}\n`, table(['source', 'accepted 1h', 'rejected 1h', 'last event', 'queue', 'dlq'], sourceRows)];
  if (destinationRows.length > 0) parts.push('\n', table(['destination', 'circuit', 'queue', 'dlq'], destinationRows));
  return parts.join('');
}

export const statusCommand: Command = {
  path: ['status'],
  summary: 'per source: traffic of the last hour, queue and DLQ depths, each destination\'s circuit',
  usage: 'status',
  flags: {},
  positionals: false,
  async run(_parsed, ctx) {
    const target = await ctx.target();
    const sources = await readStatus(target, ctx.now());
    print(ctx.io, ctx.json, { target: target.label, sources }, () => humanStatus(target.label, sources));
  },
};
