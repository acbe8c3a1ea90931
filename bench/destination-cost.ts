/**
 * What destinations add to the cost per million webhooks: from the calls, batch sizes, durations
 * and log bytes the destinations bench measured (bench/destinations.ts), the delivery function's
 * facts read off a synthesized variant of the reference stack (bench/destination-facts.ts) and
 * PRICES. Per million source events, with one `http` destination and with three; the fixed
 * monthly cost per destination apart.
 */
import { ASSUMPTIONS, DAYS_PER_MONTH, type LineItem, PRICES } from './cost';
import type { DestinationFacts } from './destination-facts';
import type { DestinationsResult, RunSummary } from './destinations';
import type { StackFacts } from './stack-facts';

/** What the destinations model assumes: neither measured nor in the template. */
export const DESTINATION_ASSUMPTIONS = {
  /**
   * The receiver's answer time per attempt, ms, billed in the delivery function (attempts run one
   * at a time). The local receiver answers in about a millisecond; a real one over the internet does not.
   */
  receiverResponseMs: 100,
  /** Bytes on the wire per attempt beyond the body (request line and headers with the signature, response), through NAT. */
  wireOverheadBytes: 1000,
  /** The history record of an attempt stays under 1 KB: 1 WRU per write; the breaker read is strongly consistent, under 4 KB: 1 RRU. */
  historyItemKb: 1,
  /** The batch the delivery function gets when events trickle in: one message per invocation (the worst case). */
  trickleBatch: 1,
} as const;

/** The amount the issue allows one destination to add per million 2 KB events. */
export const DESTINATION_TARGET_PER_M = 1;

const M = 1_000_000;
const GB = 1024 ** 3;
const SQS_CHUNK = 64 * 1024;
const HOURS_PER_MONTH = 730;

/** One way of counting: per million source events with `destinations` destinations. */
export interface DestinationScenario {
  readonly name: string;
  readonly destinations: number;
  /** Messages per delivery invocation the scenario assumes. */
  readonly batch: number;
  readonly items: readonly LineItem[];
  readonly total: number;
}

/** A fixed monthly cost, per destination or once per environment. */
export interface FixedItem {
  readonly item: string;
  readonly perMonth: number;
  readonly per: 'destination' | 'environment';
  readonly how: string;
}

export interface DestinationCostModel {
  readonly facts: DestinationFacts;
  /** 1 and 3 destinations at the measured batch, then 1 and 3 when events trickle in (batch 1). */
  readonly scenarios: readonly DestinationScenario[];
  readonly fixed: readonly FixedItem[];
}

const chunks = (bytes: number): number => Math.max(1, Math.ceil(bytes / SQS_CHUNK));
const per = (summary: RunSummary, key: string): number => summary.callsPerEvent[key] ?? 0;

function gbSecondPrice(architecture: string): number {
  return architecture === 'arm64' ? PRICES.lambdaGbSecondArm64 : PRICES.lambdaGbSecondX86;
}

/** Dollars per GB written to a log group kept `days`. */
const logPerGb = (days: number): number => PRICES.logsIngestGb + PRICES.logsStoreGbMonth * (days / DAYS_PER_MONTH);

/**
 * Per million source events. `run` is the measured run with this many destinations (its calls per
 * event); `serial` gives the durations per record; `batch` overrides the measured batch sizes.
 */
