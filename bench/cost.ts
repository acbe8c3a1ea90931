/**
 * Cost per million webhooks, from the counts and durations bench/run.ts measured (results.json),
 * against a naive design of the same path. Writes docs/cost.md. Run alone to regenerate it from
 * the committed results: `npx tsx bench/cost.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResults } from './results';

/**
 * Public us-east-1 list prices as known at 2025 (taken for this model on the run date below);
 * check the AWS pricing pages before relying on them.
 */
export const PRICES = {
  apiGatewayRestPerM: 3.5,
  wafAclMonth: 5,
  wafRuleMonth: 1,
  wafPerM: 0.6,
  lambdaGbSecond: 0.0000133334, // arm64
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
  secretMonth: 0.4,
  secretsPer10k: 0.05,
  xrayPerMTraces: 5,
  xrayFreeTraces: 100_000,
  vpcEndpointAzHour: 0.01,
  vpcEndpointGb: 0.01,
} as const;

/** What the model assumes and did not measure. */
export const ASSUMPTIONS = {
  /** lib/constructs/webhook-function.ts (main at 42a0c2b): memorySize default 512. */
  verifierMemoryMb: 512,
  processorMemoryMb: 512,
  /**
   * Lambda START/END/REPORT (+ XRAY) lines per invocation, bytes (text format). Only the naive
   * design pays them: the stack sets the system log level to WARN (lib/constructs/webhook-function.ts).
   */
  lambdaPlatformBytes: 350,
  lambdaPlatformLines: 4,
  /** API Gateway access log line (the stack's JSON format, 13 fields). */
  accessLogBytes: 400,
  /** CloudWatch Logs bills 26 bytes of metadata per log event. */
  perLogEventBytes: 26,
  /** API Gateway execution logs at INFO: ~15 lines per proxied request (estimate); the stack logs at ERROR. */
  executionLogBytes: 2000,
  /** WAF logging of every request, signature headers redacted (estimate); the stack keeps blocked/counted only. */
  wafLogBytes: 1500,
  /** Log retention one month: each GB is stored about a month (uncompressed upper bound). */
  storedMonths: 1,
  /** X-Ray's default rule: 1 request/s reservoir + 5 % of the rest, uniform arrivals over 30 days. */
  defaultSampling: { reservoirPerSecond: 1, rate: 0.05 },
  /** The stack's rule for the API stage (lib/constructs/ingress-api.ts): 1 %, no reservoir. */
  stackSampling: { reservoirPerSecond: 0, rate: 0.01 },
  /** The stack's dedupe record (id, status, expirations, "enqueued") stays under 1 KB: 1 WRU per write. */
  dedupeItemKb: 1,
  /** Lambda's SQS event source long-polls each queue with ~5 pollers while idle (20 s waits). */
  idlePollersPerQueue: 5,
  /** Data keys and secrets are re-fetched every 5 min per warm environment (cache maxAge). */
  refreshMinutes: 5,
  /** Interface endpoints of lib/constructs/private-network.ts (SQS, KMS, Secrets Manager, Logs, Monitoring, X-Ray) in 2 AZs. */
  vpcInterfaceEndpoints: 6,
  vpcAzs: 2,
  /** Alarms: 6 per source + 3 at the edge; WAF: rate limit + 3 managed rule groups. */
  alarmsPerSource: 6,
  edgeAlarms: 3,
  wafRules: 4,
  /** EMF metric names per source (lambda/runtime/telemetry.ts), dimensions {service, source}. */
  metricsPerSource: 8,
} as const;

const GB = 1024 ** 3;
const SQS_CHUNK = 64 * 1024;
const HOURS_PER_MONTH = 730;

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
  readonly scenarios: readonly Scenario[];
  /** X-Ray dollars per million webhooks at a monthly volume. */
  readonly xray: readonly { readonly monthly: number; readonly perMillion: number }[];
  /** Per million, as lib/ configures logging today (estimates, not measured). */
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
const lambdaDollars = (invocations: number, billedMs: number, memoryMb: number): number => invocations * (billedMs / 1000) * (memoryMb / 1024) * PRICES.lambdaGbSecond;

