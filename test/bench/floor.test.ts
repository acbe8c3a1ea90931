import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { MiddlewareStack } from '@smithy/types';
import { floorEvent } from '../../bench/e2e/floor';
import { createDedupe } from '../../lambda/ingest/dedupe-store';

/**
 * The floor goes through the verifier's own dedupe factory (Powertools' persistence layer), so
 * it makes the verifier's calls, whatever Powertools makes them. No emulator: the clients answer
 * at the first middleware step and record what they were asked.
 */

interface Call {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

const CLIENT_CONFIG = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

function answer<I extends object, O extends object>(stack: MiddlewareStack<I, O>, calls: Call[], respond: (command: string) => object): void {
  stack.add(
    (_next, context) => async (args) => {
      const command = context.commandName ?? '?';
      calls.push({ command, input: args.input as Record<string, unknown> }); // every command's input is a plain object
      return { output: { $metadata: {}, ...respond(command) } as O, response: {} }; // a canned answer of the command's shape
    },
    { step: 'initialize', name: 'answer' },
  );
}

function floor(respond: (command: string) => object = () => ({})): { calls: Call[]; run: (key: string) => Promise<void> } {
  const calls: Call[] = [];
  const dynamodb = new DynamoDBClient(CLIENT_CONFIG);
  const sqs = new SQSClient(CLIENT_CONFIG);
  answer(dynamodb.middlewareStack, calls, respond);
  answer(sqs.middlewareStack, calls, respond);
  const run = floorEvent({
    dedupe: createDedupe({ client: dynamodb, tableName: 'dedupe', ttlDays: 7 }),
    sqs,
    queueUrl: 'http://sqs.local/000000000000/floor',
    body: 'x'.repeat(100),
    attributes: { source: { DataType: 'String', StringValue: 'github' } },
  });
  return { calls, run };
}

test('a floor event makes the verifier\'s calls: the conditional put of the dedupe key, one send, the update to completed', async () => {
  // Prepare
  const { calls, run } = floor();

  // Act
  await run('floor:1');

  // Assess
  expect(calls.map((c) => c.command)).toEqual(['PutItemCommand', 'SendMessageCommand', 'UpdateItemCommand']);
  const [put, send, update] = calls;
  expect(put?.input).toMatchObject({ TableName: 'dedupe', Item: { id: { S: 'floor:1' }, status: { S: 'INPROGRESS' } } });
  expect(put?.input.ConditionExpression).toEqual(expect.any(String));
  expect(send?.input).toEqual({ QueueUrl: 'http://sqs.local/000000000000/floor', MessageBody: 'x'.repeat(100), MessageAttributes: { source: { DataType: 'String', StringValue: 'github' } } });
  expect(update?.input).toMatchObject({ TableName: 'dedupe', Key: { id: { S: 'floor:1' } } });
});

test('a floor event the dedupe does not run (the key is already done) is an error, not a counted event', async () => {
  // Prepare: the conditional put fails on a completed record.
  const { calls, run } = floor((command) => {
    if (command !== 'PutItemCommand') return {};
    throw new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      Item: { id: { S: 'floor:1' }, status: { S: 'COMPLETED' }, expiration: { N: String(Math.floor(Date.now() / 1000) + 3600) }, data: { S: '"enqueued"' } },
    });
  });

  // Act and assess
  await expect(run('floor:1')).rejects.toThrow('floor event floor:1: duplicate');
  expect(calls.map((c) => c.command)).toEqual(['PutItemCommand']);
});
