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
 *   (`payload` = `s3`). The processor deletes that object once its handler succeeded.
 * - Attributes (String, metadata only: no body content, no header values, no secrets):
 *   `format` = `hookgate/1`, `source`, `dedupeKey`, `eventId`?, `eventType`?, `receivedAt`
 *   (ISO 8601), `payload`.
 * - Attributes are NOT authenticated: anyone who can send to the queue can write them. They are
 *   hints for routing the ciphertext (`source`, `dedupeKey`, `payload`), metrics and logs only.
 *   The ciphertext is bound to `{source, dedupeKey}` (see envelope.ts), so changed binding
 *   attributes, or a message moved to another source's queue, fail to open; `eventId`,
 *   `eventType`, `receivedAt` and `typeSigned` are sealed in the frame (HGB3) and processors get
 *   them from there, never from the attributes.
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
  /** Set by the replay tooling on a replayed event's destination message: its replay id (a hint, as every attribute). */
  replayId: 'replayId',
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
  /** True when the signature covered `eventType`. Sealed only, never an attribute. */
  readonly typeSigned: boolean;
}

/** What the attributes of a record claim: unauthenticated hints (see the module comment). */
export type MessageHints = Omit<MessageMetadata, 'typeSigned'> & { readonly payload: PayloadLocation };

/**
 * A message opened by the processor: its metadata as sealed by the verifier, the raw body
 * exactly as received, the safe headers, and where the ciphertext was.
 */
export interface OpenedMessage extends MessageMetadata {
  readonly body: Buffer;
  /** The safe subset of the request headers (safe-headers.ts), lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** `s3` when the ciphertext came from the payload bucket (deletePayload removes it). */
  readonly payload: PayloadLocation;
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

/** The attributes of a message (String values, cleaned): hints, see the module comment. */
export function messageAttributes(meta: Omit<MessageMetadata, 'typeSigned'>, payload: PayloadLocation): Record<string, MessageAttributeValue> {
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
    size += Buffer.byteLength(value.StringValue ?? '', 'utf8') + (value.BinaryValue?.byteLength ?? 0);
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

/** Reads the attribute hints of a record without decrypting (safe to log, not authenticated). */
export function readMetadata(record: SQSRecord): MessageHints {
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

/** A replay id the replay tooling sets: short and plain, since the attribute is a hint anyone with SendMessage could write. */
const REPLAY_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The replay id of a record (`hookgate replay` sets it), when it carries a well-formed one. */
export function replayIdOf(record: SQSRecord): string | undefined {
  const value = attribute(record, ATTR.replayId);
  return value !== undefined && REPLAY_ID.test(value) ? value : undefined;
}

/**
 * The ciphertext a pointer message (`payload` = `s3`) names, read from the payload bucket. Only
 * the one object the record's hints allow (`payloadKey(source, dedupeKey)` in `deps.bucket`):
 * throws MessageFormatError for any other pointer, PayloadStoreError when S3 fails.
 */
export async function fetchCiphertext(record: SQSRecord, meta: MessageHints, deps: Pick<OpenMessageDeps, 's3' | 'bucket'>): Promise<Buffer> {
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
 * Opens one SQS record written by the verifier: reads the attribute hints, fetches the
 * ciphertext from S3 when the message is a pointer, decrypts it and checks it is bound to this
 * record's source and dedupe key (and that the source is the processor's). The event id, type,
 * receive time and `typeSigned` come from the sealed frame; only for a message sealed before
 * they were (HGB2, in flight across a deploy) are id, type and time taken from the attributes,
 * with `typeSigned` false.
 *
 * Throws MessageFormatError / EnvelopeMismatchError for messages that will never open (the
 * processor moves them to the DLQ at once), EncryptionError / PayloadStoreError for failures
 * worth retrying. The body is returned byte for byte as the provider sent it.
 */
export async function openMessage(record: SQSRecord, deps: OpenMessageDeps): Promise<OpenedMessage> {
  const hints = readMetadata(record);
  if (hints.source !== deps.source) throw new MessageFormatError('message of another source');
  const ciphertext = hints.payload === 'inline' ? Buffer.from(record.body, 'base64') : await fetchCiphertext(record, hints, deps);
  const { source, dedupeKey, payload } = hints;
  const { body, headers, event } = await deps.envelope.open(ciphertext, { source, dedupeKey });
  const facts = event ?? {
    ...(hints.eventId !== undefined ? { eventId: hints.eventId } : {}),
    ...(hints.eventType !== undefined ? { eventType: hints.eventType } : {}),
    receivedAt: hints.receivedAt,
    typeSigned: false,
  };
  return { source, dedupeKey, ...facts, body, headers, payload };
}

/**
 * Deletes the payload object of a message whose handler succeeded (nothing for an inline
 * message). Throws PayloadStoreError; the caller logs it and lets the bucket's lifecycle rule
 * remove the object instead.
 */
export async function deletePayload(message: OpenedMessage, deps: Pick<OpenMessageDeps, 's3' | 'bucket'>): Promise<void> {
  if (message.payload !== 's3') return;
  try {
    const [s3, { DeleteObjectCommand }] = await Promise.all([s3ClientOf(deps.s3), import('./s3')]);
    await s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: payloadKey(message.source, message.dedupeKey) }));
  } catch (err) {
    throw new PayloadStoreError({ cause: err });
  }
}
