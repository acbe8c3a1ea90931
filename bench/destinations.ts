/**
 * Destinations on the emulators: forwarding throughput against a bare HTTP POST loop, and the
 * AWS calls each delivered event costs. A source work queue (fauxqs) is filled with messages
 * sealed as the verifier seals them (lambda/ingest/enqueue.ts); the fan-out
 * (`createFanOutHandler`) and each destination's delivery engine (`createDeliveryHandler` +
 * `createHttpTarget`) are driven by local/poller.ts, as Lambda's event source mappings drive
 * them, against one local receiver answering 204. The baseline POSTs the same bodies to the same
 * receiver with the same concurrency (the destination's maxInFlight). Every figure is a ratio or
 * a count; nothing here asserts a time.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { InitializeHandlerArguments, InitializeHandlerOutput, MiddlewareStack } from '@smithy/types';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { destinationSchema, type NamedDestination } from '../lambda/config/destinations';
import { createCircuitStore } from '../lambda/delivery/circuit';
import { createDeliveryHandler, type DeliveryMetrics } from '../lambda/delivery/engine';
import { createHistoryStore } from '../lambda/delivery/history';
import { createHttpTarget, type HttpDestination } from '../lambda/delivery/http';
import { createDeliveryQueue } from '../lambda/delivery/queue';
import { enqueue } from '../lambda/ingest/enqueue';
import { createEnvelope, type Envelope } from '../lambda/ingest/envelope';
import { openMessage, type MessageMetadata } from '../lambda/ingest/message';
import type { ProcessorLogger } from '../lambda/processor/api';
import { createFanOutHandler, type DestinationQueue } from '../lambda/processor/fan-out';
import { createDeliveryTable, type Emulator, localClients, startDynamo, startFauxqs } from '../local/emulators';
import { createLocalKms, type KmsCallCounts, localKeyring } from '../local/kms';
import { type Poller, startPoller } from '../local/poller';
import { median } from './stats';

/** The source the rig forwards from (the one bench/e2e loads). */
export const RIG_SOURCE = 'github';
const TABLE = 'hookgate-delivery';
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
/** Long-poll wait of the rig's pollers: short, so stopping never waits long. */
const WAIT_SECONDS = 1;

/** What one forwarding run measured. */
export interface ForwardingRun {
  readonly destinations: number;
  /** Bytes of each event's body. */
  readonly bodyBytes: number;
  /** Source events forwarded. */
  readonly events: number;
  /** Requests the receiver answered (events x destinations when nothing was lost or repeated). */
  readonly delivered: number;
  /** From the pollers' start to the last delivery. */
  readonly seconds: number;
  /** `role service operation` -> calls; an empty ReceiveMessage counts as `ReceiveMessage (empty)`. */
  readonly calls: Record<string, number>;
  /** Bytes of the bodies of each fan-out SendMessageBatch. */
  readonly sendBatchBytes: readonly number[];
  /** Bytes of the bodies of each non-empty ReceiveMessage on the destination queues. */
  readonly receiveBytes: readonly number[];
  /** KMS calls of the delivery functions (opening the messages). */
  readonly kms: KmsCallCounts;
  /** Fan-out invocations: duration (ms) and records. */
  readonly fanOut: Invocations;
  /** Delivery invocations (all destinations): duration (ms) and records. */
  readonly delivery: Invocations;
  /** What the delivery functions wrote to their logs. */
  readonly logs: LogTally;
  /** Messages left on the destination queues and their DLQs after the run. */
  readonly left: number;
}

/** Durations and sizes of a function's invocations. */
export interface Invocations {
  readonly ms: number[];
  readonly records: number[];
}

/** Log lines and EMF blobs, counted as CloudWatch Logs would ingest them (JSON lines). */
export interface LogTally {
  lines: number;
  bytes: number;
  emfBlobs: number;
  emfBytes: number;
  /** Metric names seen in the EMF blobs (each a custom metric per destination). */
  readonly metricNames: Set<string>;
}

