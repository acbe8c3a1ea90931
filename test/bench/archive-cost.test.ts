import { Template } from 'aws-cdk-lib/assertions';
import type { ArchiveResult, ArchiveWriteRun } from '../../bench/archive';
import { ARCHIVE_ASSUMPTIONS, ARCHIVE_TARGET_PER_M, archiveCostModel, archiveScenario, archiveRates, eventsPerWrite, listingCost, s3RequestDollars } from '../../bench/archive-cost';
import { renderArchiveCost } from '../../bench/archive-doc';
import { DAYS_PER_MONTH, PRICES } from '../../bench/cost';
import { archiveTargets } from '../../bench/report';
import { buildReferenceStack, readStackFacts } from '../../bench/stack-facts';
import { stackFactsOf } from './destination-fixtures';

/**
 * The archive cost model: each line worked out by hand from round inputs (1,000 events of
 * 2,000 B stored each, one PutObject per batch), and the facts it prices read off the template.
 */

const M = 1_000_000;
const GB = 1024 ** 3;
/** Synthesis of the reference stack takes seconds, more on a loaded machine. */
const SYNTH_TIMEOUT_MS = 180_000;

function run(batch: number, calls: Record<string, number> = { PutObject: 1000 / batch }): ArchiveWriteRun {
  return { batch, events: 1000, bodyBytes: 2048, ciphertextBytes: 1900, objects: 1000 / batch, s3: { calls, putBytes: 2_000_000, getBytes: 0 } };
}

function result(writes: readonly ArchiveWriteRun[] = [run(10), run(100)]): ArchiveResult {
  const listing = (label: string, objects: number, listed: number, lists: number): ArchiveResult['hour'] => ({
    label,
    objects,
    listed,
    s3: { calls: { GetObject: objects, ListObjectsV2: lists }, putBytes: 0, getBytes: objects * 65_536 },
    medianMs: 10,
    ratio: 2,
  });
  return {
    ran: { date: '2026-12-01T12:00:00.000Z', loadAverage: 1 },
    options: { batches: writes.map((w) => w.batch), events: 1000, bodyBytes: 2048, objectsPerHour: 4, eventsPerObject: 25, rounds: 3 },
    writes,
    baselineMs: 5,
    hour: listing('one hour among a day', 4, 100, 1),
    day: listing('the whole day', 96, 2400, 24),
    dayOverHour: 20,
  };
}

const item = (items: readonly { item: string; dollars: number }[], prefix: string): number => items.find((i) => i.item.startsWith(prefix))?.dollars ?? Number.NaN;

