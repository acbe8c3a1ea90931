import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createDedupe } from '../../lambda/ingest/dedupe-store';
import { DedupeStoreError, QueueError } from '../../lambda/ingest/errors';
import { type Emulator, startDynamo } from '../../local/emulators';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { deferred, lambdaContext } from './helpers';

const TABLE = 'dedupe';
let dynamo: Emulator;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startDynamo();
  client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 });
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
});
afterAll(async () => {
  client.destroy();
  await dynamo.stop();
});

/** The dedupe TTL the tests configure (config: dedupeTtlDays). */
const TTL_DAYS = 7;

let n = 0;
const freshKey = (): string => `orders:event-${(n += 1)}`;
const record = async (key: string) => (await client.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: key } }, ConsistentRead: true }))).Item;

describe('dedupe on DynamoDB', () => {
  it('runs the work once and answers duplicate for the next copy', async () => {
    const dedupe = createDedupe({ client, tableName: TABLE, ttlDays: TTL_DAYS });
    const key = freshKey();
    let runs = 0;

    const first = await dedupe.once(key, lambdaContext(), async () => (runs += 1));
    const second = await dedupe.once(key, lambdaContext(), async () => (runs += 1));

    expect(first).toEqual({ kind: 'first', value: 1, recorded: true });
    expect(second).toEqual({ kind: 'duplicate' });
    expect(runs).toBe(1);
  });

  it('stores the dedupe key itself as the partition key, completed, with an expiration ttlDays ahead', async () => {
    const dedupe = createDedupe({ client, tableName: TABLE, ttlDays: TTL_DAYS });
    const key = freshKey();
    const before = Math.floor(Date.now() / 1000);

    await dedupe.once(key, lambdaContext(), async () => 'x');
    const item = await record(key);

    expect(item?.status?.S).toBe('COMPLETED');
    expect(Number(item?.expiration?.N)).toBeGreaterThanOrEqual(before + TTL_DAYS * 86_400);
    expect(Number(item?.expiration?.N)).toBeLessThan(before + TTL_DAYS * 86_400 + 60);
  });

  it('deletes the record when the work fails, so the retry runs', async () => {
    const dedupe = createDedupe({ client, tableName: TABLE, ttlDays: TTL_DAYS });
    const key = freshKey();

    await expect(dedupe.once(key, lambdaContext(), async () => Promise.reject(new QueueError()))).rejects.toBeInstanceOf(QueueError);
    const afterFailure = await record(key);
    const retry = await dedupe.once(key, lambdaContext(), async () => 'sent');

    expect(afterFailure).toBeUndefined();
    expect(retry).toEqual({ kind: 'first', value: 'sent', recorded: true });
  });

  it('answers in progress while another copy holds a live lease', async () => {
    const dedupe = createDedupe({ client, tableName: TABLE, ttlDays: TTL_DAYS });
    const key = freshKey();
    const hold = deferred();
    const started = deferred();

    const first = dedupe.once(key, lambdaContext(10_000), async () => {
      started.resolve();
      await hold.promise;
      return 'first';
    });
    await started.promise;
    const second = await dedupe.once(key, lambdaContext(), async () => 'second');
    hold.resolve();

    expect(second).toEqual({ kind: 'in_progress' });
    expect(await first).toEqual({ kind: 'first', value: 'first', recorded: true });
  });

  it('always writes a lease, even when the invocation reports no remaining time', async () => {
    const dedupe = createDedupe({ client, tableName: TABLE, ttlDays: TTL_DAYS });
    const key = freshKey();
    let lease: string | undefined;

    await dedupe.once(key, lambdaContext(0), async () => {
      lease = (await record(key))?.in_progress_expiration?.N;
    });

    expect(Number(lease)).toBeGreaterThan(Date.now() - 5000);
  });

  it('treats an expired record as absent even though TTL has not deleted it yet', async () => {
    const dedupe = createDedupe({ client, tableName: TABLE, ttlDays: TTL_DAYS });
    const key = freshKey();
    const past = Math.floor(Date.now() / 1000) - 60;
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { id: { S: key }, status: { S: 'COMPLETED' }, expiration: { N: String(past) }, data: { S: '"enqueued"' } } }));

    const outcome = await dedupe.once(key, lambdaContext(), async () => 'again');

    expect(outcome).toEqual({ kind: 'first', value: 'again', recorded: true });
  });

  it('takes over an in-progress record whose lease has expired (the first copy crashed)', async () => {
    const dedupe = createDedupe({ client, tableName: TABLE, ttlDays: TTL_DAYS });
    const key = freshKey();
    const now = Date.now();
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { id: { S: key }, status: { S: 'INPROGRESS' }, expiration: { N: String(Math.floor(now / 1000) + 3600) }, in_progress_expiration: { N: String(now - 1) } },
      }),
    );

    const outcome = await dedupe.once(key, lambdaContext(), async () => 'taken over');

    expect(outcome).toEqual({ kind: 'first', value: 'taken over', recorded: true });
  });

  it('reports an unreachable table as a DedupeStoreError without running the work', async () => {
    const down = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 });
    const dedupe = createDedupe({ client: down, tableName: TABLE, ttlDays: TTL_DAYS });
    let ran = false;

    await expect(dedupe.once(freshKey(), lambdaContext(), async () => (ran = true))).rejects.toBeInstanceOf(DedupeStoreError);
    expect(ran).toBe(false);
    down.destroy();
  });
});