/** Options of a forwarding run. */
export interface ForwardingOptions {
  readonly events: number;
  readonly destinations: number;
  /** Delivery pollers per destination (the destination's maxInFlight). */
  readonly concurrency: number;
  /** Fan-out pollers on the source queue. @default 2 */
  readonly fanOutPollers?: number;
}

/** The rig: emulators, a receiver, and runs over fresh queues. */
export interface DestinationRig {
  readonly receiverUrl: string;
  /** Requests the receiver has answered so far. */
  received(): number;
  /** Seals `events` 2 KB-style bodies into a fresh source queue, then forwards them (see {@link ForwardingRun}). */
  forward(options: ForwardingOptions): Promise<ForwardingRun>;
  /** A bare POST loop: `concurrency` loops POST the rig's body for `seconds`; requests answered. */
  baseline(concurrency: number, seconds: number): Promise<{ readonly requests: number; readonly seconds: number }>;
  stop(): Promise<void>;
}

/** Counts the calls of one client under `role`, and the bytes the cost model needs. */
function countCalls<I extends object, O extends object>(stack: MiddlewareStack<I, O>, role: string, tally: CallTally): void {
  stack.add(
    (next, context) =>
      async (args: InitializeHandlerArguments<I>): Promise<InitializeHandlerOutput<O>> => {
        const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
        const key = `${role} ${(context.clientName ?? 'unknown').replace(/Client$/, '')} ${operation}`;
        const input = args.input as { Entries?: readonly { MessageBody?: string }[] };
        if (operation === 'SendMessageBatch') tally.sendBatchBytes.push((input.Entries ?? []).reduce((n, e) => n + Buffer.byteLength(e.MessageBody ?? ''), 0));
        const result = await next(args);
        const messages = (result.output as { Messages?: readonly { Body?: string }[] }).Messages;
        const empty = operation === 'ReceiveMessage' && (messages?.length ?? 0) === 0;
        if (operation === 'ReceiveMessage' && !empty && role !== 'source poller') tally.receiveBytes.push((messages ?? []).reduce((n, m) => n + Buffer.byteLength(m.Body ?? ''), 0));
        const counted = empty ? `${key} (empty)` : key;
        tally.calls.set(counted, (tally.calls.get(counted) ?? 0) + 1);
        return result;
      },
    { step: 'initialize', name: 'hookgateBenchDestinationCount' },
  );
}

interface CallTally {
  readonly calls: Map<string, number>;
  readonly sendBatchBytes: number[];
  readonly receiveBytes: number[];
}

/** A 2 KB JSON body (the bench's standard size). */
export function benchBody(bytes = 2048): Buffer {
  const head = '{"action":"opened","padding":"';
  return Buffer.from(`${head}${'x'.repeat(Math.max(0, bytes - head.length - 2))}"}`);
}

/** A logger counting JSON lines as Powertools would write them (the fields plus its standard keys). */
export function tallyLogger(tally: LogTally, persistent: Record<string, string>): ProcessorLogger {
  const line = (level: string) => (message: string, fields: object) => {
    const text = JSON.stringify({ level, message, timestamp: new Date().toISOString(), service: 'hookgate', ...persistent, function_request_id: '00000000-0000-0000-0000-000000000000', ...fields });
    tally.lines += 1;
    tally.bytes += Buffer.byteLength(text) + 1;
  };
  return { info: line('INFO'), warn: line('WARN'), error: line('ERROR') };
}

/**
 * Metrics counted as one EMF blob per invocation with the destination's dimensions, as
 * Powertools Metrics writes them (names with values, `_aws` with the metric definitions).
 */
