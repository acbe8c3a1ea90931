import { type GetSecretValueCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** A Secrets Manager client answered by a stub: no network, calls counted. */
export function stubbedClient(answer: () => Promise<string>): { client: SecretsManagerClient; calls: () => number } {
  const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 });
  let calls = 0;
  client.middlewareStack.add(
    () => async () => {
      calls += 1;
      const output: GetSecretValueCommandOutput = { SecretString: await answer(), $metadata: {} };
      return { output, response: {} };
    },
    { step: 'initialize', name: 'stub-secrets-manager' },
  );
  return { client, calls: () => calls };
}
