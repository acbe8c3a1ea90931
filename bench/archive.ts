/**
 * The archive on the emulators (fauxqs's S3, which serves ranged GETs as S3 does): what writing
 * costs per event and what a listing reads, measured through the archive's public functions
 * (`archiveBatch`, `listArchived`) with every S3 call counted by command name, so whatever the
 * writer and the reader do is what gets counted. Records are sealed by the verifier's envelope
 * (lambda/ingest/envelope.ts, local keyring) and shaped as Lambda hands them to a processor.
 * Every figure is a count, a byte total or a ratio against a baseline measured in the same run
 * (one ListObjectsV2 + one GET of a small object); nothing here asserts a time.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { InitializeHandlerArguments, InitializeHandlerOutput, MiddlewareStack } from '@smithy/types';
import type { SQSRecord } from 'aws-lambda';
import { hourPrefix } from '../lambda/archive/format';
import { type ArchivedEvent, listArchived } from '../lambda/archive/reader';
import { archiveBatch } from '../lambda/archive/writer';
import { createEnvelope, type Envelope } from '../lambda/ingest/envelope';
import { messageAttributes, type MessageMetadata } from '../lambda/ingest/message';
import { type Emulator, localClients, startFauxqs } from '../local/emulators';
import { createLocalKms, localKeyring } from '../local/kms';
import { toSqsRecord } from '../local/poller';
import { benchBody, RIG_SOURCE } from './destinations';
import { median } from './stats';

const HOUR = 3_600_000;
/** The day the listing rig fills (any UTC day: the layout is by hour). */
const DAY = Date.parse('2026-11-30T00:00:00.000Z');

/** S3 calls by command (`PutObject`, `GetObject`, `ListObjectsV2`, ...), and the bytes they moved. */
export interface S3Tally {
  readonly calls: Record<string, number>;
  /** Bytes of every PutObject body. */
  readonly putBytes: number;
  /** Bytes of every GetObject answer (ContentLength). */
  readonly getBytes: number;
}

/** One write run: `events` sealed events archived in batches of `batch`, as a processor receives them. */
export interface ArchiveWriteRun {
  readonly batch: number;
  readonly events: number;
  /** Bytes of each event's body before sealing. */
  readonly bodyBytes: number;
  /** Mean bytes of a sealed envelope (the ciphertext the archive stores). */
  readonly ciphertextBytes: number;
  /** Objects `archiveBatch` reported. */
  readonly objects: number;
  /** What the writer asked of S3 (bytes put: everything stored, index objects included). */
  readonly s3: S3Tally;
}

/** One listing: what `listArchived` read for a range, and its latency against the baseline. */
export interface ArchiveListing {
  readonly label: string;
  /** Archive objects in the range's hours. */
  readonly objects: number;
  /** Events it listed. */
  readonly listed: number;
  /** What one listing asked of S3. */
  readonly s3: S3Tally;
  /** Median wall time of the listing, ms (this machine, against the emulator: read the ratio). */
  readonly medianMs: number;
  /** Median over the rounds of listing time / baseline time of the same round. */
  readonly ratio: number;
}

/** bench/results.json `archive`. */
export interface ArchiveResult {
  readonly ran: { readonly date: string; readonly loadAverage: number };
  readonly options: Required<ArchiveBenchOptions>;
  readonly writes: readonly ArchiveWriteRun[];
  /** One ListObjectsV2 of an hour prefix + one GET of a small object: median ms over the rounds. */
  readonly baselineMs: number;
  /** One hour among a day of events. */
  readonly hour: ArchiveListing;
  /** The whole day. */
  readonly day: ArchiveListing;
  /** Median over the rounds of day time / hour time. */
  readonly dayOverHour: number;
}

/** What to measure. */
export interface ArchiveBenchOptions {
  /** Batch sizes of the write runs (events per `archiveBatch` call). @default [1, 10, 25, 100] */
  readonly batches?: readonly number[];
  /** Events per write run. @default 1000 */
  readonly events?: number;
  /** Bytes of each body. @default 2048 */
  readonly bodyBytes?: number;
  /** The listing rig's day: objects per hour and events per object (24 x 4 x 25 = 2,400 events in 96 objects). @default 4 */
  readonly objectsPerHour?: number;
  /** @default 25 */
  readonly eventsPerObject?: number;
  /** Timed rounds of baseline, hour and day (after one warm-up round). @default 9 */
  readonly rounds?: number;
}

const DEFAULTS: Required<ArchiveBenchOptions> = { batches: [1, 10, 25, 100], events: 1000, bodyBytes: 2048, objectsPerHour: 4, eventsPerObject: 25, rounds: 9 };

/** A live tally of an S3 client's calls; `take` returns it and starts a new one. */
interface Counter {
  take(): S3Tally;
}