export function tallyMetrics(tally: LogTally, dimensions: Record<string, string>): DeliveryMetrics {
  let values: Record<string, number> = {};
  const add = (name: string, value: number): void => void (values[name] = (values[name] ?? 0) + value);
  return {
    count: (name, value) => add(name, value),
    latency: (ms) => add('DeliveryLatency', ms),
    flush() {
      const names = Object.keys(values);
      if (names.length === 0) return;
      const blob = {
        _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: 'Hookgate/prod', Dimensions: [Object.keys(dimensions)], Metrics: names.map((Name) => ({ Name, Unit: 'Count' })) }] },
        ...dimensions,
        ...values,
      };
      for (const name of names) tally.metricNames.add(name);
      tally.emfBlobs += 1;
      tally.emfBytes += Buffer.byteLength(JSON.stringify(blob)) + 1;
      values = {};
    },
  };
}

/** Wraps a handler to record each invocation's duration and size. */
function timed(handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>, into: Invocations): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return async (event, context) => {
    const started = performance.now();
    try {
      return await handler(event, context);
    } finally {
      into.ms.push(performance.now() - started);
      into.records.push(event.Records.length);
    }
  };
}

/** A receiver that reads each body and answers 204 (no verification: the baseline does none either). */
async function startCountingReceiver(): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      count += 1;
      res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One POST of `body` on a keep-alive agent; resolves with the status. */
