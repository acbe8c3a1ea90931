import { type ArchiveResult, benchArchive } from '../../bench/archive';

/**
 * The archive rig counts what the real writer and reader ask of S3 (fauxqs): a known number of
 * sealed events gives known events listed, and every byte the writer puts is counted. No call
 * count of the writer is assumed (it may write more than one object per batch); no timing is
 * asserted: speed belongs in `npm run bench`.
 */

const EVENTS = 40;
let result: ArchiveResult;

beforeAll(async () => {
  result = await benchArchive({ batches: [20, 5], events: EVENTS, objectsPerHour: 2, eventsPerObject: 3, rounds: 1 });
}, 60_000);

const total = (calls: Readonly<Record<string, number>>): number => Object.values(calls).reduce((a, b) => a + b, 0);

test('each batch size is a run over every event, in size order, and its objects are the ones the writer reported', () => {
  // Assess
  expect(result.writes.map((w) => w.batch)).toEqual([5, 20]);
  for (const write of result.writes) {
    expect(write.events).toBe(EVENTS);
    expect(write.objects).toBe(EVENTS / write.batch);
    expect(write.s3.calls.PutObject).toBeGreaterThanOrEqual(write.objects);
  }
});

test('the bytes put hold every sealed envelope; larger batches make fewer writes', () => {
  // Assess
  const [small, large] = result.writes;
  for (const write of result.writes) expect(write.s3.putBytes).toBeGreaterThan(write.events * write.ciphertextBytes);
  expect(small?.ciphertextBytes).toBeGreaterThan(2048);
  expect(total(large?.s3.calls ?? {})).toBeLessThan(total(small?.s3.calls ?? {}));
});

test('one hour among a day lists that hour\'s events with fewer requests than the day, and writes nothing', () => {
  // Assess
  expect(result.hour.listed).toBe(2 * 3);
  expect(result.day.listed).toBe(24 * 2 * 3);
  expect(result.hour.objects).toBe(2);
  expect(result.day.objects).toBe(48);
  expect(total(result.hour.s3.calls)).toBeLessThan(total(result.day.s3.calls));
  expect(result.hour.s3.putBytes + result.day.s3.putBytes).toBe(0);
  expect(result.hour.s3.calls.PutObject).toBeUndefined();
  expect(result.hour.s3.getBytes).toBeGreaterThan(0);
  expect(result.hour.ratio).toBeGreaterThan(0);
});