describe('per million 2 KB events', () => {
  const facts = stackFactsOf();

  test('one PutObject per batch of 100 costs $0.05; storage is the bytes put plus the KMS blob, kept the bucket\'s days', () => {
    // Act
    const scenario = archiveScenario('E = 100', archiveRates(run(100)), 100, facts);

    // Assess
    expect(item(scenario.items, 'S3 requests')).toBeCloseTo(0.01 * M * (PRICES.s3PutPer1k / 1000), 9);
    expect(item(scenario.items, 'S3 requests')).toBeCloseTo(0.05, 9);
    const gb = ((2000 + ARCHIVE_ASSUMPTIONS.kmsBlobExtraBytes) * M) / GB;
    expect(item(scenario.items, 'S3 Standard storage')).toBeCloseTo(gb * PRICES.s3StandardGbMonth * (30 / DAYS_PER_MONTH), 9);
    expect(item(scenario.items, 'Processor time')).toBeCloseTo(0.01 * M * (ARCHIVE_ASSUMPTIONS.s3WriteMs / 1000) * (1024 / 1024) * PRICES.lambdaGbSecondArm64, 9);
    expect(item(scenario.items, 'KMS')).toBe(0);
    expect(scenario.total).toBeCloseTo(scenario.items.reduce((s, i) => s + i.dollars, 0), 9);
  });

  test('every call the writer makes is priced: a second PUT per batch (an index object) doubles the requests', () => {
    // Act
    const one = archiveScenario('', archiveRates(run(100)), 100, facts);
    const two = archiveScenario('', archiveRates(run(100, { PutObject: 20 })), 100, facts);

    // Assess
    expect(item(two.items, 'S3 requests')).toBeCloseTo(2 * item(one.items, 'S3 requests'), 9);
    expect(item(two.items, 'Processor time')).toBeCloseTo(2 * item(one.items, 'Processor time'), 9);
  });

  test('S3 prices PUT, COPY, POST and LIST at the higher rate, GET and HEAD at the lower', () => {
    // Assess
    for (const command of ['PutObject', 'CopyObject', 'ListObjectsV2', 'UploadPart']) expect(s3RequestDollars(command)).toBe(PRICES.s3PutPer1k / 1000);
    for (const command of ['GetObject', 'HeadObject']) expect(s3RequestDollars(command)).toBe(PRICES.s3GetPer1k / 1000);
    expect(listingCost({ ListObjectsV2: 1, GetObject: 4 })).toEqual({ requests: 5, dollars: (PRICES.s3PutPer1k + 4 * PRICES.s3GetPer1k) / 1000 });
  });

  test('without a bucket key, S3 calls KMS once per object written', () => {
    // Act
    const scenario = archiveScenario('', archiveRates(run(100)), 100, stackFactsOf({ archive: { ...facts.archive, bucketKey: false } }));

    // Assess
    expect(item(scenario.items, 'KMS')).toBeCloseTo(0.01 * M * (PRICES.kmsPer10k / 10_000), 9);
  });

  test('the two writers are priced at the template\'s batches, the target checked for each', () => {
    // Act
    const model = archiveCostModel(result(), stackFactsOf({ archive: { ...facts.archive, processorBatch: 10, fanOutBatch: 100 } }));
    const list = archiveTargets(model, result()).filter((t) => t.name.startsWith('the archive adds'));

    // Assess
    expect(model.handlers.batch).toBe(10);
    expect(model.fanOut.batch).toBe(100);
    expect(list.map((t) => t.met)).toEqual([model.handlers.total <= ARCHIVE_TARGET_PER_M, model.fanOut.total <= ARCHIVE_TARGET_PER_M]);
    expect(model.handlers.total).toBeGreaterThan(0.5);
    expect(model.fanOut.total).toBeLessThan(ARCHIVE_TARGET_PER_M);
  });
});

test('events per write: the window fills a poller\'s batch at the rate, up to the batch; without one, one receive', () => {
  // Assess
  const archive = { processorBatch: 100, processorWindowSeconds: 1, processorConcurrency: 5 };
  expect(eventsPerWrite(1000, archive)).toBe(100);
  expect(eventsPerWrite(100, archive)).toBe(20);
  expect(eventsPerWrite(1, archive)).toBe(1);
  expect(eventsPerWrite(100, { ...archive, processorWindowSeconds: 20 })).toBe(100);
  expect(eventsPerWrite(1000, { ...archive, processorWindowSeconds: 0 })).toBe(10);
});

test('the doc shows each measured batch, the target per writer and the listing counts', () => {
  // Act
  const text = renderArchiveCost(archiveCostModel(result(), stackFactsOf()), result()).join('\n');

  // Assess
  expect(text).toContain('| item | E = 10 | E = 100 |');
  expect(text).toContain('PutObject 0.01 per event (1 per batch of 100)');
  expect(text).toMatch(/source without destinations \(batch 100\) \| 100 \| 1 s \| \*\*\$0\.\d\d: met\*\*/);
  expect(text).toContain('| one hour among a day | 4 | 100 | 4 GetObject + 1 ListObjectsV2 | 256 KiB | 2.00x |');
});

test('the facts: the template gives a source without destinations the archive\'s batch and window, and the bucket its days and bucket key', () => {
  // Act
  const stack = buildReferenceStack();
  const facts = readStackFacts(stack, Template.fromStack(stack), 'config/prod.json');

  // Assess
  expect(facts.archive).toEqual({ processorBatch: 100, processorWindowSeconds: 1, processorConcurrency: 5, fanOutBatch: 100, fanOutWindowSeconds: 1, days: 30, bucketKey: true });
}, SYNTH_TIMEOUT_MS);

test('a listing target holds only when the hour lists its events and the day all of them', () => {
  // Act
  const met = archiveTargets(undefined, result());
  const missed = archiveTargets(undefined, { ...result(), hour: { ...result().hour, listed: 101 } });

  // Assess
  expect(met).toEqual([expect.objectContaining({ value: '100 / 2400', met: true })]);
  expect(missed[0]?.met).toBe(false);
});