function post(url: string, body: Buffer, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`destinations bench: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Starts the rig: dynalite with the delivery table, fauxqs, a receiver. */
export async function startDestinationRig(body: Buffer = benchBody()): Promise<DestinationRig> {
  const [dynamo, fauxqs] = (await Promise.all([startDynamo(), startFauxqs()])) as [Emulator, Emulator];
  const config = localClients({ dynamodb: dynamo.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint });
  const admin = { sqs: new SQSClient(config.sqs), dynamodb: new DynamoDBClient(config.dynamodb) };
  await createDeliveryTable(admin.dynamodb, TABLE);
  const receiver = await startCountingReceiver();
  const key = randomBytes(32);
  // The verifier's envelope (its own KMS calls are today's figure, not counted here).
  const sealer = createEnvelope(localKeyring(createLocalKms({ key })));
  let runs = 0;

  async function createQueue(name: string): Promise<{ url: string; arn: string }> {
    const url = (await admin.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '60' } }))).QueueUrl as string;
    const arn = (await admin.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn as string;
    return { url, arn };
  }

  async function depth(url: string): Promise<number> {
    const { Attributes } = await admin.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }

  async function fill(queueUrl: string, events: number, run: number): Promise<void> {
    const deps = { envelope: sealer, sqs: admin.sqs, s3: () => Promise.reject(new Error('2 KB bodies go inline')), queueUrl, bucket: 'none' };
    for (let start = 0; start < events; start += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, events - start) }, (_, i) => {
          const id = `r${run}-${start + i}`;
          const meta: MessageMetadata = { source: RIG_SOURCE, dedupeKey: `${RIG_SOURCE}:${id}`, eventId: id, eventType: 'push', receivedAt: new Date().toISOString(), typeSigned: true };
          return enqueue(meta, body, { 'content-type': 'application/json' }, deps);
        }),
      );
    }
  }

  async function forward(options: ForwardingOptions): Promise<ForwardingRun> {
    runs += 1;
    const run = runs;
    const tally: CallTally = { calls: new Map(), sendBatchBytes: [], receiveBytes: [] };
    const client = <C extends SQSClient | DynamoDBClient>(made: C, role: string): C => {
      countCalls(made.middlewareStack as MiddlewareStack<object, object>, role, tally);
      return made;
    };
    const source = await createQueue(`bench-source-${run}`);
    await fill(source.url, options.events, run);
    const kms = createLocalKms({ key });
    const logs: LogTally = { lines: 0, bytes: 0, emfBlobs: 0, emfBytes: 0, metricNames: new Set() };
    const fanOut: Invocations = { ms: [], records: [] };
    const delivery: Invocations = { ms: [], records: [] };
    const fanOutEnvelope = createEnvelope(localKeyring(createLocalKms({ key })));
    const sqs = { fanOut: client(new SQSClient(config.sqs), 'fan-out'), source: client(new SQSClient(config.sqs), 'source poller'), poller: client(new SQSClient(config.sqs), 'delivery poller'), delivery: client(new SQSClient(config.sqs), 'delivery') };
    const dynamodb = client(new DynamoDBClient(config.dynamodb), 'delivery');
    const noS3 = (): Promise<never> => Promise.reject(new Error('2 KB bodies go inline'));
    const queues: { name: string; url: string; arn: string; dlq: string; destination: NamedDestination; envelope: Envelope }[] = [];
    for (let d = 0; d < options.destinations; d++) {
      const name = `dest${d}`;
      const queue = await createQueue(`bench-${run}-${name}`);
      const dlq = await createQueue(`bench-${run}-${name}-dlq`);
      const parsed = destinationSchema.parse({ type: 'http', url: `${receiver.url}/${name}`, secrets: [SECRET], maxInFlight: Math.max(2, options.concurrency) });
      // One envelope per destination: each destination is its own function, with its own data-key cache.
      queues.push({ name, ...queue, dlq: dlq.url, destination: { ...parsed, name, source: RIG_SOURCE }, envelope: createEnvelope(localKeyring(kms)) });
    }
    const silent = tallyLogger({ lines: 0, bytes: 0, emfBlobs: 0, emfBytes: 0, metricNames: new Set() }, {});
    const fanOutHandler = createFanOutHandler({
      destinations: queues.map((q): DestinationQueue => ({ name: q.name, queueUrl: q.url })),
      open: (record) => openMessage(record, { envelope: fanOutEnvelope, s3: noS3, bucket: 'none', source: RIG_SOURCE }),
      sqs: sqs.fanOut,
      logger: silent,
    });
    const pollers: Promise<Poller>[] = [];
    const before = receiver.count();
    const started = performance.now();
    for (let i = 0; i < (options.fanOutPollers ?? 2); i++) {
      pollers.push(startPoller({ sqs: sqs.source, queueUrl: source.url, handler: timed(fanOutHandler, fanOut), functionName: 'fan-out', batchSize: 10, waitTimeSeconds: WAIT_SECONDS, functionTimeoutMs: 60_000 }));
    }
    for (const q of queues) {
      const ref = { source: RIG_SOURCE, destination: q.name };
      const table = { client: dynamodb, tableName: TABLE };
      const handler = createDeliveryHandler({
        destination: q.destination,
        open: (record) => openMessage(record, { envelope: q.envelope, s3: noS3, bucket: 'none', source: RIG_SOURCE }),
        target: createHttpTarget({ destination: q.destination as HttpDestination, signingSecrets: () => Promise.resolve([SECRET]), allowLoopback: true, allowHttp: true }),
        circuit: createCircuitStore(table, ref),
        history: createHistoryStore({ ...table, days: 30 }),
        queue: createDeliveryQueue({ sqs: sqs.delivery, deadLetterQueueUrl: q.dlq, queueUrlOf: () => q.url }),
        metrics: tallyMetrics(logs, { service: 'hookgate', source: RIG_SOURCE, destination: q.name }),
        logger: tallyLogger(logs, { source: RIG_SOURCE, destination: q.name }),
      });
      for (let i = 0; i < options.concurrency; i++) {
        pollers.push(startPoller({ sqs: sqs.poller, queueUrl: q.url, handler: timed(handler, delivery), functionName: `delivery-${q.name}`, batchSize: q.destination.batchSize, waitTimeSeconds: WAIT_SECONDS, functionTimeoutMs: 60_000 }));
      }
    }
    const running = await Promise.all(pollers);
    const target = options.events * options.destinations;
    try {
      await until(() => receiver.count() - before >= target, 120_000 + options.events * 50, `delivering ${target} requests`);
    } finally {
      // Stopped before reading the counts: each poller finishes its batch and its delete.
      await Promise.all(running.map((p) => p.stop()));
    }
    const seconds = (performance.now() - started) / 1000;
    const left = (await Promise.all(queues.flatMap((q) => [depth(q.url), depth(q.dlq)]))).reduce((a, b) => a + b, 0);
    for (const c of [...Object.values(sqs), dynamodb]) c.destroy();
    return {
      destinations: options.destinations,
      bodyBytes: body.length,
      events: options.events,
      delivered: receiver.count() - before,
      seconds,
      calls: Object.fromEntries([...tally.calls.entries()].sort(([a], [b]) => a.localeCompare(b))),
      sendBatchBytes: tally.sendBatchBytes,
      receiveBytes: tally.receiveBytes,
      kms: { ...kms.calls },
      fanOut,
      delivery,
      logs,
      left,
    };
  }

  async function baseline(concurrency: number, seconds: number): Promise<{ requests: number; seconds: number }> {
    const agent = new Agent({ keepAlive: true });
    let requests = 0;
    const started = performance.now();
    const end = started + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const status = await post(`${receiver.url}/baseline`, body, agent);
          if (status !== 204) throw new Error(`destinations bench: the receiver answered ${status}`);
          requests += 1;
        }
      }),
    );
    agent.destroy();
    return { requests, seconds: (performance.now() - started) / 1000 };
  }

  return {
    receiverUrl: receiver.url,
    received: receiver.count,
    forward,
    baseline,
    async stop() {
      admin.sqs.destroy();
      admin.dynamodb.destroy();
      await receiver.close();
      await Promise.all([dynamo.stop(), fauxqs.stop()]);
    },
  };
}

/** Options of {@link benchDestinations}. */
export interface DestinationBenchOptions {
  /** Alternating rounds of forwarding (1 destination) then the baseline. @default 3 */
  readonly rounds: number;
  /** Events per forwarding round. @default 600 */
  readonly events: number;
  /** Seconds of each baseline segment. @default 3 */
  readonly baselineSeconds: number;
  /** Events of the serial runs (one poller each: durations as one Lambda environment sees them). @default 150 */
  readonly serialEvents: number;
}

export const DESTINATION_BENCH_DEFAULTS: DestinationBenchOptions = { rounds: 3, events: 600, baselineSeconds: 3, serialEvents: 150 };

/** The summary of a run for results.json (the lists reduced to what the cost model and the report use). */
export interface RunSummary {
  readonly destinations: number;
  readonly bodyBytes: number;
  readonly events: number;
  readonly delivered: number;
  readonly left: number;
  readonly perSecond: number;
  readonly calls: Record<string, number>;
  /** Calls per source event. */
  readonly callsPerEvent: Record<string, number>;
  readonly kms: KmsCallCounts;
  /** Mean bytes per fan-out SendMessageBatch, and per non-empty destination ReceiveMessage. */
  readonly sendBatchBytes: number;
  readonly receiveBytes: number;
  /** Mean records per invocation and ms per record. */
  readonly fanOut: { readonly batch: number; readonly msPerRecord: number };
  readonly delivery: { readonly batch: number; readonly msPerRecord: number };
  /** Per delivery (event x destination): log bytes and lines, EMF bytes; metric names seen. */
  readonly logBytesPerDelivery: number;
  readonly logLinesPerDelivery: number;
  readonly emfBytesPerDelivery: number;
  readonly emfBlobsPerDelivery: number;
  readonly metricNames: readonly string[];
}

const meanOf = (values: readonly number[]): number => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);
const perRecord = (inv: Invocations): number => inv.ms.reduce((a, b) => a + b, 0) / Math.max(1, inv.records.reduce((a, b) => a + b, 0));

/** Reduces a run to its summary. */
export function summarize(run: ForwardingRun): RunSummary {
  const deliveries = Math.max(1, run.delivered);
  return {
    destinations: run.destinations,
    bodyBytes: run.bodyBytes,
    events: run.events,
    delivered: run.delivered,
    left: run.left,
    perSecond: run.events / run.seconds,
    calls: run.calls,
    callsPerEvent: Object.fromEntries(Object.entries(run.calls).map(([k, v]) => [k, v / Math.max(1, run.events)])),
    kms: run.kms,
    sendBatchBytes: meanOf(run.sendBatchBytes),
    receiveBytes: meanOf(run.receiveBytes),
    fanOut: { batch: meanOf(run.fanOut.records), msPerRecord: perRecord(run.fanOut) },
    delivery: { batch: meanOf(run.delivery.records), msPerRecord: perRecord(run.delivery) },
    logBytesPerDelivery: run.logs.bytes / deliveries,
    logLinesPerDelivery: run.logs.lines / deliveries,
    emfBytesPerDelivery: run.logs.emfBytes / deliveries,
    emfBlobsPerDelivery: run.logs.emfBlobs / deliveries,
    metricNames: [...run.logs.metricNames].sort(),
  };
}

/** bench/results.json `destinations`. */
export interface DestinationsResult {
  /** When the phase ran (ISO 8601) and the 1-minute load average then: the figures' noise. */
  readonly ran: { readonly date: string; readonly loadAverage: number };
  readonly options: DestinationBenchOptions & { readonly concurrency: number; readonly bodyBytes: number };
  readonly rounds: readonly { readonly forwardingPerSecond: number; readonly baselinePerSecond: number; readonly ratio: number }[];
  /** Forwarding (1 destination) / bare POST loop, median of the rounds. */
  readonly ratio: number;
  /** Under load: 1 destination (the rounds' runs merged, the first) and 3 destinations. */
  readonly one: RunSummary;
  readonly three: RunSummary;
  /** One poller per function: durations per record as one Lambda environment sees them. */
  readonly serial: RunSummary;
}

/** `npm run bench`'s destinations phase. */
export async function benchDestinations(options: DestinationBenchOptions = DESTINATION_BENCH_DEFAULTS, progress: (line: string) => void = () => undefined): Promise<DestinationsResult> {
  const body = benchBody();
  const concurrency = destinationSchema.parse({ type: 'http', url: 'https://example.com', secrets: [SECRET] }).maxInFlight;
  const started = new Date().toISOString();
  const load = loadavg()[0] ?? 0;
  const rig = await startDestinationRig(body);
  try {
    // Warm-up: first connections, table, caches.
    await rig.forward({ events: 50, destinations: 1, concurrency });
    await rig.baseline(concurrency, 0.5);
    const rounds: DestinationsResult['rounds'][number][] = [];
    let one: RunSummary | undefined;
    for (let i = 0; i < options.rounds; i++) {
      const forwardFirst = i % 2 === 0;
      let base = { requests: 0, seconds: 1 };
      if (!forwardFirst) base = await rig.baseline(concurrency, options.baselineSeconds);
      const run = summarize(await rig.forward({ events: options.events, destinations: 1, concurrency }));
      if (forwardFirst) base = await rig.baseline(concurrency, options.baselineSeconds);
      one ??= run;
      const baselinePerSecond = base.requests / base.seconds;
      rounds.push({ forwardingPerSecond: run.perSecond, baselinePerSecond, ratio: run.perSecond / baselinePerSecond });
      progress(`  round ${i + 1}: forwarding ${run.perSecond.toFixed(0)}/s, bare POST ${baselinePerSecond.toFixed(0)}/s`);
    }
    const three = summarize(await rig.forward({ events: options.events, destinations: 3, concurrency }));
    const serial = summarize(await rig.forward({ events: options.serialEvents, destinations: 1, concurrency: 1, fanOutPollers: 1 }));
    if (one === undefined) throw new Error('destinations bench: no rounds');
    return { ran: { date: started, loadAverage: load }, options: { ...options, concurrency, bodyBytes: body.length }, rounds, ratio: median(rounds.map((r) => r.ratio)), one, three, serial };
  } finally {
    await rig.stop();
  }
}