function scenario(name: string, m: Measured, naive: boolean): Scenario {
  const a = ASSUMPTIONS;
  const chunks = (bytes: number): number => Math.max(1, Math.ceil(bytes / SQS_CHUNK));
  const batch = naive ? 1 : m.batch;
  const invocations = M / batch;
  const processorBilled = Math.max(1, Math.ceil(batch * m.processorMsPerMessage));
  const receiveRequests = invocations * chunks(batch * m.sendBytes);
  const deleteRequests = invocations;
  const kmsCalls = naive ? 2 : m.kmsCalls;
  // Naive logs the body in the verifier and again in the processor.
  const payloadLog = naive ? 2 * m.bodyBytes : 0;
  const platformBytes = naive ? a.lambdaPlatformBytes : 0;
  const platformLines = naive ? a.lambdaPlatformLines : 0;
  const logBytes =
    m.appLogBytes + payloadLog + a.accessLogBytes + platformBytes * (1 + 1 / batch) + a.perLogEventBytes * (m.appLogLines + 1 + platformLines * (1 + 1 / batch));
  const items: LineItem[] = [
    { item: 'API Gateway REST', dollars: PRICES.apiGatewayRestPerM, how: '1 request' },
    { item: 'WAF requests', dollars: PRICES.wafPerM, how: '1 request' },
    { item: 'Lambda verifier requests', dollars: PRICES.lambdaPerM, how: '1 invocation' },
    { item: 'Lambda verifier duration', dollars: lambdaDollars(M, m.verifierBilledMs, a.verifierMemoryMb), how: `${m.verifierBilledMs.toFixed(1)} ms billed x ${a.verifierMemoryMb} MB` },
    { item: 'Lambda processor requests', dollars: (invocations / M) * PRICES.lambdaPerM, how: `1 invocation per ${batch.toFixed(1)} messages` },
    { item: 'Lambda processor duration', dollars: lambdaDollars(invocations, processorBilled, a.processorMemoryMb), how: `${processorBilled} ms billed per invocation x ${a.processorMemoryMb} MB` },
    { item: 'DynamoDB writes', dollars: m.dynamoWrites * a.dedupeItemKb * PRICES.dynamoWruPerM, how: `${m.dynamoWrites.toFixed(2)} WRU (conditional put + update)` },
    {
      item: 'SQS',
      dollars: ((M * m.sqsSends * chunks(m.sendBytes) + receiveRequests + deleteRequests) / M) * PRICES.sqsPerM,
      how: `send ${chunks(m.sendBytes)} x 64 KB chunk (${(m.sendBytes / 1024).toFixed(1)} KB message); receive ${(receiveRequests / M).toFixed(2)} + delete ${(deleteRequests / M).toFixed(2)} per event`,
    },
    { item: 'KMS requests', dollars: (kmsCalls * M * PRICES.kmsPer10k) / 10_000, how: naive ? 'data key per message + Decrypt per message' : `${(kmsCalls * 1000).toFixed(2)} per 1,000 events (cached data keys)` },
    {
      item: 'CloudWatch Logs',
      dollars: ((logBytes * M) / GB) * (PRICES.logsIngestGb + PRICES.logsStoreGbMonth * a.storedMonths),
      how: `${Math.round(logBytes)} B per event (app ${Math.round(m.appLogBytes)} B measured${naive ? ` + ${2 * m.bodyBytes} B of body` : ''}, access log, platform lines, 26 B per log event)`,
    },
  ];
  const subtotal = items.reduce((sum, i) => sum + i.dollars, 0);
  return { name, bodyBytes: m.bodyBytes, items, subtotal };
}

/** An X-Ray sampling rule: a reservoir of requests per second, then a share of the rest. */
export interface Sampling {
  readonly reservoirPerSecond: number;
  readonly rate: number;
}

