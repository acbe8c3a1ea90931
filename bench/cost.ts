/**
 * The cost model: dollars per million webhooks from the counts and durations bench/run.ts
 * measured (results.json) and the stack's facts read off the synthesized template
 * (bench/stack-facts.ts), against a naive design of the same path. bench/cost-doc.ts renders it.
 */
import type { BenchResults } from './results';
import type { Sampling, StackFacts } from './stack-facts';

/**
 * Public us-east-1 list prices as known at 2025 (taken for this model on the run date below);
 * check the AWS pricing pages before relying on them.
 */
export const PRICES = {
  apiGatewayRestPerM: 3.5,
  wafAclMonth: 5,
  wafRuleMonth: 1,
  wafPerM: 0.6,
  lambdaGbSecondArm64: 0.0000133334,
  lambdaGbSecondX86: 0.0000166667,
  lambdaPerM: 0.2,
  dynamoWruPerM: 0.625,
  dynamoRruPerM: 0.125,
  sqsPerM: 0.4, // standard; each 64 KB chunk of a payload is one request
  kmsKeyMonth: 1,
  kmsPer10k: 0.03,
  logsIngestGb: 0.5,
  logsStoreGbMonth: 0.03,
  metricMonth: 0.3,
  alarmMonth: 0.1,
  dashboardMonth: 3,
  s3PutPer1k: 0.005,
  s3GetPer1k: 0.0004,
  s3StandardGbMonth: 0.023,
  secretMonth: 0.4,
  secretsPer10k: 0.05,
  xrayPerMTraces: 5,
  xrayFreeTraces: 100_000,
  vpcEndpointAzHour: 0.01,
  vpcEndpointGb: 0.01,
  natGatewayHour: 0.045,
  natGatewayGb: 0.045,
} as const;

/** What the model assumes: neither measured nor in the template (the stack's facts are in StackFacts). */
export const ASSUMPTIONS = {
  /**
   * Lambda START/END/REPORT (+ XRAY) lines per invocation, bytes (text format). Paid by the naive
   * design, and by hookgate when the template lets them through (StackFacts.platformLogLines).
   */
  lambdaPlatformBytes: 350,
  lambdaPlatformLines: 4,
  /** API Gateway access log line (the stack's JSON format, 13 fields). */
  accessLogBytes: 400,
  /** CloudWatch Logs bills 26 bytes of metadata per log event. */
  perLogEventBytes: 26,
  /** API Gateway execution logs at INFO: ~15 lines per proxied request (estimate). */
  executionLogBytes: 2000,
  /** WAF logging of every request, signature headers redacted (estimate). */
  wafLogBytes: 1500,
  /** X-Ray's default rule: 1 request/s reservoir + 5 % of the rest, uniform arrivals over 30 days. */
  defaultSampling: { reservoirPerSecond: 1, rate: 0.05 },
  /** The stack's dedupe record (id, status, expirations, "enqueued") stays under 1 KB: 1 WRU per write. */
  dedupeItemKb: 1,
  /** Lambda's SQS event source long-polls each queue with ~5 pollers while idle (20 s waits). */
  idlePollersPerQueue: 5,
  /** Data keys and secrets are re-fetched every 5 min per warm environment (cache maxAge). */
  refreshMinutes: 5,
} as const;

const GB = 1024 ** 3;
const SQS_CHUNK = 64 * 1024;
const HOURS_PER_MONTH = 730;
export const DAYS_PER_MONTH = 365 / 12;

export interface LineItem {
  readonly item: string;
  readonly dollars: number;
  readonly how: string;
}

export interface Scenario {
  readonly name: string;
  readonly bodyBytes: number;
  readonly items: readonly LineItem[];
  /** Without X-Ray; X-Ray per million depends on the monthly volume (see `xray`). */
  readonly subtotal: number;
}

export interface CostModel {
  readonly facts: StackFacts;
  readonly scenarios: readonly Scenario[];
  /** X-Ray dollars per million webhooks at a monthly volume, under the stack's sampling. */
  readonly xray: readonly { readonly monthly: number; readonly perMillion: number }[];
  /** Per million, as lib/ configures logging beyond the measured path (estimates, not measured). */
  readonly stackLogExtras: readonly LineItem[];
  readonly fixed: readonly { readonly item: string; readonly perMonth: (sources: number) => number; readonly how: string; readonly vpcOnly?: boolean }[];
}

