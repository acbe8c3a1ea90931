import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KmsKeyringNode } from '@aws-crypto/client-node';
import type { AwsEsdkKMSInterface } from '@aws-crypto/kms-keyring';

// The request/response shapes ESDK 5 passes to a KMS client (not exported by name).
type GenerateDataKeyRequest = Parameters<AwsEsdkKMSInterface['generateDataKey']>[0];
type EncryptRequest = Parameters<AwsEsdkKMSInterface['encrypt']>[0];
type DecryptRequest = Parameters<AwsEsdkKMSInterface['decrypt']>[0];
interface GenerateDataKeyResponse { KeyId: string; Plaintext: Uint8Array; CiphertextBlob: Uint8Array }
interface EncryptResponse { KeyId: string; CiphertextBlob: Uint8Array }
interface DecryptResponse { KeyId: string; Plaintext: Uint8Array }

/**
 * A stand-in for KMS in local mode and tests: the real KmsKeyringNode runs over this client, so
 * the envelope code is the same as on AWS. It wraps data keys with a local AES-256-GCM key and
 * the KMS encryption context as AAD (as KMS does: a wrong context fails to unwrap).
 * Not a security boundary: the key lives in this process.
 */

/** Counts of calls, for tests that budget KMS traffic. */
export interface KmsCallCounts {
  generateDataKey: number;
  encrypt: number;
  decrypt: number;
}

export interface LocalKms {
  /** The key id to give the keyring (shaped like a KMS ARN so region parsing works). */
  readonly keyId: string;
  /** The client to return from the keyring's clientProvider. */
  readonly client: AwsEsdkKMSInterface;
  /** Calls received so far (including failed ones). */
  readonly calls: KmsCallCounts;
  /** Makes the next `count` calls fail like an unavailable KMS. */
  failNext(count?: number): void;
}

/** Thrown by the local KMS when told to fail or when a wrapped key does not unwrap. */
export class LocalKmsError extends Error {
  constructor(
    override readonly name: 'KMSInternalException' | 'InvalidCiphertextException',
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_KEY_ID = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-00000000c0de';

function aad(context: Readonly<Record<string, string>> | undefined): Buffer {
  // Canonical form: sorted pairs, so the same context always gives the same AAD.
  const pairs = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

/**
 * Creates a local KMS. Pass the same `key` to the verifier and the processor of one local run
 * (or share the returned object) so what one seals the other can open.
 */
export function createLocalKms(options: { key?: Buffer; keyId?: string } = {}): LocalKms {
  const key = options.key ?? randomBytes(32);
  if (key.length !== 32) throw new RangeError('local KMS key must be 32 bytes');
  const keyId = options.keyId ?? DEFAULT_KEY_ID;
  const calls: KmsCallCounts = { generateDataKey: 0, encrypt: 0, decrypt: 0 };
  let failures = 0;

  const gate = (): void => {
    if (failures > 0) {
      failures -= 1;
      throw new LocalKmsError('KMSInternalException', 'local KMS failing on demand');
    }
  };
  const wrap = (plaintext: Uint8Array, context: GenerateDataKeyRequest['EncryptionContext']): Uint8Array => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return new Uint8Array(Buffer.concat([iv, body, cipher.getAuthTag()]));
  };

  const client: AwsEsdkKMSInterface = {
    async generateDataKey(args: GenerateDataKeyRequest): Promise<GenerateDataKeyResponse> {
      calls.generateDataKey += 1;
      gate();
      const plaintext = new Uint8Array(randomBytes(args.NumberOfBytes ?? 32));
      return { KeyId: keyId, Plaintext: plaintext, CiphertextBlob: wrap(plaintext, args.EncryptionContext) };
    },
    async encrypt(args: EncryptRequest): Promise<EncryptResponse> {
      calls.encrypt += 1;
      gate();
      return { KeyId: keyId, CiphertextBlob: wrap(args.Plaintext, args.EncryptionContext) };
    },
    async decrypt(args: DecryptRequest): Promise<DecryptResponse> {
      calls.decrypt += 1;
      gate();
      const blob = Buffer.from(args.CiphertextBlob);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
        decipher.setAAD(aad(args.EncryptionContext));
        decipher.setAuthTag(blob.subarray(blob.length - 16));
        const plaintext = Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
        return { KeyId: keyId, Plaintext: new Uint8Array(plaintext) };
      } catch {
        throw new LocalKmsError('InvalidCiphertextException', 'local KMS could not unwrap the data key');
      }
    },
  };

  return {
    keyId,
    client,
    calls,
    failNext(count = 1) {
      failures += count;
    },
  };
}

/** The production keyring type over the local client. */
export function localKeyring(kms: LocalKms): KmsKeyringNode {
  return new KmsKeyringNode({ generatorKeyId: kms.keyId, clientProvider: () => kms.client });
}