export function destinationScenario(name: string, run: RunSummary, serial: RunSummary, facts: DestinationFacts, stack: StackFacts, batch?: number): DestinationScenario {
  const a = DESTINATION_ASSUMPTIONS;
  const n = run.destinations;
  const deliveryBatch = batch ?? run.delivery.batch;
  const fanOutBatch = batch ?? run.fanOut.batch;
  // A smaller batch: the per-batch requests scale by measured batch / assumed batch.
  const deliveryScale = run.delivery.batch / deliveryBatch;
  const fanOutScale = run.fanOut.batch / fanOutBatch;
  const messageBytes = run.receiveBytes / Math.max(1, run.delivery.batch);
  const sends = per(run, 'fan-out SQS SendMessageBatch') * fanOutScale;
  const sendChunks = chunks((run.sendBatchBytes / Math.max(1, run.fanOut.batch)) * fanOutBatch);
  const receives = per(run, 'delivery poller SQS ReceiveMessage') * deliveryScale;
  const deletes = per(run, 'delivery poller SQS DeleteMessageBatch') * deliveryScale;
  const receiveChunks = chunks(messageBytes * deliveryBatch);
  const invocations = (n / deliveryBatch) * M;
  const billedMs = Math.max(1, Math.ceil(deliveryBatch * (serial.delivery.msPerRecord + a.receiverResponseMs)));
  const fanOutInvocations = M / fanOutBatch;
  const fanOutBilled = Math.max(1, Math.ceil(fanOutBatch * serial.fanOut.msPerRecord));
  const writes = per(run, 'delivery DynamoDB PutItem') + per(run, 'delivery DynamoDB UpdateItem') + per(run, 'delivery DynamoDB DeleteItem');
  const reads = per(run, 'delivery DynamoDB GetItem') * deliveryScale;
  const kms = (run.kms.generateDataKey + run.kms.encrypt + run.kms.decrypt) / Math.max(1, run.events);
  const platform = facts.platformLogLines ? ASSUMPTIONS.lambdaPlatformBytes + ASSUMPTIONS.perLogEventBytes * ASSUMPTIONS.lambdaPlatformLines : 0;
  // EMF: one blob per invocation; its bytes per delivery scale with the batch.
  const emfPerDelivery = (run.emfBytesPerDelivery + ASSUMPTIONS.perLogEventBytes * run.emfBlobsPerDelivery) * (run.delivery.batch / deliveryBatch);
  // The rig logs at INFO; the deployed function may keep warnings and errors only (none in a healthy run).
  const lines = facts.infoLogLines ? run.logBytesPerDelivery + ASSUMPTIONS.perLogEventBytes * run.logLinesPerDelivery : 0;
  const logPerDelivery = lines + emfPerDelivery + platform / deliveryBatch;
  const natBytes = facts.natGateways > 0 ? n * (run.bodyBytes + a.wireOverheadBytes) : 0;
  const lambdaGbS = (count: number, ms: number, memoryMb: number, architecture: string): number => count * (ms / 1000) * (memoryMb / 1024) * gbSecondPrice(architecture);
  const items: LineItem[] = [
    {
      item: 'Fan-out: SQS SendMessageBatch',
      dollars: sends * sendChunks * PRICES.sqsPerM,
      how: `${sends.toFixed(2)} per event (one per destination per ${fanOutBatch.toFixed(0)} records) x ${sendChunks} x 64 KB`,
    },
    {
      item: 'Fan-out: processor duration',
      dollars: lambdaGbS(fanOutInvocations, fanOutBilled, stack.processorMemoryMb, stack.architecture),
      how: `${fanOutBilled} ms billed per ${fanOutBatch.toFixed(0)} records x ${stack.processorMemoryMb} MB (replaces the handlers' time, counted in full)`,
    },
    {
      item: 'Destination queues: receive + delete',
      dollars: (receives * receiveChunks + deletes) * PRICES.sqsPerM,
      how: `receive ${receives.toFixed(2)} x ${receiveChunks} x 64 KB + delete ${deletes.toFixed(2)} per event`,
    },
    { item: 'Delivery function requests', dollars: (invocations / M) * PRICES.lambdaPerM, how: `1 invocation per ${deliveryBatch.toFixed(0)} messages per destination` },
    {
      item: 'Delivery function duration',
      dollars: lambdaGbS(invocations, billedMs, facts.memoryMb, facts.architecture),
      how: `${billedMs} ms billed per invocation (${serial.delivery.msPerRecord.toFixed(1)} ms measured + ${a.receiverResponseMs} ms receiver, assumed, per message) x ${facts.memoryMb} MB ${facts.architecture}`,
    },
    { item: 'DynamoDB: history writes', dollars: writes * a.historyItemKb * PRICES.dynamoWruPerM, how: `${writes.toFixed(2)} WRU per event (one PutItem per attempt)` },
    { item: 'DynamoDB: breaker reads', dollars: reads * PRICES.dynamoRruPerM, how: `${reads.toFixed(2)} RRU per event (one consistent GetItem per invocation)` },
    { item: 'KMS (cached data keys)', dollars: (kms * M * PRICES.kmsPer10k) / 10_000, how: `${(kms * 1000).toFixed(2)} Decrypt per 1,000 events` },
    {
      item: 'CloudWatch Logs (delivery functions)',
      dollars: ((n * logPerDelivery * M) / GB) * logPerGb(facts.logRetentionDays),
      how: `${Math.round(logPerDelivery)} B per delivery (${facts.infoLogLines ? `${Math.round(run.logBytesPerDelivery)} B measured log line` : 'no INFO line (POWERTOOLS_LOG_LEVEL WARN)'}, EMF per invocation${facts.platformLogLines ? ', platform lines' : ''}), kept ${facts.logRetentionDays} days`,
    },
  ];
  if (facts.natGateways > 0) {
    items.push({ item: 'NAT data processing', dollars: ((natBytes * M) / GB) * PRICES.natGatewayGb, how: `~${Math.round(natBytes / n)} B per delivery (body + ${a.wireOverheadBytes} B, assumed)` });
  }
  return { name, destinations: n, batch: deliveryBatch, items, total: items.reduce((s, i) => s + i.dollars, 0) };
}