/** Inputs measured by the bench, per event, for one body size. */
interface Measured {
  readonly bodyBytes: number;
  readonly sendBytes: number;
  readonly dynamoWrites: number;
  readonly sqsSends: number;
  readonly kmsCalls: number;
  /** Messages per processor invocation. */
  readonly batch: number;
  readonly verifierBilledMs: number;
  /** Processor ms per message (billed per invocation of `batch` messages). */
  readonly processorMsPerMessage: number;
  readonly appLogBytes: number;
  readonly appLogLines: number;
}

function measured(results: BenchResults): Measured[] {
  const { load, serial, serialLarge } = results.e2e;
  const per = load.calls.callsPerEvent;
  const batch = load.calls.receiveBatch.mean;
  const dynamoWrites = (per['verifier DynamoDB PutItem'] ?? 0) + (per['verifier DynamoDB UpdateItem'] ?? 0) + (per['verifier DynamoDB DeleteItem'] ?? 0);
  const kms = load.calls.kms;
  const kmsCalls = (kms.generateDataKey + kms.encrypt + kms.decrypt) / Math.max(1, load.calls.events);
  const logs = load.calls.log;
  const appLogBytes = (logs.verifierLog + logs.verifierEmf + logs.processorLog) / Math.max(1, load.calls.events);
  const appLogLines = (logs.verifierLines + logs.verifierEmfLines + logs.processorLines) / Math.max(1, load.calls.events);
  const common = { dynamoWrites, sqsSends: per['verifier SQS SendMessage'] ?? 1, kmsCalls, batch, appLogBytes, appLogLines };
  return [
    {
      ...common,
      bodyBytes: results.e2e.options.bodyBytes,
      sendBytes: load.calls.sendBytes.mean,
      verifierBilledMs: serial.calls.verifierBilledMs,
      // Serial phases for both sizes: one invocation at a time, as one Lambda environment runs.
      processorMsPerMessage: serial.calls.processorMs.mean / Math.max(1, serial.calls.receiveBatch.mean),
    },
    {
      ...common,
      bodyBytes: results.e2e.options.largeBodyBytes,
      sendBytes: serialLarge.calls.sendBytes.mean,
      verifierBilledMs: serialLarge.calls.verifierBilledMs,
      processorMsPerMessage: serialLarge.calls.processorMs.mean / Math.max(1, serialLarge.calls.receiveBatch.mean),
    },
  ];
}

const M = 1_000_000;

/** Dollars per GB written to CloudWatch Logs: ingestion, then storage for the retention (uncompressed bytes, an upper bound). */
export function logDollarsPerGb(facts: StackFacts): number {
  return PRICES.logsIngestGb + PRICES.logsStoreGbMonth * (facts.logRetentionDays / DAYS_PER_MONTH);
}

/** Dollars per million events that each write `bytes` of logs. */
const logDollars = (bytes: number, facts: StackFacts): number => ((bytes * M) / GB) * logDollarsPerGb(facts);

function lambdaDollars(invocations: number, billedMs: number, memoryMb: number, facts: StackFacts): number {
  const perGbSecond = facts.architecture === 'arm64' ? PRICES.lambdaGbSecondArm64 : PRICES.lambdaGbSecondX86;
  return invocations * (billedMs / 1000) * (memoryMb / 1024) * perGbSecond;
}

