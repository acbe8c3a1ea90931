import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { attemptsOf, type AttemptRecord, createHistoryStore, historyKey, historyKeyPrefix, HistoryStoreError } from '../../lambda/delivery/history';
import { type Emulator, localClients, startDynamo } from '../../local/emulators';
import { createDeliveryTable } from './harness';

const TABLE = 'hookgate-delivery';
let dynamo: Emulator;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startDynamo();
  client = new DynamoDBClient(localClients({ dynamodb: dynamo.endpoint, sqs: '', s3: '' }).dynamodb);
  await createDeliveryTable(client, TABLE);
});
afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

const attempt = (fields: Partial<AttemptRecord>): AttemptRecord => ({
  dedupeKey: 'stripe:evt_1',
  source: 'stripe',
  destination: 'billing',
  attempt: 1,
  at: '2026-12-01T10:00:00.000Z',
  latencyMs: 12,
  verdict: 'retry',
  ...fields,
});

describe('delivery history', () => {
  it('keys an attempt by event, then destination, zero-padded attempt and time', () => {
    expect(historyKey('stripe:evt_1', 'billing', 7, '2026-12-01T10:00:00.000Z')).toEqual({ pk: 'stripe:evt_1', sk: 'billing#0007#2026-12-01T10:00:00.000Z' });
    expect(historyKey('stripe:evt_1', 'billing', 7, 'x').pk.startsWith(historyKeyPrefix('stripe'))).toBe(true);
  });

  it('gives back every attempt of an event in order, of one destination when asked', async () => {
    const store = createHistoryStore({ client, tableName: TABLE, days: 30 });
    const key = 'stripe:evt_order';
    const written = [
      attempt({ dedupeKey: key, attempt: 10, at: '2026-12-01T10:10:00.000Z', statusCode: 200, verdict: 'delivered' }),
      attempt({ dedupeKey: key, attempt: 2, at: '2026-12-01T10:01:00.000Z', statusCode: 503, errorClass: 'http-503' }),
      attempt({ dedupeKey: key, attempt: 1, at: '2026-12-01T10:00:00.000Z', errorClass: 'timeout' }),
      attempt({ dedupeKey: key, destination: 'ehr', attempt: 1, verdict: 'delivered', replayId: 'rp_1' }),
    ];

    for (const a of written) await store.record(a);
    const all = await store.attemptsOf(key);
    const billing = await attemptsOf({ client, tableName: TABLE }, key, 'billing');

    expect(all.map((a) => `${a.destination}/${a.attempt}`)).toEqual(['billing/1', 'billing/2', 'billing/10', 'ehr/1']);
    expect(billing).toEqual([written[2], written[1], written[0]]);
    expect(all[3]).toEqual(written[3]);
  });

  it('stores metadata only, with a TTL deliveryHistoryDays after the attempt', async () => {
    const store = createHistoryStore({ client, tableName: TABLE, days: 30 });
    await store.record(attempt({ dedupeKey: 'stripe:evt_ttl', statusCode: 503 }));

    const { Items } = await client.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'stripe:evt_ttl' } } }));

    expect(Object.keys(Items?.[0] ?? {}).sort()).toEqual(['at', 'attempt', 'destination', 'expiresAt', 'latencyMs', 'pk', 'sk', 'source', 'statusCode', 'verdict']);
    expect(Number(Items?.[0]?.expiresAt?.N)).toBe(Date.parse('2026-12-01T10:00:00.000Z') / 1000 + 30 * 86_400);
  });

  it('says when the table cannot be used', async () => {
    const store = createHistoryStore({ client, tableName: 'no-such-table', days: 30 });

    await expect(store.record(attempt({}))).rejects.toBeInstanceOf(HistoryStoreError);
    await expect(store.attemptsOf('stripe:evt_1')).rejects.toBeInstanceOf(HistoryStoreError);
  });
});
