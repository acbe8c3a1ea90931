import { createHash } from 'node:crypto';
import type { Envelope } from '../ingest/envelope';
import { MessageFormatError, PayloadStoreError } from '../ingest/errors';
import { s3ClientOf, type S3ClientSource } from '../ingest/message';
import type { DeliveryEvent } from './contract';

/**
 * Bodies by reference: an `eventbridge` destination whose event would exceed EventBridge's entry
 * limit stores the body in the payload bucket and puts a `bodyRef` in the event's detail instead
 * of the body. The object is the body sealed again with the envelope (the same KMS key, the same
 * binding to `{source, dedupeKey}` as the work queue's ciphertext), so only a reader granted
 * `s3:GetObject` on the object AND `kms:Decrypt` on the key (with the encryption context
 * `hookgate:source` = the source) can read it, and a reader can tell whether the object is the
 * one the event names: {@link fetchEventBody} checks the binding before it returns a byte.
 *
 * Objects live under `<source>/refs/<sha256 hex of dedupeKey>` (no PHI in the key, one object
 * per event whatever the number of destinations; a retry overwrites it). The bucket's lifecycle
 * rule removes them.
 */

/** Where a body is stored: the `bodyRef` of an EventBridge event's detail. */
export interface BodyRef {
  readonly bucket: string;
  readonly key: string;
}

/**
 * What {@link fetchEventBody} reads of an event: the detail of a hookgate EventBridge event
 * (eventbridge-target.ts `EventBridgeDetail`) has all three, so pass `event.detail` as it is.
 */
export interface BodyReference {
  /** The event's source: part of the binding checked on open. */
  readonly source: string;
  /** The event's dedupe key: part of the binding checked on open. */
  readonly dedupeKey: string;
  readonly bodyRef: BodyRef;
}

/** What {@link storeEventBody} needs. */
export interface StoreEventBodyDeps {
  /** The envelope over the stack's KMS key (the one that sealed the work queue's messages). */
  readonly envelope: Envelope;
  /** S3 client, or a function that loads one on first use (ingest/message.ts `lazyS3Client`). */
  readonly s3: S3ClientSource;
  /** The payload bucket. */
  readonly bucket: string;
}

/** What {@link fetchEventBody} needs. */
export interface FetchEventBodyDeps {
  /**
   * An envelope over the stack's KMS key, for example
   * `createEnvelope(new KmsKeyringNode({ keyIds: [keyArn] }))` (ingest/envelope.ts,
   * `@aws-crypto/kms-keyring-node`): decrypting needs `kms:Decrypt` on that key only.
   */
  readonly envelope: Envelope;
  /** S3 client, or a function that loads one on first use. */
  readonly s3: S3ClientSource;
  /** When given, a reference naming another bucket is refused without a request. @default any bucket */
  readonly bucket?: string;
}

/** The S3 key of an event's stored body: `<source>/refs/<sha256 hex of dedupeKey>`. */
export function bodyRefKey(source: string, dedupeKey: string): string {
  return `${source}/refs/${createHash('sha256').update(dedupeKey, 'utf8').digest('hex')}`;
}

/**
 * Stores the body of `event` in the payload bucket, sealed with the envelope and bound to
 * `{source, dedupeKey}` (its event facts and safe headers sealed with it), and returns where.
 * Idempotent: the key depends on the event only, so a retry overwrites the same object.
 *
 * @throws EncryptionError when KMS fails; PayloadStoreError when S3 refuses or does not answer.
 */
export async function storeEventBody(event: DeliveryEvent, deps: StoreEventBodyDeps): Promise<BodyRef> {
  const { source, dedupeKey, eventId, eventType, receivedAt, typeSigned } = event;
  const facts = { ...(eventId !== undefined ? { eventId } : {}), ...(eventType !== undefined ? { eventType } : {}), receivedAt, typeSigned };
  const sealed = await deps.envelope.seal(event.body, { source, dedupeKey }, facts, event.headers);
  const key = bodyRefKey(source, dedupeKey);
  try {
    const [s3, { PutObjectCommand }] = await Promise.all([s3ClientOf(deps.s3), import('../ingest/s3')]);
    await s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: key, Body: sealed, ContentType: 'application/octet-stream' }));
  } catch (err) {
    throw new PayloadStoreError({ cause: err });
  }
  return { bucket: deps.bucket, key };
}

/**
 * Fetches the body an EventBridge event refers to and returns its exact bytes, as the provider
 * sent them. Before it reads anything, the reference must name the object of this event
 * ({@link bodyRefKey} of its source and dedupe key, and `deps.bucket` when given); after
 * decryption, the sealed binding must be this event's source and dedupe key. So a detail whose
 * reference was changed, or an object replaced by another event's sealed body, is refused:
 * the bytes returned are always this event's.
 *
 * @example
 * ```ts
 * import { KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { createEnvelope } from 'hookgate/lambda/ingest/envelope';
 * import { fetchEventBody } from 'hookgate/lambda/delivery/body-ref';
 *
 * const envelope = createEnvelope(new KmsKeyringNode({ keyIds: [process.env.HOOKGATE_KEY_ARN as string] }));
 * const s3 = new S3Client({});
 * export async function handler(event: { detail: EventBridgeDetail }): Promise<void> {
 *   const { detail } = event;
 *   const body = detail.bodyRef !== undefined
 *     ? await fetchEventBody({ ...detail, bodyRef: detail.bodyRef }, { envelope, s3 })
 *     : Buffer.from(detail.body ?? '', detail.bodyEncoding === 'base64' ? 'base64' : 'utf8');
 * }
 * ```
 *
 * @throws MessageFormatError (code `message_format`) for a reference to another object, or an
 *   empty object; EnvelopeMismatchError (`envelope_mismatch`) when the object is sealed for
 *   another source or event; EncryptionError (`encryption`) when it cannot be decrypted (no
 *   kms:Decrypt, or not a sealed body); PayloadStoreError (`payload_store`) when S3 refuses or
 *   does not answer (no s3:GetObject, or the lifecycle rule removed the object).
 */
export async function fetchEventBody(reference: BodyReference, deps: FetchEventBodyDeps): Promise<Buffer> {
  const { source, dedupeKey, bodyRef } = reference;
  if (bodyRef.key !== bodyRefKey(source, dedupeKey) || (deps.bucket !== undefined && bodyRef.bucket !== deps.bucket)) {
    throw new MessageFormatError('bad body reference');
  }
  let sealed: Buffer;
  try {
    const [s3, { GetObjectCommand }] = await Promise.all([s3ClientOf(deps.s3), import('../ingest/s3')]);
    const object = await s3.send(new GetObjectCommand({ Bucket: bodyRef.bucket, Key: bodyRef.key }));
    if (object.Body === undefined) throw new MessageFormatError('empty body object');
    sealed = Buffer.from(await object.Body.transformToByteArray());
  } catch (err) {
    if (err instanceof MessageFormatError) throw err;
    throw new PayloadStoreError({ cause: err });
  }
  // open() checks the encryption context and the sealed binding: another event's body fails here.
  const { body } = await deps.envelope.open(sealed, { source, dedupeKey });
  return body;
}
