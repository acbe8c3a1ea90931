import type { SQSRecord } from 'aws-lambda';
import type { NamedDestination } from '../../lambda/config/destinations';
import { createDeliveryFunction, DestinationConfigError, parseNamedDestination, type TargetClients } from '../../lambda/delivery/function';
import { queueUrlOfArn } from '../../lambda/delivery/queue';
import { ENV } from '../../lambda/runtime/env';
import { lambdaContext } from '../ingest/helpers';
import { captureOutput } from '../verifier/harness';
import { answer, scriptedTarget } from './harness';
import { TABLE } from './rig';

const saved = { ...process.env };

afterEach(() => {
  process.env = { ...saved };
});

const DESTINATION = { name: 'billing', source: 'stripe', type: 'http', url: 'https://billing.example/hooks', secretName: 'hookgate/dev/out/billing' };

function setEnvironment(): void {
  Object.assign(process.env, {
    [ENV.destination]: JSON.stringify(DESTINATION),
    [ENV.deliveryTable]: TABLE,
    [ENV.deliveryHistoryDays]: '7',
    [ENV.payloadBucket]: 'bucket',
    [ENV.keyArn]: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000',
    [ENV.deadLetterQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/000000000000/hookgate-stripe-billing-dlq',
    [ENV.signingSecretName]: 'hookgate/dev/out/billing',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
}

describe('delivery function entry', () => {
  it('builds the target from the destination the stack wrote, defaults applied, with the signing secret name', () => {
    setEnvironment();
    const built: { destination: NamedDestination; clients: TargetClients }[] = [];

    createDeliveryFunction((destination, clients) => {
      built.push({ destination, clients });
      return scriptedTarget(() => answer.ok());
    });

    expect(built).toHaveLength(1);
    expect(built[0]?.destination).toMatchObject({ ...DESTINATION, timeoutSeconds: 15, maxInFlight: 10, circuitBreaker: { failureThreshold: 5, openSeconds: 60 } });
    expect(built[0]?.clients).toMatchObject({ bucket: 'bucket', signingSecretName: 'hookgate/dev/out/billing' });
  });

  it.each([ENV.destination, ENV.deliveryTable, ENV.keyArn, ENV.deadLetterQueueUrl, ENV.payloadBucket])('refuses to start without %s, naming it', (name) => {
    setEnvironment();
    delete process.env[name];

    expect(() => createDeliveryFunction(() => scriptedTarget(() => answer.ok()))).toThrow(name);
  });

  it('refuses a destination that breaks the schema, naming the field and not its value', () => {
    const bad = JSON.stringify({ ...DESTINATION, timeoutSeconds: 999, url: 'ftp://secret-host.example/x' });

    const err = (() => {
      try {
        parseNamedDestination(bad);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();

    expect(err).toBeInstanceOf(DestinationConfigError);
    expect(err?.message).toContain('timeoutSeconds');
    expect(err?.message).not.toContain('secret-host');
    expect(() => parseNamedDestination(JSON.stringify({ ...DESTINATION, name: 'Bad Name' }))).toThrow('no valid name');
  });

  it('runs a batch with the clients of its environment, logging the request id and the destination', async () => {
    setEnvironment();
    // Nothing listens here: the move to the DLQ fails at once, and the record stays for a retry.
    Object.assign(process.env, { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    const handler = createDeliveryFunction(() => scriptedTarget(() => answer.ok()));
    const record = { messageId: 'm-1', receiptHandle: 'rh', body: 'not a hookgate message', attributes: { ApproximateReceiveCount: '1', ApproximateFirstReceiveTimestamp: String(Date.now()) }, messageAttributes: {}, eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:dest' } as unknown as SQSRecord; // the fields the engine reads
    const context = lambdaContext();

    const { lines, result } = await captureOutput(() => handler({ Records: [record] }, context));
    const logged = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.message === 'message not moved to the DLQ; it will be handled again');

    expect(logged).toMatchObject({ function_request_id: context.awsRequestId, destination: 'billing', source: 'stripe', reason: 'message_format', moveError: 'QueueError' });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });

  it('derives a queue URL from the ARN a record names', () => {
    expect(queueUrlOfArn('arn:aws:sqs:eu-west-1:123456789012:hookgate-stripe-billing')).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-stripe-billing');
    expect(queueUrlOfArn('arn:aws-cn:sqs:cn-north-1:123456789012:q')).toBe('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q');
  });
});
