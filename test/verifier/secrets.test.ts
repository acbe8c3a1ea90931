import { SecretsError } from '../../lambda/ingest/errors';
import { checkedSecrets, SecretConfigurationError, secretsManagerSecrets } from '../../lambda/runtime/secrets';
import { handler, verifierFromEnv } from '../../lambda/verifier/index';
import { ENV } from '../../lambda/runtime/env';
import { testSource } from '../config/sources';
import { lambdaContext } from '../ingest/helpers';
import { apiEvent } from './harness';
import { stubbedClient } from './secrets-manager';

describe('secrets from Secrets Manager', () => {
  it('reads the named secret once and serves it from the cache within maxAge', async () => {
    const { client, calls } = stubbedClient(async () => '{"secrets":["new","old"]}');
    const load = secretsManagerSecrets(testSource({ name: 'orders', provider: 'token', header: 'x-token', secretName: 'hookgate/test/orders-cache' }), { client, maxAgeSeconds: 60 });

    const first = await load();
    const second = await load();

    expect(first).toEqual({ secrets: ['new', 'old'] });
    expect(second).toEqual(first);
    expect(calls()).toBe(1);
  });

  it('hands back one object per distinct value, so the verifier parses and checks a value once, not per request', async () => {
    let value = '{"secrets":["old"]}';
    const { client } = stubbedClient(async () => value);
    const load = secretsManagerSecrets(testSource({ name: 'orders', provider: 'token', header: 'x-token', secretName: 'hookgate/test/orders-same' }), { client, maxAgeSeconds: 0 });

    const first = await load();
    const again = await load();
    value = '{"secrets":["new","old"]}';
    const rotated = await load();

    expect(again).toBe(first);
    expect(rotated).not.toBe(first);
    expect(rotated).toEqual({ secrets: ['new', 'old'] });
  });

  it('re-reads a rotated secret on refresh, at most once per interval', async () => {
    let value = '{"secrets":["old"]}';
    const { client, calls } = stubbedClient(async () => value);
    let now = 1_000_000;
    const load = secretsManagerSecrets(
      testSource({ name: 'orders', provider: 'token', header: 'x-token', secretName: 'hookgate/test/orders-rotate' }),
      { client, refreshIntervalSeconds: 30, clock: () => now },
    );

    await load();
    value = '{"secrets":["new","old"]}';
    const cached = await load();
    const refreshed = await load.refresh?.();
    const tooSoon = await load.refresh?.();
    now += 31_000;
    const later = await load.refresh?.();

    expect(cached).toEqual({ secrets: ['old'] });
    expect(refreshed).toEqual({ secrets: ['new', 'old'] });
    expect(tooSoon).toBeUndefined();
    expect(later).toEqual({ secrets: ['new', 'old'] });
    expect(calls()).toBe(3);
  });

  it('reports an unavailable Secrets Manager as a SecretsError', async () => {
    const { client } = stubbedClient(async () => Promise.reject(Object.assign(new Error('down'), { name: 'InternalServiceError' })));
    const load = secretsManagerSecrets(testSource({ name: 'orders', provider: 'token', header: 'x-token', secretName: 'hookgate/test/orders-down' }), { client });

    await expect(load()).rejects.toBeInstanceOf(SecretsError);
  });
});

describe('the AWS entry point', () => {
  it('answers 503 without a stack trace when its environment is incomplete', async () => {
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);

    const response = await handler(apiEvent({ body: '{}' }), lambdaContext());
    spy.mockRestore();

    expect(response.statusCode).toBe(503);
    expect(response.body).toBe('{"error":"unavailable"}');
  });
});

describe('the AWS wiring', () => {
  it('builds a verifier from the variables the stack sets, without calling AWS', () => {
    const env = {
      [ENV.source]: JSON.stringify({ name: 'orders', provider: 'token', header: 'x-webhook-token', secretName: 'hookgate/dev/orders' }),
      [ENV.table]: 'table',
      [ENV.queueUrl]: 'https://sqs.us-east-1.amazonaws.com/000000000000/hookgate-orders',
      [ENV.payloadBucket]: 'bucket',
      [ENV.keyArn]: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000',
      [ENV.dedupeTtlDays]: '7',
      AWS_REGION: 'us-east-1',
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      expect(typeof verifierFromEnv()).toBe('function');
    } finally {
      process.env = saved;
    }
  });
});

describe('checked secrets', () => {
  it('checks each value against the rules of the provider it is used for, remembering only a pass', () => {
    const weak = { secrets: ['whsec_AB'] };
    const strong = { secrets: [`whsec_${Buffer.alloc(24, 7).toString('base64')}`] };

    expect(() => checkedSecrets({ provider: 'standard' }, weak)).toThrow(SecretConfigurationError);
    expect(() => checkedSecrets({ provider: 'standard' }, weak)).toThrow(SecretConfigurationError);
    expect(checkedSecrets({ provider: 'github' }, weak)).toBe(weak);
    expect(() => checkedSecrets({ provider: 'standard' }, weak)).toThrow(SecretConfigurationError);
    expect(checkedSecrets({ provider: 'standard' }, strong)).toBe(strong);
  });
});