/** X-Ray per million at a monthly volume (traces = reservoir + rate x the rest, free tier off the top). */
export function xrayPerMillion(monthly: number, sampling: Sampling = ASSUMPTIONS.stackSampling): number {
  const reservoir = sampling.reservoirPerSecond * 30 * 86_400;
  const traced = Math.min(monthly, reservoir) + sampling.rate * Math.max(0, monthly - reservoir);
  const billedTraces = Math.max(0, traced - PRICES.xrayFreeTraces);
  return ((billedTraces / M) * PRICES.xrayPerMTraces) / (monthly / M);
}

export function costModel(results: BenchResults): CostModel {
  const [small, large] = measured(results);
  if (small === undefined || large === undefined) throw new Error('results.json lacks the e2e phases');
  const a = ASSUMPTIONS;
  const logGb = (bytes: number): number => ((bytes * M) / GB) * (PRICES.logsIngestGb + PRICES.logsStoreGbMonth * a.storedMonths);
  const perQueueIdle = a.idlePollersPerQueue * 3 * 60 * HOURS_PER_MONTH;
  const refreshes = (60 / a.refreshMinutes) * HOURS_PER_MONTH;
  return {
    scenarios: [
      scenario('hookgate, 2 KB', small, false),
      scenario('naive, 2 KB', small, true),
      scenario('hookgate, 64 KB', large, false),
      scenario('naive, 64 KB', large, true),
    ],
    xray: [1, 10, 100].map((millions) => ({ monthly: millions * M, perMillion: xrayPerMillion(millions * M) })),
    stackLogExtras: [
      { item: 'API Gateway execution logs (stage loggingLevel ERROR)', dollars: 0, how: `no line for a request that succeeds (INFO would be ~${a.executionLogBytes} B, ${usd(logGb(a.executionLogBytes))})` },
      { item: 'WAF logging (blocked and counted requests only)', dollars: 0, how: `nothing for allowed traffic (every request would be ~${a.wafLogBytes} B, ${usd(logGb(a.wafLogBytes))})` },
    ],
    fixed: [
      { item: 'WAF web ACL + rules', perMonth: () => PRICES.wafAclMonth + a.wafRules * PRICES.wafRuleMonth, how: `1 ACL, ${a.wafRules} rules (rate limit, 3 managed groups; +$1 per allow-list)` },
      { item: 'KMS key', perMonth: () => PRICES.kmsKeyMonth, how: 'one stack key' },
      {
        item: 'KMS requests of caches (per warm environment)',
        perMonth: (s) => (s * 4 * refreshes * PRICES.kmsPer10k) / 10_000,
        how: 'per source: verifier data key, processor decrypt, SQS SSE producer + consumer, every 5 min',
      },
      { item: 'Secrets Manager', perMonth: (s) => s * (PRICES.secretMonth + (refreshes * PRICES.secretsPer10k) / 10_000), how: 'one secret per source, re-read every 5 min per warm verifier' },
      { item: 'CloudWatch alarms', perMonth: (s) => (a.alarmsPerSource * s + a.edgeAlarms) * PRICES.alarmMonth, how: `${a.alarmsPerSource} per source + ${a.edgeAlarms}` },
      { item: 'CloudWatch dashboard', perMonth: () => PRICES.dashboardMonth, how: 'one per environment' },
      { item: 'Custom metrics (EMF)', perMonth: (s) => a.metricsPerSource * s * PRICES.metricMonth, how: `${a.metricsPerSource} names x source dimension` },
      { item: 'SQS idle polling by the event source mapping', perMonth: (s) => (s * perQueueIdle * PRICES.sqsPerM) / M, how: `~${a.idlePollersPerQueue} long polls per 20 s per queue` },
      {
        item: 'VPC interface endpoints',
        perMonth: () => a.vpcInterfaceEndpoints * a.vpcAzs * HOURS_PER_MONTH * PRICES.vpcEndpointAzHour,
        how: `${a.vpcInterfaceEndpoints} endpoints x ${a.vpcAzs} AZs x 730 h (+$0.01/GB)`,
        vpcOnly: true,
      },
    ],
  };
}

