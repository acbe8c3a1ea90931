// The narrow ESDK packages, not @aws-crypto/client-node: that one also loads the raw AES/RSA
// keyrings and the hierarchical keyring's DynamoDB key store, which hookgate never uses.
import { getLocalCryptographicMaterialsCache, NodeCachingMaterialsManager } from '@aws-crypto/caching-materials-manager-node';
import { buildDecrypt } from '@aws-crypto/decrypt-node';
import { buildEncrypt } from '@aws-crypto/encrypt-node';
import { AlgorithmSuiteIdentifier, CommitmentPolicy, type KeyringNode } from '@aws-crypto/material-management-node';
import { EncryptionError, EnvelopeMismatchError } from './errors';

/**
 * Envelope encryption of webhook bodies with the AWS Encryption SDK.
 *
 * Design (why it looks like this):
 * - Suite ALG_AES256_GCM_HKDF_SHA512_COMMIT_KEY: key-committing, no ECDSA signature. Producer
 *   and consumer share one KMS key, so a signature adds no authenticity, only ~5x the cost.
 * - A caching CMM in front of the KMS keyring: one GenerateDataKey serves many messages.
 * - The caching CMM keys its cache by the encryption context. A per-message context
 *   `{source, dedupeKey}` would therefore miss the cache on every message (one KMS call per
 *   event). So the SDK context is per source: `{hookgate:source, hookgate:purpose}`, and what
 *   belongs to one event is bound inside the authenticated plaintext as a small frame:
 *   `"HGB3" | u16 len | source | u16 len | dedupeKey | u16 len | eventId | u16 len | eventType |
 *   u16 len | receivedAt | u8 flags (bit 0: typeSigned) | u16 len | safe headers (JSON) | body`.
 *   The event facts (id, type, receive time, whether the signature covered the type) and the safe
 *   request headers (safe-headers.ts) ride inside it, so they are encrypted, cannot be changed
 *   in the queue, and processors read them from here rather than from message attributes.
 *   AES-GCM authenticates the whole plaintext, so nothing in the frame can be changed without
 *   failing decryption; `open` checks both the SDK context (decrypt() does not compare it for
 *   us) and the binding.
 * - `open` also reads the previous frame, `"HGB2"` (binding and headers, no event facts), so
 *   messages sealed before a deploy still open after it; for those, `event` is undefined. Once
 *   no HGB2 message can be left (the DLQ retention and a redrive after that deploy), reading it
 *   can go.
 */

/** What a sealed body is bound to. Both parts must match on open. */
export interface Binding {
  readonly source: string;
  readonly dedupeKey: string;
}

/** Safe request headers (safe-headers.ts), lower-case names. */
export type SealedHeaders = Readonly<Record<string, string>>;

/** What the verifier established about the event, sealed with the body (HGB3). */
export interface SealedEvent {
  /** The provider's event or delivery id, when it sent a safe one. */
  readonly eventId?: string;
  /** The provider's event type, when it sent a safe one. */
  readonly eventType?: string;
  /** When the verifier accepted the request (ISO 8601). */
  readonly receivedAt: string;
  /** True when the signature covered `eventType` (it was read from the signed bytes). */
  readonly typeSigned: boolean;
}

/** What `open` gives back: the exact body bytes and what was sealed with them. */
export interface Opened {
  readonly body: Buffer;
  readonly headers: SealedHeaders;
  /** The sealed event facts; undefined for an HGB2 message (sealed before they were). */
  readonly event?: SealedEvent;
}

/** Seals and opens webhook bodies. Same interface on AWS (KMS) and locally (local key). */
export interface Envelope {
  /** Encrypts `body` with its event facts and safe headers, bound to `binding`; returns the ESDK message bytes. */
  seal(body: Buffer, binding: Binding, event: SealedEvent, headers?: SealedHeaders): Promise<Buffer>;
  /** Decrypts and checks the binding; throws EnvelopeMismatchError or EncryptionError. */
  open(ciphertext: Buffer, binding: Binding): Promise<Opened>;
}

/** Cache limits of the data-key cache. */
export interface EnvelopeCacheOptions {
  /**
   * How long one data key is reused, ms. Bounds how long a data key lives in memory and how
   * stale a key-policy change can be; at 5 min a busy process calls KMS ~12 times an hour.
   * @default 300000
   */
  readonly maxAgeMs?: number;
  /**
   * Messages per data key. 10,000 keeps the KMS target (<= 1 call per 1,000 events) with margin
   * while limiting how many bodies one leaked data key would expose.
   * @default 10000
   */
  readonly maxMessagesEncrypted?: number;
  /** Entries in the process-local cache (sources x suites; decrypt entries per data key). @default 100 */
  readonly capacity?: number;
}

/** Encryption context keys; the purpose stops a hookgate ciphertext being used as anything else. */
export const CONTEXT_SOURCE = 'hookgate:source';
export const CONTEXT_PURPOSE = 'hookgate:purpose';
export const PURPOSE = 'webhook-body';

const MAGIC = Buffer.from('HGB3', 'ascii');
/** The previous frame, still opened: binding and headers, no event facts. */
const MAGIC_V2 = Buffer.from('HGB2', 'ascii');
const TYPE_SIGNED = 0x01;

/**
 * Frame size of the ESDK message. The default (4 KiB) makes a 1 MiB body 256 frames, each a few
 * event-loop turns through the SDK's streams: measured 6-7 s per 900 KiB body when the process is
 * busy with other requests. 256 KiB frames keep a 1 MiB body at 4-5 frames; the whole body is in
 * memory anyway, so smaller frames buy nothing here.
 */
export const FRAME_LENGTH = 256 * 1024;
const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;

