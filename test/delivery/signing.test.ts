import { Webhook } from 'standardwebhooks';
import { SecretsError } from '../../lambda/ingest/errors';
import { SecretConfigurationError } from '../../lambda/runtime/secrets';
import { signStandardWebhook } from '../../lambda/delivery/signing';
import { signingSecretsOf } from '../../lambda/delivery/signing-secrets';
import { stubbedClient } from '../verifier/secrets-manager';

const NEW = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const OLD = `whsec_${Buffer.alloc(24, 2).toString('base64')}`;
const BODY = Buffer.from('{"id":"evt_1"}');

describe('the Standard Webhooks signer', () => {
  it('signs as the reference library does, one v1 entry per secret in order', () => {
    const at = new Date('2026-12-01T12:00:00Z');

    const headers = signStandardWebhook([NEW, OLD], 'msg_1', at.getTime() / 1000, BODY);

    expect(headers).toEqual({
      'webhook-id': 'msg_1',
      'webhook-timestamp': '1796126400',
      'webhook-signature': `${new Webhook(NEW).sign('msg_1', at, BODY)} ${new Webhook(OLD).sign('msg_1', at, BODY)}`,
    });
  });

  it('takes a secret without the whsec_ prefix, as the reference library does', () => {
    const bare = NEW.slice('whsec_'.length);
    expect(signStandardWebhook([bare], 'msg_1', 1_796_126_400, BODY)).toEqual(signStandardWebhook([NEW], 'msg_1', 1_796_126_400.9, BODY));
  });

  it('refuses to sign without a secret, or with one that is no key, never echoing it', () => {
    expect(() => signStandardWebhook([], 'msg_1', 0, BODY)).toThrow('no signing secret');
    expect(() => signStandardWebhook([NEW, 'not base64!'], 'msg_1', 0, BODY)).toThrow(/^signing secret 1 is not base64/);
    expect(() => signStandardWebhook(['not base64!'], 'msg_1', 0, BODY)).not.toThrow(/not base64!/);
  });
});

describe('signing secrets of an http destination', () => {
  it('are the inline secrets of a local config', async () => {
    expect(await signingSecretsOf({ secrets: [NEW, OLD] })()).toEqual([NEW, OLD]);
  });

  it('are read from Secrets Manager: one plain whsec_ string', async () => {
    const { client, calls } = stubbedClient(async () => `${NEW}\n`);
    const load = signingSecretsOf({ secretName: 'hookgate/test/out/plain' }, { client });

    expect(await load()).toEqual([NEW]);
    expect(await load()).toEqual([NEW]);
    expect(calls()).toBe(1);
  });

  it('are read from Secrets Manager: JSON with the new and the old secret during a rotation', async () => {
    const { client } = stubbedClient(async () => JSON.stringify({ secrets: [NEW, OLD] }));
    expect(await signingSecretsOf({ secretName: 'hookgate/test/out/rotation' }, { client })()).toEqual([NEW, OLD]);
  });

  it('refuses a weak or malformed secret by the standard secret rule, naming the field only', async () => {
    const weak = 'whsec_AAAA';
    const { client } = stubbedClient(async () => JSON.stringify({ secrets: [NEW, weak] }));

    const failure = signingSecretsOf({ secretName: 'hookgate/test/out/weak' }, { client })();

    await expect(failure).rejects.toBeInstanceOf(SecretConfigurationError);
    await expect(failure).rejects.toMatchObject({ problems: [expect.stringMatching(/^secrets\[1\] must decode to at least 16 bytes/)] });
    await expect(failure.catch((err: Error) => JSON.stringify({ message: err.message, problems: (err as SecretConfigurationError).problems }))).resolves.not.toContain(weak);
  });

  it('report an unreadable secret as a SecretsError', async () => {
    const { client } = stubbedClient(async () => '{"secrets": []}');
    await expect(signingSecretsOf({ secretName: 'hookgate/test/out/empty' }, { client })()).rejects.toBeInstanceOf(SecretsError);
    expect(() => signingSecretsOf({})).toThrow(SecretsError);
  });
});