const usd = (n: number): string => (n >= 0.01 || n === 0 ? `$${n.toFixed(2)}` : `$${n.toFixed(4)}`);

/** What one further change would save per million 2 KB webhooks (volume-independent). */
export function levers(model: CostModel, results: BenchResults): LineItem[] {
  const a = ASSUMPTIONS;
  const phase = results.e2e.load.calls;
  const logs = phase.log;
  const events = Math.max(1, phase.events);
  const rate = (bytes: number): number => ((bytes * M) / GB) * (PRICES.logsIngestGb + PRICES.logsStoreGbMonth * a.storedMonths);
  const perEventLines = (logs.verifierLog + logs.processorLog + a.perLogEventBytes * (logs.verifierLines + logs.processorLines)) / events;
  // Provisioned writes at a steady rate, auto scaling at 70 % utilisation ($0.00065 per WCU-hour, list price as known at 2025).
  const provisionedPerMWrites = (M / 3600 / 0.7) * 0.00065;
  const writes = model.scenarios[0]?.items.find((i) => i.item === 'DynamoDB writes')?.dollars ?? 0;
  return [
    { item: 'Logs: no per-event INFO lines (the dedupe key and outcome go in the EMF blob as properties; processor logs per batch)', dollars: rate(perEventLines), how: `${Math.round(perEventLines)} B per event measured` },
    { item: 'DynamoDB: provisioned capacity with auto scaling at a steady rate', dollars: Math.max(0, writes - 2 * provisionedPerMWrites), how: `2 writes at ~$${provisionedPerMWrites.toFixed(2)} per million vs on-demand` },
  ];
}

/** What the stack's settings already save per million 2 KB webhooks against AWS defaults, at `monthly` volume. */
export function applied(results: BenchResults, monthly: number): LineItem[] {
  const a = ASSUMPTIONS;
  const batch = Math.max(1, results.e2e.load.calls.receiveBatch.mean);
  const rate = (bytes: number): number => ((bytes * M) / GB) * (PRICES.logsIngestGb + PRICES.logsStoreGbMonth * a.storedMonths);
  const platform = (a.lambdaPlatformBytes + a.perLogEventBytes * a.lambdaPlatformLines) * (1 + 1 / batch);
  return [
    { item: 'X-Ray: the API stage sampled at 1 %, no reservoir (default: 1/s + 5 %)', dollars: xrayPerMillion(monthly, a.defaultSampling) - xrayPerMillion(monthly, a.stackSampling), how: 'the default reservoir traces every request of a quiet source' },
    { item: 'Lambda system log level WARN, JSON format (drops START/END/REPORT)', dollars: rate(platform), how: `${Math.round(platform)} B per event assumed` },
    { item: 'API Gateway execution logs at ERROR instead of INFO', dollars: rate(a.executionLogBytes), how: `~${a.executionLogBytes} B per request, estimate` },
    { item: 'WAF logging filtered to blocked and counted requests', dollars: rate(a.wafLogBytes), how: `~${a.wafLogBytes} B per request, estimate` },
  ];
}

/** The headline: hookgate 2 KB per million, all included, at a monthly volume. */
export function headline(model: CostModel, monthly: number, withStackExtras: boolean): number {
  const base = model.scenarios[0]?.subtotal ?? Number.NaN;
  const extras = withStackExtras ? model.stackLogExtras.reduce((s, i) => s + i.dollars, 0) : 0;
  return base + xrayPerMillion(monthly) + extras;
}

