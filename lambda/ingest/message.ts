import { createHash } from 'node:crypto';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { Envelope } from './envelope';
import { MessageFormatError, PayloadStoreError } from './errors';

/**
 * The hookgate message format on the work queues (version 1).
 *
 * - Body: the Encryption SDK ciphertext of the raw webhook body, base64 (`payload` = `inline`),
 *   or, when that would not fit in one SQS message, JSON `{"bucket","key"}` pointing at the
 *   ciphertext stored in the payload bucket under `<source>/<sha256 hex of dedupeKey>`
 *   (`payload` = `s3`).
 * - Attributes (String, metadata only: no body content, no header values, no secrets):
 *   `format` = `hookgate/1`, `source`, `dedupeKey`, `eventId`?, `eventType`?, `receivedAt`
 *   (ISO 8601), `payload`.
 * - The ciphertext is bound to `{source, dedupeKey}` (see envelope.ts), so attributes that were
 *   changed, or a message moved to another source's queue, fail to open.
 */

export const MESSAGE_FORMAT = 'hookgate/1';

/** Names of the message attributes. */
export const ATTR = {
  format: 'format',
  source: 'source',
  dedupeKey: 'dedupeKey',
  eventId: 'eventId',
  eventType: 'eventType',
  receivedAt: 'receivedAt',
  payload: 'payload',
} as const;

/** Where the ciphertext is. */
export type PayloadLocation = 'inline' | 's3';

/** The metadata of one message; everything in it is safe to log. */
export interface MessageMetadata {
  readonly source: string;
  readonly dedupeKey: string;
  readonly eventId?: string;
  readonly eventType?: string;
  /** ISO 8601 time the verifier received the request. */
  readonly receivedAt: string;
}

/** A message opened by the processor: its metadata, the raw body exactly as received, and the safe headers. */
export interface OpenedMessage extends MessageMetadata {
  readonly body: Buffer;
  /** The safe subset of the request headers (safe-headers.ts), lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What `openMessage` needs. */
export interface OpenMessageDeps {
  /** The envelope over the same KMS key the verifier used. */
  readonly envelope: Envelope;
  /** S3 client for pointer messages. */
  readonly s3: S3ClientSource;
  /** The payload bucket; a pointer naming another bucket is refused. */
  readonly bucket: string;
  /** The source this processor serves; a message of another source is refused. */
  readonly source: string;
}

/**
 * An S3 client, or a function that gives one on first use. Only bodies over the SQS limit touch
 * S3, and the SDK's S3 module is the largest in the bundle: the Lambda entry points pass
 * {@link lazyS3Client} so that a cold start does not evaluate it.
 */
export type S3ClientSource = S3Client | (() => Promise<S3Client>);

/** The client of a source, loading it if needed. */
export async function s3ClientOf(source: S3ClientSource): Promise<S3Client> {
  return typeof source === 'function' ? source() : source;
}

/**
 * A function that loads `@aws-sdk/client-s3` and builds one client on its first call, then
 * returns that client. In a bundle, the dynamic import defers the module's evaluation to that
 * call. A failed load is not cached, so the next call tries again.
 */
export function lazyS3Client(config: S3ClientConfig): () => Promise<S3Client> {
  let client: Promise<S3Client> | undefined;
  return () => {
    client ??= import('./s3').then(
      ({ S3Client }) => new S3Client(config),
      (err: unknown) => {
        client = undefined;
        throw err;
      },
    );
    return client;
  };
}

/** SQS limit on one message: body plus attribute names, types and values. */
export const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;

/** S3 key of an offloaded body: no PHI in the key, one object per event. */
export function payloadKey(source: string, dedupeKey: string): string {
  return `${source}/${createHash('sha256').update(dedupeKey, 'utf8').digest('hex')}`;
}

// SQS accepts only these characters in string values; anything else fails the whole send.
const SQS_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function clean(value: string): string {
  // Metadata from provider headers: bounded and restricted so it can never make SQS refuse.
  return value.replace(SQS_INVALID, '?').slice(0, 256);
}

/** The attributes of a message (String values, cleaned). */
export function messageAttributes(meta: MessageMetadata, payload: PayloadLocation): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  const put = (name: string, value: string | undefined): void => {
    if (value !== undefined && value.length > 0) out[name] = { DataType: 'String', StringValue: clean(value) };
  };
  put(ATTR.format, MESSAGE_FORMAT);
  put(ATTR.source, meta.source);
  // The dedupe key is not truncated: it must match the sealed binding exactly.
  out[ATTR.dedupeKey] = { DataType: 'String', StringValue: meta.dedupeKey };
  put(ATTR.eventId, meta.eventId);
  put(ATTR.eventType, meta.eventType);
  put(ATTR.receivedAt, meta.receivedAt);
  put(ATTR.payload, payload);
  return out;
}