function scenario(name: string, m: Measured, naive: boolean, facts: StackFacts): Scenario {
  const a = ASSUMPTIONS;
  const chunks = (bytes: number): number => Math.max(1, Math.ceil(bytes / SQS_CHUNK));
  const batch = naive ? 1 : m.batch;
  const invocations = M / batch;
  const processorBilled = Math.max(1, Math.ceil(batch * m.processorMsPerMessage));
  const receiveRequests = invocations * chunks(batch * m.sendBytes);
  const deleteRequests = invocations;
  const kmsCalls = naive ? 2 : m.kmsCalls;
  // Naive logs the body in the verifier and again in the processor, with Lambda's default log settings.
  const payloadLog = naive ? 2 * m.bodyBytes : 0;
  const platform = naive || facts.platformLogLines;
  const platformBytes = platform ? a.lambdaPlatformBytes : 0;
  const platformLines = platform ? a.lambdaPlatformLines : 0;
  const access = facts.accessLog ? 1 : 0;
  const logBytes =
    m.appLogBytes +
    payloadLog +
    access * a.accessLogBytes +
    platformBytes * (1 + 1 / batch) +
    a.perLogEventBytes * (m.appLogLines + access + platformLines * (1 + 1 / batch));
  const arch = facts.architecture;
  const items: LineItem[] = [
    { item: 'API Gateway REST', dollars: PRICES.apiGatewayRestPerM, how: '1 request' },
    { item: 'WAF requests', dollars: PRICES.wafPerM, how: '1 request' },
    { item: 'Lambda verifier requests', dollars: PRICES.lambdaPerM, how: '1 invocation' },
    {
      item: 'Lambda verifier duration',
      dollars: lambdaDollars(M, m.verifierBilledMs, facts.verifierMemoryMb, facts),
      how: `${m.verifierBilledMs.toFixed(1)} ms billed x ${facts.verifierMemoryMb} MB ${arch}`,
    },
    { item: 'Lambda processor requests', dollars: (invocations / M) * PRICES.lambdaPerM, how: `1 invocation per ${batch.toFixed(1)} messages` },
    {
      item: 'Lambda processor duration',
      dollars: lambdaDollars(invocations, processorBilled, facts.processorMemoryMb, facts),
      how: `${processorBilled} ms billed per invocation x ${facts.processorMemoryMb} MB ${arch}`,
    },
    { item: 'DynamoDB writes', dollars: m.dynamoWrites * a.dedupeItemKb * PRICES.dynamoWruPerM, how: `${m.dynamoWrites.toFixed(2)} WRU (conditional put + update)` },
    {
      item: 'SQS',
      dollars: ((M * m.sqsSends * chunks(m.sendBytes) + receiveRequests + deleteRequests) / M) * PRICES.sqsPerM,
      how: `send ${chunks(m.sendBytes)} x 64 KB chunk (${(m.sendBytes / 1024).toFixed(1)} KB message); receive ${(receiveRequests / M).toFixed(2)} + delete ${(deleteRequests / M).toFixed(2)} per event`,
    },
    { item: 'KMS requests', dollars: (kmsCalls * M * PRICES.kmsPer10k) / 10_000, how: naive ? 'data key per message + Decrypt per message' : `${(kmsCalls * 1000).toFixed(2)} per 1,000 events (cached data keys)` },
    {
      item: 'CloudWatch Logs',
      dollars: logDollars(logBytes, facts),
      how:
        `${Math.round(logBytes)} B per event (app ${Math.round(m.appLogBytes)} B measured${naive ? ` + ${2 * m.bodyBytes} B of body` : ''}` +
        `${access === 1 ? ', access log' : ''}${platform ? ', platform lines' : ''}, 26 B per log event), kept ${facts.logRetentionDays} days`,
    },
  ];
  const subtotal = items.reduce((sum, i) => sum + i.dollars, 0);
  return { name, bodyBytes: m.bodyBytes, items, subtotal };
}

/** X-Ray per million at a monthly volume (traces = reservoir + rate x the rest, free tier off the top). */
export function xrayPerMillion(monthly: number, sampling: Sampling): number {
  const reservoir = sampling.reservoirPerSecond * 30 * 86_400;
  const traced = Math.min(monthly, reservoir) + sampling.rate * Math.max(0, monthly - reservoir);
  const billedTraces = Math.max(0, traced - PRICES.xrayFreeTraces);
  return ((billedTraces / M) * PRICES.xrayPerMTraces) / (monthly / M);
}

/** X-Ray per million as the stack traces: its own rule, X-Ray's default without one, nothing untraced. */
export function stackXrayPerMillion(facts: StackFacts, monthly: number): number {
  if (!facts.tracing) return 0;
  return xrayPerMillion(monthly, facts.sampling ?? ASSUMPTIONS.defaultSampling);
}

