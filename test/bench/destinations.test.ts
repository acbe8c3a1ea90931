import { type DestinationRig, type ForwardingRun, startDestinationRig, summarize } from '../../bench/destinations';

/**
 * The destinations rig counts what it drives: a known number of events through the fan-out and
 * the delivery engine (real emulators, a real local receiver) gives known calls. No timing is
 * asserted: speed belongs in `npm run bench`.
 */

const EVENTS = 20;
let rig: DestinationRig;
let one: ForwardingRun;
let three: ForwardingRun;

beforeAll(async () => {
  rig = await startDestinationRig();
  one = await rig.forward({ events: EVENTS, destinations: 1, concurrency: 2 });
  three = await rig.forward({ events: EVENTS, destinations: 3, concurrency: 2 });
}, 60_000);

afterAll(async () => {
  await rig.stop();
});

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

test.each([
  ['one destination', () => one, 1],
  ['three destinations', () => three, 3],
])('%s: every event reaches the receiver once per destination, and nothing is left on the queues', (_name, run, destinations) => {
  // Assess
  expect(run().delivered).toBe(EVENTS * destinations);
  expect(sum(run().delivery.records)).toBe(EVENTS * destinations);
  expect(sum(run().fanOut.records)).toBe(EVENTS);
  expect(run().left).toBe(0);
});

test.each([
  ['one destination', () => one, 1],
  ['three destinations', () => three, 3],
])('%s: one history write per attempt, one breaker read, receive and delete per delivery invocation, one send per destination per fan-out batch', (_name, run, destinations) => {
  // Prepare
  const { calls, delivery, fanOut } = run();
  const invocations = delivery.records.length;

  // Assess
  expect(calls['delivery DynamoDB PutItem']).toBe(EVENTS * destinations);
  expect(calls['delivery DynamoDB GetItem']).toBe(invocations);
  expect(calls['delivery poller SQS ReceiveMessage']).toBe(invocations);
  expect(calls['delivery poller SQS DeleteMessageBatch']).toBe(invocations);
  expect(calls['fan-out SQS SendMessageBatch']).toBe(fanOut.records.length * destinations);
  expect(calls['source poller SQS ReceiveMessage']).toBe(fanOut.records.length);
  // Nothing failed: no visibility change, no DLQ copy, no breaker write.
  expect(calls['delivery SQS ChangeMessageVisibility']).toBeUndefined();
  expect(calls['delivery SQS SendMessage']).toBeUndefined();
  expect(calls['delivery DynamoDB UpdateItem']).toBeUndefined();
});

test('the delivery functions open messages with cached data keys: a Decrypt per destination and poller at most', () => {
  // Assess: one data key sealed every event; each destination has its own cache.
  expect(three.kms.generateDataKey + three.kms.encrypt).toBe(0);
  expect(three.kms.decrypt).toBeGreaterThanOrEqual(3);
  expect(three.kms.decrypt).toBeLessThanOrEqual(3 * 2);
});

test('logs: one line per delivery, one EMF blob per delivery invocation naming Delivered and DeliveryLatency', () => {
  // Assess
  expect(three.logs.lines).toBe(EVENTS * 3);
  expect(three.logs.emfBlobs).toBe(three.delivery.records.length);
  expect([...three.logs.metricNames].sort()).toEqual(['Delivered', 'DeliveryLatency']);
});

test('the summary divides the calls by the source events and keeps the batch sizes', () => {
  // Act
  const summary = summarize(three);

  // Assess
  expect(summary.callsPerEvent['delivery DynamoDB PutItem']).toBe(3);
  expect(summary.delivery.batch).toBeCloseTo((EVENTS * 3) / three.delivery.records.length, 9);
  expect(summary.logLinesPerDelivery).toBe(1);
  expect(summary.bodyBytes).toBe(2048);
});

test('the baseline POSTs to the same receiver, which answers them all', async () => {
  // Prepare
  const before = rig.received();

  // Act
  const base = await rig.baseline(2, 0.2);

  // Assess
  expect(base.requests).toBeGreaterThan(0);
  expect(rig.received() - before).toBe(base.requests);
});