/** Size SQS counts for a message: UTF-8 body plus each attribute's name, type and value. */
export function messageSize(body: string, attributes: Record<string, MessageAttributeValue>): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    size += Buffer.byteLength(value.StringValue ?? '', 'utf8');
  }
  return size;
}

function attribute(record: SQSRecord, name: string): string | undefined {
  const value = record.messageAttributes?.[name]?.stringValue;
  return value === undefined || value.length === 0 ? undefined : value;
}

function required(record: SQSRecord, name: string): string {
  const value = attribute(record, name);
  if (value === undefined) throw new MessageFormatError(`missing attribute ${name}`);
  return value;
}

/** Reads the metadata of a record without decrypting (safe to log). */
export function readMetadata(record: SQSRecord): MessageMetadata & { readonly payload: PayloadLocation } {
  if (attribute(record, ATTR.format) !== MESSAGE_FORMAT) throw new MessageFormatError('unknown format');
  const payload = required(record, ATTR.payload);
  if (payload !== 'inline' && payload !== 's3') throw new MessageFormatError('unknown payload location');
  return {
    source: required(record, ATTR.source),
    dedupeKey: required(record, ATTR.dedupeKey),
    eventId: attribute(record, ATTR.eventId),
    eventType: attribute(record, ATTR.eventType),
    receivedAt: required(record, ATTR.receivedAt),
    payload,
  };
}

async function fetchCiphertext(record: SQSRecord, meta: MessageMetadata, deps: OpenMessageDeps): Promise<Buffer> {
  let pointer: unknown;
  try {
    pointer = JSON.parse(record.body);
  } catch {
    throw new MessageFormatError('bad pointer');
  }
  const { bucket, key } = (pointer ?? {}) as { bucket?: unknown; key?: unknown };
  // Only the one object this event may have: a forged pointer cannot read other objects.
  if (bucket !== deps.bucket || key !== payloadKey(meta.source, meta.dedupeKey)) {
    throw new MessageFormatError('bad pointer');
  }
  try {
    const [s3, { GetObjectCommand }] = await Promise.all([s3ClientOf(deps.s3), import('./s3')]);
    const object = await s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }));
    if (object.Body === undefined) throw new MessageFormatError('empty payload object');
    return Buffer.from(await object.Body.transformToByteArray());
  } catch (err) {
    if (err instanceof MessageFormatError) throw err;
    throw new PayloadStoreError({ cause: err });
  }
}

/**
 * Opens one SQS record written by the verifier: reads the metadata, fetches the ciphertext from
 * S3 when the message is a pointer, decrypts it and checks it is bound to this record's source
 * and dedupe key (and that the source is the processor's).
 *
 * Throws MessageFormatError / EnvelopeMismatchError for messages that will never open (the
 * processor should let them go to the DLQ), EncryptionError / PayloadStoreError for failures
 * worth retrying. The body is returned byte for byte as the provider sent it.
 */
export async function openMessage(record: SQSRecord, deps: OpenMessageDeps): Promise<OpenedMessage> {
  const { payload, ...meta } = readMetadata(record);
  if (meta.source !== deps.source) throw new MessageFormatError('message of another source');
  const ciphertext = payload === 'inline' ? Buffer.from(record.body, 'base64') : await fetchCiphertext(record, meta, deps);
  const { body, headers } = await deps.envelope.open(ciphertext, { source: meta.source, dedupeKey: meta.dedupeKey });
  return { ...meta, body, headers };
}
