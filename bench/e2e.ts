/**
 * Local end-to-end throughput and latency, the AWS calls behind each accepted event, and the
 * floor: the same DynamoDB and SQS calls made directly against the same emulators at the same
 * concurrency, without HTTP, verification or encryption. e2e / floor is the figure that means
 * something on a shared machine; absolute rates depend on the machine. The processors drain the
 * queue in the same process during the e2e segments: on a laptop, as on `npm start`, they share it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { namedSource } from '../lambda/config/schema';
import { parseConfig } from '../lib/config-file';
import { createLocalKms, type KmsCallCounts } from '../local/kms';
import { signRequest } from '../lambda/signatures/sign';
import { type LocalApp, startLocal } from '../local/app';
import { localClients } from '../local/emulators';
import { type CallLog, callCounts, createCallLog, instrumenter, type SentShape } from './calls';
import { eventBody, type LoadResult, type LoadSpec } from './load';

const SECRET = 'bench-github-secret';
const SOURCE = namedSource({ name: 'github', provider: 'github', secrets: [SECRET] });
const QUEUE = `hookgate-${SOURCE.name}`;

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

export const E2E_DEFAULTS: E2eOptions = { bodyBytes: 2 * 1024, connections: 10, warmupSeconds: 2, serialSeconds: 3, largeBodyBytes: 64 * 1024, loadSeconds: 15, floorSeconds: 15, rounds: 3 };

/** Bytes written to stdout (what CloudWatch Logs would ingest) by kind of line. */
export interface LogBytes {
  verifierLog: number;
  verifierLines: number;
  verifierEmf: number;
  verifierEmfLines: number;
  processorLog: number;
  processorLines: number;
  other: number;
  otherLines: number;
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
  readonly sendBytes: Stats;
  readonly log: LogBytes;
  /** Log bytes per accepted event, by kind. */
  readonly logPerEvent: { readonly verifierLog: number; readonly verifierEmf: number; readonly processorLog: number };
}

export interface Stats {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
}

function stats(values: readonly number[]): Stats {
  const mean = values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
  return { count: values.length, mean, p50: percentile(values, 50), p99: percentile(values, 99) };
}

const billed = (values: readonly number[]): number => (values.length === 0 ? Number.NaN : values.reduce((a, v) => a + Math.max(1, Math.ceil(v)), 0) / values.length);

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

function emptyLog(): LogBytes {
  return { verifierLog: 0, verifierLines: 0, verifierEmf: 0, verifierEmfLines: 0, processorLog: 0, processorLines: 0, other: 0, otherLines: 0 };
}

/**
 * Captures stdout (Powertools Logger and EMF write there, as they do on Lambda) and classifies
 * each line, without printing it: thousands of log lines would drown the bench's own output.
 */
class LogCapture {
  bytes = emptyLog();
  verifierMs: number[] = [];
  private readonly original = process.stdout.write.bind(process.stdout);
  private pending = '';

  start(): void {
    const capture = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      this.pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      let newline = this.pending.indexOf('\n');
      while (newline >= 0) {
        this.classify(this.pending.slice(0, newline + 1));
        this.pending = this.pending.slice(newline + 1);
        newline = this.pending.indexOf('\n');
      }
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      callback?.();
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
  }

  stop(): void {
    process.stdout.write = this.original;
  }

  take(): { bytes: LogBytes; verifierMs: number[] } {
    const out = { bytes: this.bytes, verifierMs: this.verifierMs };
    this.bytes = emptyLog();
    this.verifierMs = [];
    return out;
  }

