import type { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { HttpDestinationConfig } from '../config/destinations';
import { checkedSecrets, secretsManagerSecrets, type SecretsLoader } from '../runtime/secrets';

/** The signing secrets of an `http` destination, new first; called per attempt, cached by the loader. */
export type SigningSecrets = () => Promise<readonly string[]>;

/** A Standard Webhooks signing secret passes the same rule as a `standard` source's secret. */
const STANDARD = { provider: 'standard' } as const;

/**
 * The signing secrets of an `http` destination: its inline `secrets` (local and test configs,
 * already checked by the schema), or the Secrets Manager secret named by `secretName` (one
 * `whsec_...` string, or JSON `{"secrets": ["new", "old"]}` during a rotation), read and cached
 * by the verifier's loader (lambda/runtime/secrets.ts) and checked by the `standard` secret rule
 * each time its value changes. A weak or malformed value throws SecretConfigurationError, an
 * unreadable one SecretsError: neither names the value.
 *
 * @param destination the destination's `secrets` or `secretName` (the delivery function passes
 *   the secret name the stack set in its environment)
 */
export function signingSecretsOf(
  destination: Pick<HttpDestinationConfig, 'secrets' | 'secretName'>,
  options: {
    readonly client?: SecretsManagerClient;
    /** Settings of the client built when `client` is not given. @default SDK defaults */
    readonly clientConfig?: SecretsManagerClientConfig;
    /** @default 300 */
    readonly maxAgeSeconds?: number;
  } = {},
): SigningSecrets {
  const inline = destination.secrets;
  if (inline !== undefined) return async () => inline;
  const load: SecretsLoader = secretsManagerSecrets({ secretName: destination.secretName }, options);
  return async () => checkedSecrets(STANDARD, await load()).secrets;
}