const percent = (rate: number): string => `${Number((rate * 100).toPrecision(3))} %`;
/** A sampling rule in words, e.g. `1 %, no reservoir`. */
export const describeSampling = (s: Sampling): string => `${percent(s.rate)}${s.reservoirPerSecond > 0 ? ` after a reservoir of ${s.reservoirPerSecond}/s` : ', no reservoir'}`;

export function costModel(results: BenchResults, facts: StackFacts): CostModel {
  const [small, large] = measured(results);
  if (small === undefined || large === undefined) throw new Error('results.json lacks the e2e phases');
  const a = ASSUMPTIONS;
  const perQueueIdle = a.idlePollersPerQueue * 3 * 60 * HOURS_PER_MONTH;
  const refreshes = (60 / a.refreshMinutes) * HOURS_PER_MONTH;
  const executionInfo = facts.executionLogLevel === 'INFO';
  return {
    facts,
    scenarios: [
      scenario('hookgate, 2 KB', small, false, facts),
      scenario('naive, 2 KB', small, true, facts),
      scenario('hookgate, 64 KB', large, false, facts),
      scenario('naive, 64 KB', large, true, facts),
    ],
    xray: [1, 10, 100].map((millions) => ({ monthly: millions * M, perMillion: stackXrayPerMillion(facts, millions * M) })),
    stackLogExtras: [
      {
        item: `API Gateway execution logs (stage loggingLevel ${facts.executionLogLevel})`,
        dollars: executionInfo ? logDollars(a.executionLogBytes, facts) : 0,
        how: executionInfo ? `~${a.executionLogBytes} B per request, estimate` : `no line for a request that succeeds (INFO would be ~${a.executionLogBytes} B, ${usd(logDollars(a.executionLogBytes, facts))})`,
      },
      {
        item: facts.wafLogsAllowed ? 'WAF logging (every request)' : 'WAF logging (blocked and counted requests only, or none)',
        dollars: facts.wafLogsAllowed ? logDollars(a.wafLogBytes, facts) : 0,
        how: facts.wafLogsAllowed ? `~${a.wafLogBytes} B per request, estimate` : `nothing for allowed traffic (every request would be ~${a.wafLogBytes} B, ${usd(logDollars(a.wafLogBytes, facts))})`,
      },
    ],
    fixed: [
      {
        item: 'WAF web ACL + rules',
        perMonth: () => PRICES.wafAclMonth + facts.wafRules.length * PRICES.wafRuleMonth,
        how: `1 ACL, ${facts.wafRules.length} rules: ${facts.wafRules.join(', ')} (an allow-list is one rule per restricted source)`,
      },
      { item: 'KMS keys', perMonth: () => facts.kmsKeys * PRICES.kmsKeyMonth, how: `${facts.kmsKeys} customer-managed key(s)` },
      {
        item: 'KMS requests of caches (per warm environment)',
        perMonth: (s) => (s * 4 * refreshes * PRICES.kmsPer10k) / 10_000,
        how: 'per source: verifier data key, processor decrypt, SQS SSE producer + consumer, every 5 min',
      },
      { item: 'Secrets Manager', perMonth: (s) => s * (PRICES.secretMonth + (refreshes * PRICES.secretsPer10k) / 10_000), how: 'one secret per source, re-read every 5 min per warm verifier' },
      { item: 'CloudWatch alarms', perMonth: (s) => (facts.alarmsPerSource * s + facts.optionalSourceAlarms + facts.edgeAlarms) * PRICES.alarmMonth, how: `${facts.alarmsPerSource} per source + ${facts.optionalSourceAlarms} silence + ${facts.edgeAlarms} at the edge` },
      { item: 'CloudWatch dashboards', perMonth: () => facts.dashboards * PRICES.dashboardMonth, how: `${facts.dashboards} per environment` },
      { item: 'Custom metrics (EMF)', perMonth: (s) => facts.metricsPerSource * s * PRICES.metricMonth, how: `${facts.metricsPerSource} names x source dimension` },
      { item: 'SQS idle polling by the event source mapping', perMonth: (s) => (s * perQueueIdle * PRICES.sqsPerM) / M, how: `~${a.idlePollersPerQueue} long polls per 20 s per queue` },
      {
        item: 'VPC interface endpoints',
        perMonth: () => facts.interfaceEndpoints * facts.endpointAzs * HOURS_PER_MONTH * PRICES.vpcEndpointAzHour,
        how: `${facts.interfaceEndpoints} endpoints x ${facts.endpointAzs} AZs x 730 h (+$0.01/GB)`,
        vpcOnly: true,
      },
    ],
  };
}

