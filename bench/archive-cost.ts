/**
 * What the archive adds per million 2 KB events: from the S3 calls and bytes the archive bench
 * counted (bench/archive.ts: the real writer over sealed records), the batches the template
 * gives the writers and the bucket's retention and encryption (bench/stack-facts.ts), and PRICES.
 */
import type { ArchiveResult, ArchiveWriteRun } from './archive';
import { DAYS_PER_MONTH, type LineItem, PRICES } from './cost';
import type { ArchiveFacts, StackFacts } from './stack-facts';

/** The most the archive may add per million 2 KB events (issue #11). */
export const ARCHIVE_TARGET_PER_M = 0.3;

/** What the archive model assumes: neither measured nor in the template. */
export const ARCHIVE_ASSUMPTIONS = {
  /**
   * A KMS CiphertextBlob of a 256-bit data key is 184 B; the local keyring's is 60 B (IV, key,
   * tag). Each sealed envelope, as stored, is this much larger on AWS than measured.
   */
  kmsBlobExtraBytes: 124,
  /** The processor waits this long for each S3 write request of a batch, billed at its memory (an upper bound: the writer sends a batch's objects in parallel). */
  s3WriteMs: 50,
} as const;

const M = 1_000_000;
const GB = 1024 ** 3;

/** S3 Standard's price of one request: PUT, COPY, POST and LIST at $0.005 per 1,000; GET and everything else at $0.0004. */
export function s3RequestDollars(command: string): number {
  return /^(Put|Copy|Post|List|CreateMultipartUpload|UploadPart|CompleteMultipartUpload)/.test(command) ? PRICES.s3PutPer1k / 1000 : PRICES.s3GetPer1k / 1000;
}

/** True for the requests billed at the PUT rate (the writer's writes). */
const isWrite = (command: string): boolean => s3RequestDollars(command) === PRICES.s3PutPer1k / 1000;

/** What one measured write run gives per event and per batch. */
export interface ArchiveRates {
  readonly batch: number;
  /** S3 requests per event, by command. */
  readonly requestsPerEvent: Readonly<Record<string, number>>;
  /** S3 requests per batch (one archiveBatch call), by command. */
  readonly requestsPerBatch: Readonly<Record<string, number>>;
  /** Bytes stored per event as measured (objects, index included) and as on AWS (KMS data key blob). */
  readonly storedBytes: number;
  readonly storedBytesOnAws: number;
}

export function archiveRates(run: ArchiveWriteRun): ArchiveRates {
  const batches = Math.ceil(run.events / run.batch);
  const map = (per: number): Record<string, number> => Object.fromEntries(Object.entries(run.s3.calls).map(([command, n]) => [command, n / per]));
  const storedBytes = run.s3.putBytes / run.events;
  return { batch: run.batch, requestsPerEvent: map(run.events), requestsPerBatch: map(batches), storedBytes, storedBytesOnAws: storedBytes + ARCHIVE_ASSUMPTIONS.kmsBlobExtraBytes };
}

/** One way of counting: per million 2 KB events, `batch` events per archiveBatch call. */
export interface ArchiveScenario {
  readonly name: string;
  readonly batch: number;
  readonly items: readonly LineItem[];
  readonly total: number;
}

const fmt = (n: number, digits = 3): string => Number(n.toFixed(digits)).toString();

/**
 * Per million events archived in batches of `batch`, from the per-batch requests and per-event
 * bytes of `rates` (the per-batch requests do not depend on the batch size, barring hour
 * boundaries: each archiveBatch writes its objects).
 */