// One EDK per message (the stack key): refusing more bounds the work an attacker-made message
// could cause on decrypt.
// buildEncrypt + buildDecrypt is what client-node's buildClient returns.
const CLIENT_OPTIONS = { commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, maxEncryptedDataKeys: 1 } as const;
const client = { ...buildEncrypt(CLIENT_OPTIONS), ...buildDecrypt(CLIENT_OPTIONS) };

function u16(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(value);
  return out;
}

/** Frames the body with its binding, event facts and safe headers (see the module comment). */
export function frame(body: Buffer, { source, dedupeKey }: Binding, event: SealedEvent, headers: SealedHeaders = {}): Buffer {
  const fields = [source, dedupeKey, event.eventId ?? '', event.eventType ?? '', event.receivedAt].map((text) => Buffer.from(text, 'utf8'));
  const h = Buffer.from(JSON.stringify(headers), 'utf8');
  if (h.length > 0xffff || fields.some((field) => field.length > 0xffff)) throw new EnvelopeMismatchError('frame');
  const parts: Buffer[] = [MAGIC];
  for (const field of fields) parts.push(u16(field.length), field);
  parts.push(Buffer.of(event.typeSigned ? TYPE_SIGNED : 0), u16(h.length), h, body);
  return Buffer.concat(parts);
}

function parseHeaders(text: string): SealedHeaders {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new EnvelopeMismatchError('frame');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new EnvelopeMismatchError('frame');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) if (typeof value === 'string') headers[name] = value;
  return headers;
}

/** What a frame holds. */
export interface Unframed {
  readonly binding: Binding;
  readonly headers: SealedHeaders;
  readonly body: Buffer;
  /** Undefined for an HGB2 frame. */
  readonly event?: SealedEvent;
}

/** Reverses `frame` (HGB3, and the earlier HGB2); throws EnvelopeMismatchError when the bytes are not a frame. */
export function unframe(plaintext: Buffer): Unframed {
  const magic = plaintext.subarray(0, MAGIC.length);
  const v3 = magic.equals(MAGIC);
  if (!v3 && !magic.equals(MAGIC_V2)) throw new EnvelopeMismatchError('frame');
  let at = MAGIC.length;
  const need = (length: number): void => {
    if (at + length > plaintext.length) throw new EnvelopeMismatchError('frame');
  };
  const read = (): string => {
    need(2);
    const length = plaintext.readUInt16BE(at);
    at += 2;
    need(length);
    const text = plaintext.subarray(at, at + length).toString('utf8');
    at += length;
    return text;
  };
  const binding = { source: read(), dedupeKey: read() };
  let event: SealedEvent | undefined;
  if (v3) {
    const eventId = read();
    const eventType = read();
    const receivedAt = read();
    need(1);
    const flags = plaintext.readUInt8(at);
    at += 1;
    // Unknown flags mean a newer writer: refuse rather than misread.
    if ((flags & ~TYPE_SIGNED) !== 0) throw new EnvelopeMismatchError('frame');
    event = {
      ...(eventId.length > 0 ? { eventId } : {}),
      ...(eventType.length > 0 ? { eventType } : {}),
      receivedAt,
      typeSigned: (flags & TYPE_SIGNED) !== 0,
    };
  }
  const headers = parseHeaders(read());
  return { binding, headers, body: plaintext.subarray(at), ...(event !== undefined ? { event } : {}) };
}

function contextFor(source: string): Record<string, string> {
  return { [CONTEXT_SOURCE]: source, [CONTEXT_PURPOSE]: PURPOSE };
}

/**
 * Builds an envelope over a keyring (a KmsKeyringNode on AWS, the same keyring over a local KMS
 * client locally), with a caching CMM in front of it.
 */
export function createEnvelope(keyring: KeyringNode, options: EnvelopeCacheOptions = {}): Envelope {
  const cmm = new NodeCachingMaterialsManager({
    backingMaterials: keyring,
    cache: getLocalCryptographicMaterialsCache(options.capacity ?? 100),
    maxAge: options.maxAgeMs ?? 5 * 60_000,
    maxMessagesEncrypted: options.maxMessagesEncrypted ?? 10_000,
  });
  return {
    async seal(body, binding, event, headers) {
      const plaintext = frame(body, binding, event, headers);
      try {
        const { result } = await client.encrypt(cmm, plaintext, {
          suiteId: SUITE,
          encryptionContext: contextFor(binding.source),
          // A Buffer gives the SDK the plaintext length, which the caching CMM needs to cache.
          plaintextLength: plaintext.length,
          frameLength: FRAME_LENGTH,
        });
        return result;
      } catch (err) {
        throw new EncryptionError({ cause: err });
      }
    },
    async open(ciphertext, binding) {
      let plaintext: Buffer;
      let context: Readonly<Record<string, string>>;
      try {
        const { plaintext: out, messageHeader } = await client.decrypt(cmm, ciphertext);
        plaintext = out;
        context = messageHeader.encryptionContext;
      } catch (err) {
        throw new EncryptionError({ cause: err });
      }
      // decrypt() authenticates the context but does not compare it with what we expect.
      const expected = contextFor(binding.source);
      const keys = Object.keys(context);
      if (keys.length !== 2 || keys.some((key) => context[key] !== expected[key])) {
        throw new EnvelopeMismatchError('context');
      }
      const { binding: bound, ...opened } = unframe(plaintext);
      if (bound.source !== binding.source) throw new EnvelopeMismatchError('source');
      if (bound.dedupeKey !== binding.dedupeKey) throw new EnvelopeMismatchError('dedupe_key');
      return opened;
    },
  };
}