export const usd = (n: number): string => (n >= 0.01 || n === 0 ? `$${n.toFixed(2)}` : `$${n.toFixed(4)}`);

/** What one further change would save per million 2 KB webhooks (volume-independent). */
export function levers(model: CostModel, results: BenchResults): LineItem[] {
  const a = ASSUMPTIONS;
  const phase = results.e2e.load.calls;
  const logs = phase.log;
  const events = Math.max(1, phase.events);
  const perEventLines = (logs.verifierLog + logs.processorLog + a.perLogEventBytes * (logs.verifierLines + logs.processorLines)) / events;
  // Provisioned writes at a steady rate, auto scaling at 70 % utilisation ($0.00065 per WCU-hour, list price as known at 2025).
  const provisionedPerMWrites = (M / 3600 / 0.7) * 0.00065;
  const writes = model.scenarios[0]?.items.find((i) => i.item === 'DynamoDB writes')?.dollars ?? 0;
  return [
    {
      item: 'Logs: no per-event INFO lines (the dedupe key and outcome go in the EMF blob as properties; processor logs per batch)',
      dollars: logDollars(perEventLines, model.facts),
      how: `${Math.round(perEventLines)} B per event measured`,
    },
    { item: 'DynamoDB: provisioned capacity with auto scaling at a steady rate', dollars: Math.max(0, writes - 2 * provisionedPerMWrites), how: `2 writes at ~$${provisionedPerMWrites.toFixed(2)} per million vs on-demand` },
  ];
}

/** What the stack's settings (as the template has them) save per million 2 KB webhooks against AWS defaults, at `monthly` volume. */
export function applied(model: CostModel, results: BenchResults, monthly: number): LineItem[] {
  const a = ASSUMPTIONS;
  const { facts } = model;
  const batch = Math.max(1, results.e2e.load.calls.receiveBatch.mean);
  const platform = (a.lambdaPlatformBytes + a.perLogEventBytes * a.lambdaPlatformLines) * (1 + 1 / batch);
  const out: LineItem[] = [];
  if (facts.tracing && facts.sampling !== undefined) {
    out.push({
      item: `X-Ray: the API stage sampled at ${describeSampling(facts.sampling)} (default: 1/s + 5 %)`,
      dollars: xrayPerMillion(monthly, a.defaultSampling) - xrayPerMillion(monthly, facts.sampling),
      how: 'the default reservoir traces every request of a quiet source',
    });
  }
  if (!facts.platformLogLines) {
    out.push({ item: 'Lambda system log level WARN or ERROR, JSON format (drops START/END/REPORT)', dollars: logDollars(platform, facts), how: `${Math.round(platform)} B per event assumed` });
  }
  if (facts.executionLogLevel !== 'INFO') {
    out.push({ item: `API Gateway execution logs at ${facts.executionLogLevel} instead of INFO`, dollars: logDollars(a.executionLogBytes, facts), how: `~${a.executionLogBytes} B per request, estimate` });
  }
  if (!facts.wafLogsAllowed) {
    out.push({ item: 'WAF logging without allowed requests (filtered to blocked and counted)', dollars: logDollars(a.wafLogBytes, facts), how: `~${a.wafLogBytes} B per request, estimate` });
  }
  return out;
}

/** The headline: hookgate 2 KB per million, all included, at a monthly volume. */
export function headline(model: CostModel, monthly: number, withStackExtras: boolean): number {
  const base = model.scenarios[0]?.subtotal ?? Number.NaN;
  const extras = withStackExtras ? model.stackLogExtras.reduce((s, i) => s + i.dollars, 0) : 0;
  return base + stackXrayPerMillion(model.facts, monthly) + extras;
}