  private classify(line: string): void {
    const size = Buffer.byteLength(line);
    let parsed: { _aws?: unknown; message?: string; durationMs?: number } = {};
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      // Not JSON: counted as other.
    }
    if (parsed._aws !== undefined) {
      this.bytes.verifierEmf += size;
      this.bytes.verifierEmfLines += 1;
    } else if (parsed.message === 'webhook accepted') {
      this.bytes.verifierLog += size;
      this.bytes.verifierLines += 1;
      if (typeof parsed.durationMs === 'number') this.verifierMs.push(parsed.durationMs);
    } else if (parsed.message === 'webhook processed') {
      this.bytes.processorLog += size;
      this.bytes.processorLines += 1;
    } else {
      this.bytes.other += size;
      this.bytes.otherLines += 1;
    }
  }
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Runs bench/load.ts in a child process (see there why). */
function runLoadProcess(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'load.ts'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${String(code)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as LoadResult);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/** One signed event from this process: the cold-start event, before any load. */
async function sendOne(url: string, body: Buffer, id: string): Promise<number> {
  const signed = signRequest(SOURCE, SECRET, body, { now: Date.now(), url, eventId: id });
  const res = await fetch(signed.url, { method: 'POST', headers: { 'content-type': 'application/json', ...signed.headers }, body });
  await res.arrayBuffer();
  return res.status;
}

async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

const sendCount = (log: CallLog): number => log.calls.get('verifier SQS SendMessage') ?? 0;
const kmsSnapshot = (calls: KmsCallCounts): KmsCallCounts => ({ ...calls });
const kmsDelta = (after: KmsCallCounts, before: KmsCallCounts): KmsCallCounts => ({
  generateDataKey: after.generateDataKey - before.generateDataKey,
  encrypt: after.encrypt - before.encrypt,
  decrypt: after.decrypt - before.decrypt,
});

/**
 * The floor: per event, the dedupe writes the verifier makes (Powertools' conditional PutItem of
 * an in-progress record, then the UpdateItem to COMPLETED) and one SendMessage of a message of
 * the same size and attributes as the verifier sent, `connections` loops at once.
 */
interface Floor {
  readonly messageBytes: number;
  /** Runs the loops for `seconds`; CPU is this process's. */
  segment(seconds: number): Promise<{ events: number; seconds: number; cpuMs: number; latencies: number[]; errors: number }>;
  close(): Promise<void>;
}

async function createFloor(app: LocalApp, options: E2eOptions, sample: SentShape): Promise<Floor> {
  const clients = localClients(app.stack.endpoints);
  const dynamodb = new DynamoDBClient(clients.dynamodb);
  const sqs = new SQSClient(clients.sqs);
  // Its own queue: nobody consumes it, as in the e2e run nobody else consumes the source's queue.
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'hookgate-bench-floor', Attributes: { MaximumMessageSize: String(1024 * 1024) } }));
  const body = randomBytes(Math.ceil((sample.bodyBytes * 3) / 4)).toString('base64').slice(0, sample.bodyBytes);
  const table = app.stack.resources.tableName;
  let seq = 0;

  async function oneEvent(): Promise<void> {
    const id = `floor:${(seq += 1)}`;
    const nowS = Math.floor(Date.now() / 1000);
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: { id: { S: id }, expiration: { N: String(nowS + 7 * 86_400) }, status: { S: 'INPROGRESS' }, in_progress_expiration: { N: String(Date.now() + 10_000) } },
        ConditionExpression: 'attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)',
        ExpressionAttributeNames: { '#id': 'id', '#expiry': 'expiration', '#status': 'status', '#in_progress_expiry': 'in_progress_expiration' },
        ExpressionAttributeValues: { ':now': { N: String(nowS) }, ':now_in_millis': { N: String(Date.now()) }, ':inprogress': { S: 'INPROGRESS' } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, MessageAttributes: sample.attributes }));
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { id: { S: id } },
        UpdateExpression: 'SET #response_data = :response_data, #expiry = :expiry, #status = :status',
        ExpressionAttributeNames: { '#response_data': 'data', '#expiry': 'expiration', '#status': 'status' },
        ExpressionAttributeValues: { ':response_data': { S: '"enqueued"' }, ':expiry': { N: String(nowS + 7 * 86_400) }, ':status': { S: 'COMPLETED' } },
      }),
    );
  }

  const segment: Floor['segment'] = async (seconds) => {
    const until = performance.now() + seconds * 1000;
    const latencies: number[] = [];
    let errors = 0;
    const loop = async (): Promise<number> => {
      let count = 0;
      while (performance.now() < until) {
        const started = performance.now();
        try {
          await oneEvent();
          count += 1;
          latencies.push(performance.now() - started);
        } catch {
          errors += 1;
        }
      }
      return count;
    };
    const started = performance.now();
    const cpu = process.cpuUsage();
    const counts = await Promise.all(Array.from({ length: options.connections }, loop));
    const used = process.cpuUsage(cpu);
    return { events: counts.reduce((a, b) => a + b, 0), seconds: (performance.now() - started) / 1000, cpuMs: (used.user + used.system) / 1000, latencies, errors };
  };

  return {
    messageBytes: Buffer.byteLength(body),
    segment,
    async close() {
      await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
      dynamodb.destroy();
      sqs.destroy();
    },
  };
}

/** Several load results of one phase as one: sums, the median p50/p90, the worst p99 and max. */
function combine(parts: readonly LoadResult[]): LoadResult {
  const sum = (pick: (r: LoadResult) => number): number => parts.reduce((a, r) => a + pick(r), 0);
  return {
    requests: sum((r) => r.requests),
    ok2xx: sum((r) => r.ok2xx),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    seconds: sum((r) => r.seconds),
    p50: percentile(parts.map((r) => r.p50), 50),
    p90: percentile(parts.map((r) => r.p90), 50),
    p99: Math.max(...parts.map((r) => r.p99)),
    max: Math.max(...parts.map((r) => r.max)),
    cpuMs: sum((r) => r.cpuMs),
  };
}

async function queueDepth(app: LocalApp, url: string): Promise<number> {
  const sqs = new SQSClient(localClients(app.stack.endpoints).sqs);
  try {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  } finally {
    sqs.destroy();
  }
}