/** The fixed monthly costs destinations bring. */
export function destinationFixed(result: DestinationsResult, facts: DestinationFacts): FixedItem[] {
  const refreshes = (60 / ASSUMPTIONS.refreshMinutes) * HOURS_PER_MONTH;
  // Happy-path metrics, plus the fan-out's Forwarded with the destination dimension.
  const metrics = result.one.metricNames.length + 1;
  const idle = ASSUMPTIONS.idlePollersPerQueue * 3 * 60 * HOURS_PER_MONTH;
  const out: FixedItem[] = [
    { item: 'CloudWatch alarms', perMonth: facts.alarms * PRICES.alarmMonth, per: 'destination', how: `${facts.alarms} alarms of an http destination (template)` },
    {
      item: 'Custom metrics (EMF, destination dimension)',
      perMonth: metrics * PRICES.metricMonth,
      per: 'destination',
      how: `${metrics} names on the happy path (${[...result.one.metricNames, 'Forwarded'].join(', ')}); each failure kind adds one while it happens`,
    },
    {
      item: 'Signing secret (Secrets Manager)',
      perMonth: facts.secrets * (PRICES.secretMonth + (refreshes * PRICES.secretsPer10k) / 10_000),
      per: 'destination',
      how: `${facts.secrets} secret, re-read every ${ASSUMPTIONS.refreshMinutes} min per warm environment`,
    },
    { item: 'KMS requests of the data-key cache', perMonth: (refreshes * PRICES.kmsPer10k) / 10_000, per: 'destination', how: `Decrypt every ${ASSUMPTIONS.refreshMinutes} min per warm environment` },
    { item: 'SQS idle polling of the destination queue', perMonth: (idle * PRICES.sqsPerM) / M, per: 'destination', how: `~${ASSUMPTIONS.idlePollersPerQueue} long polls per 20 s` },
  ];
  if (facts.natGateways > 0) {
    out.push({ item: 'NAT gateway (internet destinations from the VPC)', perMonth: facts.natGateways * HOURS_PER_MONTH * PRICES.natGatewayHour, per: 'environment', how: `${facts.natGateways} gateway x 730 h (template, network.egress nat)` });
  }
  if (facts.extraInterfaceEndpoints > 0) {
    out.push({ item: 'Extra VPC interface endpoints', perMonth: facts.extraInterfaceEndpoints * HOURS_PER_MONTH * PRICES.vpcEndpointAzHour * 2, per: 'environment', how: `${facts.extraInterfaceEndpoints} endpoints x 2 AZs x 730 h` });
  }
  return out;
}

