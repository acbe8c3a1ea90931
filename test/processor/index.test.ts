import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ENV } from '../../lambda/runtime/env';
import { lambdaContext } from '../ingest/helpers';
import { captureOutput } from '../verifier/harness';

describe('processor entry point for AWS', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  const load = (): { handler: unknown } => {
    let mod: { handler: unknown } | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module per environment
      mod = require('../../lambda/processor/index') as { handler: unknown };
    });
    return mod as { handler: unknown };
  };

  it('builds its handler from the environment the stack sets', () => {
    process.env[ENV.source] = JSON.stringify({ name: 'stripe', provider: 'stripe', secretName: 'hookgate/dev/stripe' });
    process.env[ENV.payloadBucket] = 'bucket';
    process.env[ENV.keyArn] = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';
    process.env[ENV.deadLetterQueueUrl] = 'https://sqs.us-east-1.amazonaws.com/000000000000/hookgate-stripe-dlq';

    expect(typeof load().handler).toBe('function');
  });

  it('writes the Lambda request id into the log lines of a batch', async () => {
    process.env[ENV.source] = JSON.stringify({ name: 'stripe', provider: 'stripe' });
    process.env[ENV.payloadBucket] = 'bucket';
    process.env[ENV.keyArn] = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';
    process.env[ENV.deadLetterQueueUrl] = 'https://sqs.us-east-1.amazonaws.com/000000000000/hookgate-stripe-dlq';
    // Nothing listens here: the move to the DLQ fails at once, and the record stays for a retry.
    Object.assign(process.env, { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
    const handler = load().handler as (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
    // Not a hookgate message: it can never open, and the failure is logged.
    const record = { messageId: 'm-1', body: 'x', attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {} } as unknown as SQSRecord; // only the fields the processor reads
    const context = lambdaContext();

    const { lines } = await captureOutput(() => handler({ Records: [record] }, context).catch(() => undefined));
    const logged = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => String(line.message).startsWith('message can never open'));

    expect(logged).toMatchObject({ function_request_id: context.awsRequestId, messageId: 'm-1', error: 'MessageFormatError', moveError: 'QueueError' });
  });

  it('refuses to start without its key, naming the variable', () => {
    process.env[ENV.source] = JSON.stringify({ name: 'stripe', provider: 'stripe', secretName: 'hookgate/dev/stripe' });
    process.env[ENV.payloadBucket] = 'bucket';
    delete process.env[ENV.keyArn];

    expect(load).toThrow(ENV.keyArn);
  });

  it('refuses to start without the DLQ it moves unreadable records to, naming the variable', () => {
    process.env[ENV.source] = JSON.stringify({ name: 'stripe', provider: 'stripe' });
    process.env[ENV.payloadBucket] = 'bucket';
    process.env[ENV.keyArn] = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';
    delete process.env[ENV.deadLetterQueueUrl];

    expect(load).toThrow(ENV.deadLetterQueueUrl);
  });

  it('refuses to start with a source that has no valid name', () => {
    process.env[ENV.source] = JSON.stringify({ name: 'Not A Path Segment', provider: 'stripe', secretName: 'hookgate/dev/stripe' });
    process.env[ENV.payloadBucket] = 'bucket';
    process.env[ENV.keyArn] = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';
    process.env[ENV.deadLetterQueueUrl] = 'https://sqs.us-east-1.amazonaws.com/000000000000/hookgate-stripe-dlq';

    expect(load).toThrow(/the source has no valid name: the source name is its URL path segment/);
  });
});