/** Counts each `send` of the client (initialize step: once per call, as billed barring retries) by command name. */
export function countS3(s3: S3Client): Counter {
  let calls = new Map<string, number>();
  let putBytes = 0;
  let getBytes = 0;
  (s3.middlewareStack as MiddlewareStack<object, object>).add(
    (next, context) =>
      async (args: InitializeHandlerArguments<object>): Promise<InitializeHandlerOutput<object>> => {
        const command = (context.commandName ?? 'unknown').replace(/Command$/, '');
        calls.set(command, (calls.get(command) ?? 0) + 1);
        const body = (args.input as { Body?: unknown }).Body;
        if (command === 'PutObject') putBytes += typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.byteLength : 0;
        const result = await next(args);
        if (command === 'GetObject') getBytes += Number((result.output as { ContentLength?: number }).ContentLength ?? 0);
        return result;
      },
    { step: 'initialize', name: 'benchCountS3' },
  );
  return {
    take() {
      const tally = { calls: Object.fromEntries([...calls].sort(([a], [b]) => a.localeCompare(b))), putBytes, getBytes };
      calls = new Map();
      putBytes = 0;
      getBytes = 0;
      return tally;
    },
  };
}

/** A record as the processor receives it: the body sealed as the verifier seals it, the verifier's attributes. */
async function sealedRecord(envelope: Envelope, body: Buffer, id: string, receivedAt: Date): Promise<{ record: SQSRecord; ciphertextBytes: number }> {
  const meta: MessageMetadata = { source: RIG_SOURCE, dedupeKey: `${RIG_SOURCE}:${id}`, eventId: id, eventType: 'push', receivedAt: receivedAt.toISOString(), typeSigned: true };
  const { source, dedupeKey, eventId, eventType, typeSigned } = meta;
  const ciphertext = await envelope.seal(body, { source, dedupeKey }, { eventId, eventType, receivedAt: meta.receivedAt, typeSigned }, { 'content-type': 'application/json' });
  const message = { MessageId: id, ReceiptHandle: `rh-${id}`, Body: ciphertext.toString('base64'), MessageAttributes: messageAttributes(meta, 'inline'), Attributes: { ApproximateReceiveCount: '1' } };
  return { record: toSqsRecord(message, `arn:aws:sqs:us-east-1:000000000000:hookgate-${RIG_SOURCE}`, 'us-east-1'), ciphertextBytes: ciphertext.length };
}

/** The archive rig: fauxqs's S3, a counted client, the verifier's envelope. */
interface Rig {
  readonly s3: S3Client;
  readonly counter: Counter;
  readonly envelope: Envelope;
  bucket(name: string): Promise<string>;
  stop(): Promise<void>;
}

async function startRig(): Promise<Rig> {
  const fauxqs: Emulator = await startFauxqs();
  const s3 = new S3Client(localClients({ dynamodb: '', sqs: fauxqs.endpoint, s3: fauxqs.endpoint }).s3);
  const counter = countS3(s3);
  return {
    s3,
    counter,
    envelope: createEnvelope(localKeyring(createLocalKms())),
    async bucket(name) {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      counter.take();
      return name;
    },
    async stop() {
      s3.destroy();
      await fauxqs.stop();
    },
  };
}

/** The sum of tallies. */
export function addTallies(tallies: readonly S3Tally[]): S3Tally {
  const calls: Record<string, number> = {};
  for (const tally of tallies) for (const [command, n] of Object.entries(tally.calls)) calls[command] = (calls[command] ?? 0) + n;
  return {
    calls: Object.fromEntries(Object.entries(calls).sort(([a], [b]) => a.localeCompare(b))),
    putBytes: tallies.reduce((sum, t) => sum + t.putBytes, 0),
    getBytes: tallies.reduce((sum, t) => sum + t.getBytes, 0),
  };
}

/** Archives `events` events in batches of `batch`, one `archiveBatch` per batch, all within one hour. */
async function writeRun(rig: Rig, batch: number, options: Required<ArchiveBenchOptions>): Promise<ArchiveWriteRun> {
  const bucket = await rig.bucket(`bench-archive-write-${batch}`);
  const body = benchBody(options.bodyBytes);
  const start = DAY + 10 * HOUR;
  const tallies: S3Tally[] = [];
  let objects = 0;
  let ciphertext = 0;
  for (let first = 0; first < options.events; first += batch) {
    const sealed = await Promise.all(
      Array.from({ length: Math.min(batch, options.events - first) }, (_, i) => sealedRecord(rig.envelope, body, `w${batch}-${first + i}`, new Date(start + first + i))),
    );
    ciphertext += sealed.reduce((sum, s) => sum + s.ciphertextBytes, 0);
    rig.counter.take();
    const result = await archiveBatch(
      sealed.map((s) => s.record),
      { s3: rig.s3, bucket, payloadBucket: 'none', source: RIG_SOURCE },
    );
    tallies.push(rig.counter.take());
    objects += result.objects.length;
  }
  return { batch, events: options.events, bodyBytes: options.bodyBytes, ciphertextBytes: ciphertext / options.events, objects, s3: addTallies(tallies) };
}

