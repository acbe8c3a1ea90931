import { ENV } from '../../lambda/runtime/env';
import { verifierFromEnv } from '../../lambda/verifier/index';
import { lambdaContext } from '../ingest/helpers';
import { apiEvent, captureOutput, TOKEN_HEADER } from './harness';

describe('verifier entry point for AWS', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('writes the Lambda request id into every log line of an invocation', async () => {
    process.env[ENV.source] = JSON.stringify({ name: 'orders', provider: 'token', header: TOKEN_HEADER, secrets: ['the-token'] });
    process.env[ENV.table] = 'table';
    process.env[ENV.queueUrl] = 'https://sqs.us-east-1.amazonaws.com/000000000000/orders';
    process.env[ENV.payloadBucket] = 'bucket';
    process.env[ENV.keyArn] = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';
    process.env.AWS_REGION = 'us-east-1';
    const verify = verifierFromEnv();
    const first = lambdaContext();
    const second = lambdaContext();

    // A wrong token is refused before any AWS call, and logged.
    const { lines } = await captureOutput(async () => {
      await verify(apiEvent({ body: '{}', headers: { [TOKEN_HEADER]: 'wrong' } }), first);
      await verify(apiEvent({ body: '{}', headers: { [TOKEN_HEADER]: 'wrong' } }), second);
    });
    const logs = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.message === 'webhook rejected');

    expect(logs.map((line) => line.function_request_id)).toEqual([first.awsRequestId, second.awsRequestId]);
  });
});
