import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  circuitKey,
  CircuitStoreError,
  createCircuitStore,
  pauseDestination,
  readCircuit,
  resumeDestination,
} from '../../lambda/delivery/circuit';
import { type Emulator, localClients, startDynamo } from '../../local/emulators';
import { createDeliveryTable } from './harness';

const TABLE = 'hookgate-delivery';
let dynamo: Emulator;
let client: DynamoDBClient;
let table: { client: DynamoDBClient; tableName: string };

beforeAll(async () => {
  dynamo = await startDynamo();
  client = new DynamoDBClient(localClients({ dynamodb: dynamo.endpoint, sqs: '', s3: '' }).dynamodb);
  await createDeliveryTable(client, TABLE);
  table = { client, tableName: TABLE };
});
afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

let n = 0;
const freshRef = () => ({ source: 'stripe', destination: `dest-${(n += 1)}` });
const T0 = Date.parse('2026-12-01T10:00:00Z');
const breaker = { failureThreshold: 3, openSeconds: 60 };

describe('circuit breaker in DynamoDB', () => {
  it('keys the item by source and destination, apart from every dedupe key', () => {
    expect(circuitKey('stripe', 'billing')).toEqual({ pk: 'circuit#stripe/billing', sk: 'state' });
    expect(circuitKey('stripe', 'billing').pk.startsWith('stripe:')).toBe(false);
  });

  it('is closed with no failures before anything was written', async () => {
    expect(await readCircuit(table, freshRef())).toEqual({ state: 'closed', failures: 0 });
  });

  it('counts failures while closed and opens at the threshold for openSeconds', async () => {
    const store = createCircuitStore(table, freshRef());

    const first = await store.recordFailure({ nowMs: T0, ...breaker });
    const second = await store.recordFailure({ nowMs: T0, ...breaker });
    const third = await store.recordFailure({ nowMs: T0, ...breaker });

    expect([first.opened, second.opened, third.opened]).toEqual([false, false, true]);
    expect(second.state).toEqual({ state: 'closed', failures: 2 });
    expect(await store.read()).toEqual({ state: 'open', failures: 3, openUntil: T0 + 60_000 });
  });

  it('opens once when concurrent failures cross the threshold together', async () => {
    const ref = freshRef();
    const stores = Array.from({ length: 8 }, () => createCircuitStore(table, ref));

    const outcomes = await Promise.all(stores.map((store) => store.recordFailure({ nowMs: T0, ...breaker })));

    expect(outcomes.filter((o) => o.opened)).toHaveLength(1);
    expect((await readCircuit(table, ref)).state).toBe('open');
  });

  it('resets the count on a success after failures, so only consecutive failures open it', async () => {
    const store = createCircuitStore(table, freshRef());
    await store.recordFailure({ nowMs: T0, ...breaker });
    await store.recordFailure({ nowMs: T0, ...breaker });

    await store.recordSuccess();
    const after = await store.recordFailure({ nowMs: T0, ...breaker });

    expect(after).toEqual({ opened: false, state: { state: 'closed', failures: 1 } });
  });

  it('writes nothing for a success while there are no failures', async () => {
    const ref = freshRef();

    await createCircuitStore(table, ref).recordSuccess();
    const item = await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: circuitKey(ref.source, ref.destination).pk }, sk: { S: 'state' } } }));

    expect(item.Item).toBeUndefined();
  });

  it('lets exactly one of many concurrent claimants probe once the open time is up', async () => {
    const ref = freshRef();
    await createCircuitStore(table, ref).recordFailure({ nowMs: T0, failureThreshold: 1, openSeconds: 60 });
    const stores = Array.from({ length: 10 }, () => createCircuitStore(table, ref));

    const early = await stores[0]?.claimProbe({ nowMs: T0 + 59_000, leaseMs: 20_000 });
    const claims = await Promise.all(stores.map((store) => store.claimProbe({ nowMs: T0 + 61_000, leaseMs: 20_000 })));

    expect(early).toBeUndefined();
    expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
    expect(await readCircuit(table, ref)).toEqual({ state: 'half-open', failures: 1, probeUntil: T0 + 81_000 });
  });

  it('closes on a successful probe and opens again on a failed one', async () => {
    const ref = freshRef();
    const store = createCircuitStore(table, ref);
    await store.recordFailure({ nowMs: T0, failureThreshold: 1, openSeconds: 60 });

    const failing = await store.claimProbe({ nowMs: T0 + 60_000, leaseMs: 20_000 });
    const reopened = await store.endProbe(failing!, { healthy: false, nowMs: T0 + 61_000, openSeconds: 60 });
    const afterFailure = await store.read();
    const healing = await store.claimProbe({ nowMs: T0 + 121_000, leaseMs: 20_000 });
    const closed = await store.endProbe(healing!, { healthy: true, nowMs: T0 + 122_000, openSeconds: 60 });

    expect(reopened).toBe(true);
    expect(afterFailure).toEqual({ state: 'open', failures: 2, openUntil: T0 + 121_000 });
    expect(closed).toBe(true);
    expect(await store.read()).toEqual({ state: 'closed', failures: 0 });
  });

  it('frees a probe whose holder never ended it once its lease is over, and ignores the late holder', async () => {
    const store = createCircuitStore(table, freshRef());
    await store.recordFailure({ nowMs: T0, failureThreshold: 1, openSeconds: 60 });
    const lost = await store.claimProbe({ nowMs: T0 + 60_000, leaseMs: 20_000 });

    const during = await store.claimProbe({ nowMs: T0 + 70_000, leaseMs: 20_000 });
    const after = await store.claimProbe({ nowMs: T0 + 80_000, leaseMs: 20_000 });
    const late = await store.endProbe(lost!, { healthy: true, nowMs: T0 + 81_000, openSeconds: 60 });

    expect(during).toBeUndefined();
    expect(after).toBeDefined();
    expect(late).toBe(false);
    expect((await store.read()).state).toBe('half-open');
  });

  it('pauses whatever the state, counts nothing while paused, and resumes closed', async () => {
    const ref = freshRef();
    const store = createCircuitStore(table, ref);
    await store.recordFailure({ nowMs: T0, failureThreshold: 1, openSeconds: 60 });

    const beforePause = await pauseDestination(table, ref, { now: new Date(T0 + 1000) });
    const failureWhilePaused = await store.recordFailure({ nowMs: T0 + 2000, ...breaker });
    const probeWhilePaused = await store.claimProbe({ nowMs: T0 + 999_000, leaseMs: 20_000 });
    const paused = await readCircuit(table, ref);
    const beforeResume = await resumeDestination(table, ref, { now: new Date(T0 + 3000) });

    expect(beforePause.state).toBe('open');
    expect(failureWhilePaused.opened).toBe(false);
    expect(probeWhilePaused).toBeUndefined();
    expect(paused).toEqual({ state: 'paused', failures: 1, reason: 'manual', since: new Date(T0 + 1000).toISOString() });
    expect(beforeResume).toEqual(paused);
    expect(await readCircuit(table, ref)).toEqual({ state: 'closed', failures: 0 });
  });

  it('says when the table cannot be used, without its cause in the message', async () => {
    const store = createCircuitStore({ client, tableName: 'no-such-table' }, freshRef());

    const err = await store.read().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(CircuitStoreError);
    expect((err as Error).message).toBe('the circuit breaker state could not be used');
  });
});