/** Fills a day: `objectsPerHour` batches an hour of `eventsPerObject` events each, spread over the hour. */
async function fillDay(rig: Rig, bucket: string, options: Required<ArchiveBenchOptions>): Promise<void> {
  const body = benchBody(options.bodyBytes);
  const slot = HOUR / options.objectsPerHour;
  for (let n = 0; n < 24 * options.objectsPerHour; n++) {
    const sealed = await Promise.all(
      Array.from({ length: options.eventsPerObject }, (_, i) => sealedRecord(rig.envelope, body, `d${n}-${i}`, new Date(DAY + n * slot + Math.floor((i * slot) / options.eventsPerObject)))),
    );
    await archiveBatch(
      sealed.map((s) => s.record),
      { s3: rig.s3, bucket, payloadBucket: 'none', source: RIG_SOURCE },
    );
  }
}

/** One timed run of a piece of work, and what it asked of S3. */
interface Timed<T> {
  readonly ms: number;
  readonly value: T;
  readonly s3: S3Tally;
}

/** Runs `work` once, timed. */
async function timed<T>(rig: Rig, work: () => Promise<T>): Promise<Timed<T>> {
  rig.counter.take();
  const start = performance.now();
  const value = await work();
  const ms = performance.now() - start;
  return { ms, value, s3: rig.counter.take() };
}

/** Baseline, hour and day listings, interleaved over the rounds (after a warm-up). */
async function listings(rig: Rig, options: Required<ArchiveBenchOptions>): Promise<Pick<ArchiveResult, 'baselineMs' | 'hour' | 'day' | 'dayOverHour'>> {
  const bucket = await rig.bucket('bench-archive-day');
  await fillDay(rig, bucket, options);
  const small = 'baseline/small-object';
  await rig.s3.send(new PutObjectCommand({ Bucket: bucket, Key: small, Body: Buffer.alloc(256, 1) }));
  const noon = new Date(DAY + 12 * HOUR);
  const store = { s3: rig.s3, bucket, source: RIG_SOURCE };
  const baseline = async (): Promise<void> => {
    await rig.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: hourPrefix(RIG_SOURCE, noon) }));
    const object = await rig.s3.send(new GetObjectCommand({ Bucket: bucket, Key: small }));
    await object.Body?.transformToByteArray();
  };
  const hour = (): Promise<ArchivedEvent[]> => listArchived({ ...store, since: noon, until: new Date(noon.getTime() + HOUR) });
  const day = (): Promise<ArchivedEvent[]> => listArchived({ ...store, since: new Date(DAY), until: new Date(DAY + 24 * HOUR) });
  const rounds: { base: number; hour: Timed<ArchivedEvent[]>; day: Timed<ArchivedEvent[]> }[] = [];
  for (let round = 0; round <= options.rounds; round++) {
    // The order turns each round, so neither side always runs right after the day's listing.
    const runs: Record<'base' | 'hour' | 'day', () => Promise<Timed<ArchivedEvent[]>>> = {
      base: async () => ({ ...(await timed(rig, baseline)), value: [] }),
      hour: () => timed(rig, hour),
      day: () => timed(rig, day),
    };
    const order = (['base', 'hour', 'day'] as const).map((_, i, all) => all[(i + round) % all.length] as keyof typeof runs);
    const got: Partial<Record<keyof typeof runs, Timed<ArchivedEvent[]>>> = {};
    for (const name of order) got[name] = await runs[name]();
    // Round 0 warms the connections and the JIT.
    if (round > 0 && got.base !== undefined && got.hour !== undefined && got.day !== undefined) rounds.push({ base: got.base.ms, hour: got.hour, day: got.day });
  }
  const last = rounds[rounds.length - 1];
  if (last === undefined) throw new Error('archive bench: no timed round');
  const listing = (label: string, objects: number, pick: (r: (typeof rounds)[number]) => Timed<ArchivedEvent[]>): ArchiveListing => ({
    label,
    objects,
    listed: pick(last).value.length,
    s3: pick(last).s3,
    medianMs: median(rounds.map((r) => pick(r).ms)),
    ratio: median(rounds.map((r) => pick(r).ms / r.base)),
  });
  return {
    baselineMs: median(rounds.map((r) => r.base)),
    hour: listing('one hour among a day', options.objectsPerHour, (r) => r.hour),
    day: listing('the whole day', 24 * options.objectsPerHour, (r) => r.day),
    dayOverHour: median(rounds.map((r) => r.day.ms / r.hour.ms)),
  };
}

/** The archive bench (see the module comment). */
export async function benchArchive(overrides: ArchiveBenchOptions = {}, progress: (line: string) => void = () => undefined): Promise<ArchiveResult> {
  const options: Required<ArchiveBenchOptions> = { ...DEFAULTS, ...overrides };
  const rig = await startRig();
  try {
    const writes: ArchiveWriteRun[] = [];
    for (const batch of [...new Set(options.batches)].sort((a, b) => a - b)) {
      progress(`  archive: ${options.events} events in batches of ${batch}`);
      writes.push(await writeRun(rig, batch, options));
    }
    progress(`  archive: listing one hour and a day (${24 * options.objectsPerHour} objects, ${24 * options.objectsPerHour * options.eventsPerObject} events), ${options.rounds} rounds`);
    const listed = await listings(rig, options);
    return { ran: { date: new Date().toISOString(), loadAverage: loadavg()[0] ?? 0 }, options, writes, ...listed };
  } finally {
    await rig.stop();
  }
}
