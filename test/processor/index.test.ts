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
    process.env[ENV.source] = JSON.stringify({ name: 'stripe', provider: 'stripe' });
    process.env[ENV.payloadBucket] = 'bucket';
    process.env[ENV.keyArn] = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';

    expect(typeof load().handler).toBe('function');
  });

  it('writes the Lambda request id into the log lines of a batch', async () => {
    process.env[ENV.source] = JSON.stringify({ name: 'stripe', provider: 'stripe' });
    process.env[ENV.payloadBucket] = 'bucket';
    process.env[ENV.keyArn] = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';
    const handler = load().handler as (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
    // Not a hookgate message: it fails to open without any AWS call, and the failure is logged.
    const record = { messageId: 'm-1', body: 'x', attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {} } as unknown as SQSRecord; // only the fields the processor reads
    const context = lambdaContext();

    const { lines } = await captureOutput(() => handler({ Records: [record] }, context).catch(() => undefined));
    const logged = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.message === 'message could not be opened');

    expect(logged).toMatchObject({ function_request_id: context.awsRequestId, messageId: 'm-1', error: 'MessageFormatError' });
  });

  it('refuses to start without its key, naming the variable', () => {
    process.env[ENV.source] = JSON.stringify({ name: 'stripe', provider: 'stripe' });
    process.env[ENV.payloadBucket] = 'bucket';
    delete process.env[ENV.keyArn];

    expect(load).toThrow(ENV.keyArn);
  });
});
