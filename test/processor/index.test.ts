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
    process.env[ENV.source] = JSON.stringify({ name: 'stripe', provider: 'stripe', secretName: 'hookgate/dev/stripe' });
    process.env[ENV.payloadBucket] = 'bucket';
    process.env[ENV.keyArn] = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';

    expect(typeof load().handler).toBe('function');
  });

  it('refuses to start without its key, naming the variable', () => {
    process.env[ENV.source] = JSON.stringify({ name: 'stripe', provider: 'stripe', secretName: 'hookgate/dev/stripe' });
    process.env[ENV.payloadBucket] = 'bucket';
    delete process.env[ENV.keyArn];

    expect(load).toThrow(ENV.keyArn);
  });

  it('refuses to start with a source that has no valid name', () => {
    process.env[ENV.source] = JSON.stringify({ name: 'Not A Path Segment', provider: 'stripe', secretName: 'hookgate/dev/stripe' });
    process.env[ENV.payloadBucket] = 'bucket';
    process.env[ENV.keyArn] = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';

    expect(load).toThrow(/the source has no valid name: the source name is its URL path segment/);
  });
});
