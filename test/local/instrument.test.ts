import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { MiddlewareStack } from '@smithy/types';
import { parseConfig } from '../../lib/config-file';
import { testSource } from '../config/sources';
import { createLocalKms } from '../../local/kms';
import { signRequest } from '../../lambda/signatures/sign';
import { type LocalApp, type LocalClient, startLocal } from '../../local/app';

/**
 * The optional hooks bench/ uses: `instrument` sees every AWS client the local app creates,
 * tagged with the side that uses it, before first use; `kms` is the KMS behind the envelopes.
 */

jest.setTimeout(60_000);

const SECRET = 'instrument-test-secret';
let app: LocalApp;
const kms = createLocalKms();
const calls: string[] = [];
const clients: { name: string; side: string }[] = [];

function count<I extends object, O extends object>(stack: MiddlewareStack<I, O>, side: string): void {
  stack.add(
    (next, context) => async (args) => {
      calls.push(`${side} ${context.commandName ?? ''}`);
      return next(args);
    },
    { step: 'initialize' },
  );
}

function record(client: LocalClient, side: 'verifier' | 'processor'): void {
  clients.push({ name: client.constructor.name, side });
  // Narrowed per class: each client's stack is typed with its own commands.
  if (client instanceof DynamoDBClient) count(client.middlewareStack, side);
  else if (client instanceof SQSClient) count(client.middlewareStack, side);
  else if (client instanceof S3Client) count(client.middlewareStack, side);
}

beforeAll(async () => {
  app = await startLocal({
    config: parseConfig({ sources: { github: { provider: 'github', secrets: [SECRET] } } }, 'test'),
    port: 0,
    waitTimeSeconds: 1,
    kms,
    instrument: record,
    logger: () => ({ info: () => undefined, warn: () => undefined, error: () => undefined }),
  });
});

afterAll(async () => {
  await app?.stop();
});

test('instrument sees the verifier and processor clients, and their calls go through it', async () => {
  // Prepare
  const body = Buffer.from('{"action":"opened"}');
  const url = `${app.url}/webhooks/github`;
  const signed = signRequest(testSource({ name: 'github', provider: 'github' }), SECRET, body, { now: Date.now(), url, eventId: 'instrument-1' });

  // Act
  const res = await fetch(signed.url, { method: 'POST', headers: { 'content-type': 'application/json', ...signed.headers }, body });
  for (let i = 0; i < 50 && !calls.includes('processor DeleteMessageBatchCommand'); i++) await new Promise((r) => setTimeout(r, 100));

  // Assess
  expect(res.status).toBeLessThan(300);
  expect(clients).toEqual(
    expect.arrayContaining([
      { name: 'SQSClient', side: 'processor' },
      { name: 'S3Client', side: 'processor' },
      { name: 'DynamoDBClient', side: 'verifier' },
      { name: 'SQSClient', side: 'verifier' },
      { name: 'S3Client', side: 'verifier' },
    ]),
  );
  expect(calls).toEqual(expect.arrayContaining(['verifier PutItemCommand', 'verifier SendMessageCommand', 'processor ReceiveMessageCommand', 'processor DeleteMessageBatchCommand']));
});

test('the kms option is the KMS the envelopes use', () => {
  // Assess: the accepted event above needed a data key from this KMS, and opening it a decrypt.
  expect(kms.calls.generateDataKey).toBeGreaterThanOrEqual(1);
  expect(kms.calls.decrypt).toBeGreaterThanOrEqual(1);
});
