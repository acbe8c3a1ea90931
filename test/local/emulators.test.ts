import { DynamoDBClient, PutItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClients, type LocalStack, startLocalStack } from '../../local/emulators';
import { testSource } from '../config/sources';

describe('local emulators', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ sources: [testSource({ name: 'github', provider: 'github', maxReceiveCount: 2 })], visibilityTimeoutSeconds: 1 });
  });
  afterAll(() => stack.stop());

  it('serve DynamoDB, SQS and S3 on loopback through the real SDK', async () => {
    const clients = localClients(stack.endpoints);
    const dynamodb = new DynamoDBClient(clients.dynamodb);
    const sqs = new SQSClient(clients.sqs);
    const s3 = new S3Client(clients.s3);
    const { tableName, bucket, queues } = stack.resources;

    await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: 'k' } } }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.github.queueUrl, MessageBody: 'm' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'github/x', Body: Buffer.from([0, 255]) }));

    expect(stack.endpoints.dynamodb).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.endpoints.sqs).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: 'k' } } }))).Item).toEqual({ id: { S: 'k' } });
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.github.queueUrl }));
    expect(received.Messages?.[0]?.Body).toBe('m');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queues.github.queueUrl, ReceiptHandle: received.Messages?.[0]?.ReceiptHandle }));
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'github/x' }));
    expect(Buffer.from(await object.Body!.transformToByteArray())).toEqual(Buffer.from([0, 255]));
    dynamodb.destroy();
    sqs.destroy();
    s3.destroy();
  });

  it('move a message to the DLQ after maxReceiveCount receives', async () => {
    const sqs = new SQSClient(localClients(stack.endpoints).sqs);
    const { queueUrl, dlqUrl } = stack.resources.queues.github;
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison' }));

    for (let i = 0; i < 4; i += 1) {
      await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2, VisibilityTimeout: 1 }));
    }
    const moved = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 2 }));

    expect(moved.Messages?.map((m) => m.Body)).toEqual(['poison']);
    sqs.destroy();
  });
});