export function renderCost(model: CostModel, results: BenchResults): string {
  const lines: string[] = [];
  const push = (...l: string[]): void => void lines.push(...l);
  const [hook2, naive2, hook64, naive64] = model.scenarios;
  push(
    '# Cost per million webhooks',
    '',
    `Generated by \`bench/cost.ts\` from \`bench/results.json\` (run of ${results.machine.date}, ${results.machine.cpu}, ${results.machine.nproc} cores, node ${results.machine.node}).`,
    'Counts (AWS calls per event, batch sizes, KMS calls) and durations are measured by `npm run bench` on the local',
    'emulators; prices and the items marked *estimate* or *assumption* are not. Regenerate with `npx tsx bench/cost.ts`.',
    '',
    '**Prices: public us-east-1 list prices as known at 2025; check the AWS pricing pages before relying on them.**',
    '',
    '| price | $ |',
    '| --- | ---: |',
    ...Object.entries(PRICES).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '## Assumptions',
    '',
    `- Lambda arm64, verifier ${ASSUMPTIONS.verifierMemoryMb} MB and processor ${ASSUMPTIONS.processorMemoryMb} MB: the default of \`WebhookFunction\` in lib/ (merged on main at 42a0c2b, not in this branch).`,
    '- Billed duration: the local handler duration, rounded up to 1 ms per invocation, from the serial phases (one request at a time, as one',
    '  Lambda environment sees them): the verifier per request; the processor per message times the batch size measured under load.',
    '  Local durations run on a shared 2-core machine against emulators: a proxy, not a promise.',
    '- Log bytes: the app logs and EMF lines are measured from the e2e run (bytes per accepted event); Lambda platform lines',
    `  (${ASSUMPTIONS.lambdaPlatformBytes} B per invocation), the API Gateway access log line (${ASSUMPTIONS.accessLogBytes} B) and 26 B per log event are assumptions.`,
    '  On AWS the processor also emits one EMF blob per batch (not in local mode); it is within the platform-line allowance.',
    '- DynamoDB: the dedupe record is under 1 KB, so each write is 1 WRU. TTL deletes are free.',
    '- Bodies up to 1 MiB go inline in SQS (no S3 calls at 2 KB or 64 KB); larger ones add one S3 PUT + GET ($0.0054 per thousand).',
    '- Naive design: the same path with a KMS data key per message (Encrypt) and a KMS Decrypt per message, SQS receive + delete per message',
    '  (batch size 1, one processor invocation per message), and the body logged by the verifier and again by the processor.',
    '',
    '## Per million webhooks (without X-Ray)',
    '',
    '| item | hookgate 2 KB | naive 2 KB | hookgate 64 KB | naive 64 KB | hookgate 2 KB: how |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
  );
  for (let i = 0; i < (hook2?.items.length ?? 0); i++) {
    const row = [hook2, naive2, hook64, naive64].map((s) => usd(s?.items[i]?.dollars ?? Number.NaN));
    push(`| ${hook2?.items[i]?.item ?? ''} | ${row.join(' | ')} | ${hook2?.items[i]?.how ?? ''} |`);
  }
  push(`| **subtotal** | **${[hook2, naive2, hook64, naive64].map((s) => usd(s?.subtotal ?? Number.NaN)).join('** | **')}** | |`, '');
  push('What differs in the naive columns (2 KB / 64 KB):', '');
  for (const [naive, label] of [[naive2, '2 KB'], [naive64, '64 KB']] as const) {
    push(`- ${label}: ${(naive?.items ?? []).filter((it) => /KMS|SQS|Logs|processor/.test(it.item)).map((it) => `${it.item}: ${it.how}`).join('; ')}`);
  }
  push(
    '',
    '## X-Ray (active tracing on the API stage and the functions)',
    '',
    'The stack samples the API stage at 1 % with no reservoir; the functions follow the API\'s decision. X-Ray\'s default rule',
    '(1 request/s reservoir + 5 %) would trace every request of a quiet service. Traces beyond the free 100,000 per month at $5 per million:',
    '',
    '| webhooks per month | X-Ray per million, stack rule | default rule |',
    '| ---: | ---: | ---: |',
    ...model.xray.map((x) => `| ${(x.monthly / M).toFixed(0)} M | ${usd(x.perMillion)} | ${usd(xrayPerMillion(x.monthly, ASSUMPTIONS.defaultSampling))} |`),
    '',
    '## Stack logging beyond the measured path (estimates, not measured)',
    '',
    '| item | per million | how |',
    '| --- | ---: | --- |',
    ...model.stackLogExtras.map((x) => `| ${x.item} | ${usd(x.dollars)} | ${x.how} |`),
    '',
    '## Totals: hookgate, 2 KB, per million webhooks',
    '',
    '| monthly volume | measured path + X-Ray | + the stack\'s execution and WAF logs | target |',
    '| ---: | ---: | ---: | ---: |',
    ...model.xray.map((x) => `| ${(x.monthly / M).toFixed(0)} M | ${usd(headline(model, x.monthly, false))} | ${usd(headline(model, x.monthly, true))} | $6.50 |`),
    '',
    '## Verdict',
    '',
    ...verdict(model, results),
    '',
    '## Fixed monthly cost per environment',
    '',
    '| item | 1 source | 9 sources (config/prod.json) | how |',
    '| --- | ---: | ---: | --- |',
    ...model.fixed.map((f) => `| ${f.item}${f.vpcOnly === true ? ' (`vpc: true` only)' : ''} | ${usd(f.perMonth(1))} | ${usd(f.perMonth(9))} | ${f.how} |`),
    `| **total without VPC** | **${usd(model.fixed.filter((f) => f.vpcOnly !== true).reduce((s, f) => s + f.perMonth(1), 0))}** | **${usd(model.fixed.filter((f) => f.vpcOnly !== true).reduce((s, f) => s + f.perMonth(9), 0))}** | |`,
    `| **total with VPC** | **${usd(model.fixed.reduce((s, f) => s + f.perMonth(1), 0))}** | **${usd(model.fixed.reduce((s, f) => s + f.perMonth(9), 0))}** | |`,
    '',
  );
  return lines.join('\n');
}