export function archiveScenario(name: string, rates: ArchiveRates, batch: number, facts: StackFacts): ArchiveScenario {
  const a = ARCHIVE_ASSUMPTIONS;
  const archive = facts.archive;
  const perEvent = Object.entries(rates.requestsPerBatch).map(([command, n]) => [command, n / batch] as const);
  const requestDollars = perEvent.reduce((sum, [command, n]) => sum + n * M * s3RequestDollars(command), 0);
  const writesPerEvent = perEvent.filter(([command]) => isWrite(command)).reduce((sum, [, n]) => sum + n, 0);
  const months = archive.days / DAYS_PER_MONTH;
  const gbSecond = facts.architecture === 'arm64' ? PRICES.lambdaGbSecondArm64 : PRICES.lambdaGbSecondX86;
  const items: LineItem[] = [
    {
      item: 'S3 requests',
      dollars: requestDollars,
      how: `${perEvent.map(([command, n]) => `${command} ${fmt(n, 4)} per event (${fmt(n * batch, 2)} per batch of ${batch})`).join(', ')} x $${PRICES.s3PutPer1k} per 1,000 PUT/LIST, $${PRICES.s3GetPer1k} per 1,000 GET`,
    },
    {
      item: `S3 Standard storage, kept ${archive.days} days`,
      dollars: ((rates.storedBytesOnAws * M) / GB) * PRICES.s3StandardGbMonth * months,
      how: `${Math.round(rates.storedBytesOnAws)} B per event (${Math.round(rates.storedBytes)} B measured + ${a.kmsBlobExtraBytes} B KMS data key) = ${fmt((rates.storedBytesOnAws * M) / GB, 2)} GB x $${PRICES.s3StandardGbMonth} per GB-month x ${archive.days}/${fmt(DAYS_PER_MONTH, 1)} month`,
    },
    {
      item: 'Processor time waiting on the writes',
      dollars: writesPerEvent * M * (a.s3WriteMs / 1000) * (facts.processorMemoryMb / 1024) * gbSecond,
      how: `${fmt(writesPerEvent * M)} writes x ${a.s3WriteMs} ms (assumed) x ${facts.processorMemoryMb} MB ${facts.architecture}`,
    },
    {
      item: 'KMS',
      dollars: archive.bucketKey ? 0 : writesPerEvent * M * (PRICES.kmsPer10k / 10_000),
      how: archive.bucketKey
        ? 'bucket key: S3 asks KMS for a bucket-level key now and then, not per object (~0 per event); hookgate makes no KMS call to archive'
        : 'no bucket key: one GenerateDataKey per object written',
    },
    { item: `Expiration after ${archive.days} days`, dollars: 0, how: 'lifecycle expiration requests are free' },
  ];
  return { name, batch, items, total: items.reduce((sum, i) => sum + i.dollars, 0) };
}

/** Events per archive write at a steady `rate` (events/s): one poller of `pollers` fills its batch for `window` seconds, up to `batch`. */
export function eventsPerWrite(rate: number, archive: Pick<ArchiveFacts, 'processorBatch' | 'processorWindowSeconds' | 'processorConcurrency'>): number {
  const window = Math.max(archive.processorWindowSeconds, 0);
  // Without a window a poller takes what one receive returns: at most 10.
  const filled = window > 0 ? (rate * window) / archive.processorConcurrency : Math.min(10, rate / archive.processorConcurrency);
  return Math.max(1, Math.min(archive.processorBatch, filled));
}

/** What listing a range costs in requests, from a measured listing. */
export interface ListingCost {
  readonly requests: number;
  readonly dollars: number;
}

export function listingCost(calls: Readonly<Record<string, number>>): ListingCost {
  return {
    requests: Object.values(calls).reduce((a, b) => a + b, 0),
    dollars: Object.entries(calls).reduce((sum, [command, n]) => sum + n * s3RequestDollars(command), 0),
  };
}

export interface ArchiveCostModel {
  readonly facts: StackFacts;
  /** Every measured batch size, then the template's two writers. */
  readonly measured: readonly ArchiveScenario[];
  /** A source without destinations: its processor's batch (template). */
  readonly handlers: ArchiveScenario;
  /** A source with destinations: the fan-out's batch (config archive.batchSize). */
  readonly fanOut: ArchiveScenario;
  /** The rates of the largest measured batch, which the other figures scale from. */
  readonly rates: ArchiveRates;
}

/** The archive cost model. Throws when the results hold no write run. */
export function archiveCostModel(result: ArchiveResult, facts: StackFacts): ArchiveCostModel {
  const runs = [...result.writes].sort((a, b) => a.batch - b.batch);
  const largest = runs[runs.length - 1];
  if (largest === undefined) throw new Error('results.json: the archive bench has no write run');
  const rates = archiveRates(largest);
  const at = (name: string, batch: number): ArchiveScenario => {
    const run = runs.find((r) => r.batch === batch);
    return archiveScenario(name, run === undefined ? rates : archiveRates(run), batch, facts);
  };
  return {
    facts,
    measured: runs.map((run) => archiveScenario(`E = ${run.batch}`, archiveRates(run), run.batch, facts)),
    handlers: at(`source without destinations (batch ${facts.archive.processorBatch})`, facts.archive.processorBatch),
    fanOut: at(`source with destinations (fan-out batch ${facts.archive.fanOutBatch})`, facts.archive.fanOutBatch),
    rates,
  };
}