/** Runs the phases in order: cold event, warm-up, serial, load, drain, floor. */
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
      config: parseConfig({ sources: { [SOURCE.name]: { provider: SOURCE.provider, secrets: SOURCE.secrets } } }, 'local'),
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
      const { bytes, verifierMs } = capture.take();
      const events = sendCount(log);
      accepted += events;
      processed += log.processed;
      const calls = callCounts(log);
      const phase: PhaseSummary = {
        events,
        calls,
        callsPerEvent: Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, events === 0 ? 0 : v / events])),
        kms: kmsDelta(kmsSnapshot(kms.calls), kmsBefore),
        receiveBatch: stats(log.received),
        deleteBatch: stats(log.deleted),
        processed: log.processed,
        processorMs: stats(log.processorMs),
        verifierMs: stats(verifierMs),
        verifierBilledMs: billed(verifierMs),
        processorBilledMs: billed(log.processorMs),
        sendBytes: stats(log.sentBytes),
        log: bytes,
        logPerEvent: {
          verifierLog: bytes.verifierLog / Math.max(1, events),
          verifierEmf: bytes.verifierEmf / Math.max(1, events),
          processorLog: bytes.processorLog / Math.max(1, events),
        },
      };
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

    // e2e and floor alternate in rounds, so a change of load on the shared machine hits both
    // sides of a pair; the ratio is the median of the rounds' ratios (as bench/verify.ts does).
    const sample = log.sample ?? { bodyBytes: 4 * 1024, attributes: {} };
    const floorRunner = await createFloor(app, options, sample);
    const rounds: Round[] = [];
    const parts: LoadResult[] = [];
    const floorParts: Awaited<ReturnType<Floor['segment']>>[] = [];
    let loadCpuMs = 0;
    before = kmsSnapshot(kms.calls);
    try {
      await floorRunner.segment(Math.min(2, options.warmupSeconds));
      for (let round = 0; round < options.rounds; round++) {
        const e2eSegment = async (): Promise<LoadResult> => {
          const cpu = process.cpuUsage();
          const part = await runLoadProcess(spec(`load${round}`, options.connections, options.loadSeconds / options.rounds));
          // The processors finish this segment's messages before the floor runs.
          await waitFor(() => log.processed >= sendCount(log), 60_000);
          const used = process.cpuUsage(cpu);
          loadCpuMs += (used.user + used.system) / 1000;
          return part;
        };
        let part: LoadResult;
        let floorPart: Awaited<ReturnType<Floor['segment']>>;
        if (round % 2 === 0) {
          part = await e2eSegment();
          floorPart = await floorRunner.segment(options.floorSeconds / options.rounds);
        } else {
          floorPart = await floorRunner.segment(options.floorSeconds / options.rounds);
          part = await e2eSegment();
        }
        parts.push(part);
        floorParts.push(floorPart);
        const e2ePerSecond = part.ok2xx / part.seconds;
        const floorPerSecond = floorPart.events / floorPart.seconds;
        rounds.push({ e2ePerSecond, floorPerSecond, ratio: e2ePerSecond / floorPerSecond });
        progress(`  round ${round + 1}: e2e ${e2ePerSecond.toFixed(0)}/s, floor ${floorPerSecond.toFixed(0)}/s`);
      }
    } finally {
      await floorRunner.close();
    }
    const loadResult = combine(parts);
    const loadCalls = await collect(before);
    const load = {
      load: loadResult,
      calls: loadCalls,
      // As the client saw it: 2xx answers within autocannon's measured durations.
      perSecond: loadResult.ok2xx / loadResult.seconds,
      cpuMsPerEvent: loadCpuMs / Math.max(1, loadCalls.events),
      loadCpuMsPerEvent: loadResult.cpuMs / Math.max(1, loadResult.requests),
    };
    const floorEvents = floorParts.reduce((a, f) => a + f.events, 0);
    const floorSeconds = floorParts.reduce((a, f) => a + f.seconds, 0);
    const floorLatencies = floorParts.flatMap((f) => f.latencies);
    const floor: FloorResult = {
      events: floorEvents,
      cpuMsPerEvent: floorParts.reduce((a, f) => a + f.cpuMs, 0) / Math.max(1, floorEvents),
      seconds: floorSeconds,
      perSecond: floorEvents / floorSeconds,
      p50: percentile(floorLatencies, 50),
      p99: percentile(floorLatencies, 99),
      errors: floorParts.reduce((a, f) => a + f.errors, 0),
      messageBytes: floorRunner.messageBytes,
    };

    const queues = app.stack.resources.queues[SOURCE.name];
    const drained = {
      accepted,
      processed,
      queueLeft: queues === undefined ? -1 : await queueDepth(app, queues.queueUrl),
      dlq: queues === undefined ? -1 : await queueDepth(app, queues.dlqUrl),
    };
    return { options, cold: { ...cold, status: coldStatus, ms: coldMs }, serial, serialLarge, load, floor, drained, rounds, ratio: percentile(rounds.map((r) => r.ratio), 50) };
  } finally {
    capture.stop();
    await app?.stop();
  }
}