const dollarsOf = (scenario: DestinationScenario, item: string): number => scenario.items.find((i) => i.item === item)?.dollars ?? 0;

/**
 * What changes to the delivery path would save per million source events in `scenario` (not
 * applied: each is a change to lib/ or lambda/delivery/, named so it can be weighed).
 */
export function destinationLevers(scenario: DestinationScenario, run: RunSummary, serial: RunSummary, facts: DestinationFacts): LineItem[] {
  const a = DESTINATION_ASSUMPTIONS;
  const duration = dollarsOf(scenario, 'Delivery function duration');
  const logs = dollarsOf(scenario, 'CloudWatch Logs (delivery functions)');
  const b = scenario.batch;
  const sequential = Math.max(1, Math.ceil(b * (serial.delivery.msPerRecord + a.receiverResponseMs)));
  // Attempts of a batch in parallel: the invocation waits for the slowest receiver once, not once per message.
  const parallel = Math.max(1, Math.ceil(b * serial.delivery.msPerRecord + a.receiverResponseMs));
  const lineShare = !facts.infoLogLines ? 0 : (run.logBytesPerDelivery + ASSUMPTIONS.perLogEventBytes * run.logLinesPerDelivery) / Math.max(1, run.logBytesPerDelivery + ASSUMPTIONS.perLogEventBytes * run.logLinesPerDelivery + run.emfBytesPerDelivery * (run.delivery.batch / b));
  const smallest = 128;
  const levers: LineItem[] = [
    {
      item: `Delivery function memory ${smallest} MB instead of ${facts.memoryMb} MB (it mostly waits on the receiver)`,
      dollars: duration * Math.max(0, 1 - smallest / facts.memoryMb),
      how: 'duration is billed per MB; the CPU-bound part (open, sign) slows down in proportion',
    },
    {
      item: 'Attempts of a batch in parallel (a design change: up to maxInFlight x batchSize attempts in flight, or a lower maxInFlight)',
      dollars: duration * (1 - parallel / sequential),
      how: `${parallel} ms billed per invocation instead of ${sequential} ms`,
    },
    { item: 'No INFO line per delivered attempt (the history record and the Delivered metric say the same)', dollars: logs * lineShare, how: `${Math.round(run.logBytesPerDelivery)} B per delivery measured` },
    {
      item: 'History records failed attempts only (a success is the Delivered metric and the log line)',
      dollars: dollarsOf(scenario, 'DynamoDB: history writes'),
      how: 'replay tooling would no longer list successful attempts',
    },
  ];
  // A lever already pulled (no INFO lines) saves nothing more.
  return levers.filter((lever) => lever.dollars > 0);
}

/** The destinations cost model. */
export function destinationCostModel(result: DestinationsResult, facts: DestinationFacts, stack: StackFacts): DestinationCostModel {
  const trickle = DESTINATION_ASSUMPTIONS.trickleBatch;
  return {
    facts,
    scenarios: [
      destinationScenario('1 destination', result.one, result.serial, facts, stack),
      destinationScenario('3 destinations', result.three, result.serial, facts, stack),
      destinationScenario(`1 destination, batch ${trickle}`, result.one, result.serial, facts, stack, trickle),
      destinationScenario(`3 destinations, batch ${trickle}`, result.three, result.serial, facts, stack, trickle),
    ],
    fixed: destinationFixed(result, facts),
  };
}
