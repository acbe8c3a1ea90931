import { ENV } from '../../lambda/runtime/env';

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
    process.env[ENV.deadLetterQueueUrl] = 'https://sqs.us-east-1.amazonaws.com/000000000000/hookgate-stripe-dlq';

    expect(typeof load().handler).toBe('function');
  });

  it('refuses to start without its key, naming the variable', () => {
    process.env[ENV.source] = JSON.stringify({ name: 'stripe', provider: 'stripe' });
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
});