function verdict(model: CostModel, results: BenchResults): string[] {
  const monthly = 10 * M;
  const total = headline(model, monthly, false);
  const withExtras = headline(model, monthly, true);
  const list = levers(model, results);
  const out = [
    `At 10 M webhooks a month, 2 KB, the measured path with X-Ray costs **${usd(total)} per million** (${usd(withExtras)} with the stack's execution and WAF logs):`,
    withExtras <= 6.5 ? `the $6.50 target is met with ${usd(6.5 - withExtras)} to spare.` : `**the $6.50 target is missed by ${usd(withExtras - 6.5)}**.`,
    `API Gateway REST ($3.50) and WAF ($0.60) alone are ${usd(4.1)}, 63 % of the target, before any of hookgate's own work.`,
    '',
    'What the stack\'s settings already save against AWS defaults, per million (10 M/month):',
    '',
    '| setting | saves | why |',
    '| --- | ---: | --- |',
    ...applied(results, monthly).map((l) => `| ${l.item} | ${usd(l.dollars)} | ${l.how} |`),
    '',
    'What further changes would save per million (10 M/month):',
    '',
    '| change | saves | why |',
    '| --- | ---: | --- |',
    ...list.map((l) => `| ${l.item} | ${usd(l.dollars)} | ${l.how} |`),
    '',
    `With all of them: ${usd(withExtras - list.reduce((sum, l) => sum + l.dollars, 0))} per million. Beyond that, only the front door moves the figure:`,
    'an HTTP API ($1.00/M) cannot carry a WAF web ACL, so it would need CloudFront + WAF in front, a design change, not a setting.',
  ];
  return out;
}

export function writeCostDoc(results: BenchResults, file = join(__dirname, '..', 'docs', 'cost.md'), append = ''): CostModel {
  const model = costModel(results);
  writeFileSync(file, `${renderCost(model, results)}${append}`);
  return model;
}

if (require.main === module) {
  const results = JSON.parse(readFileSync(join(__dirname, 'results.json'), 'utf8')) as BenchResults;
  writeCostDoc(results);
  console.log('docs/cost.md written');
}
