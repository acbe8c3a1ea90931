import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Envelope, SealedHeaders } from './envelope';
import { PayloadStoreError, QueueError } from './errors';
import { messageAttributes, type MessageMetadata, messageSize, payloadKey, type PayloadLocation, s3ClientOf, type S3ClientSource, SQS_MAX_MESSAGE_BYTES } from './message';

/** Where sealed messages go. */
export interface EnqueueDeps {
  readonly envelope: Envelope;
  readonly sqs: SQSClient;
  /** For bodies over the SQS limit only; a function loads the client on first use. */
  readonly s3: S3ClientSource;
  readonly queueUrl: string;
  readonly bucket: string;
  /**
   * Largest message sent inline; bigger ones go to S3. Must not exceed the queue's
   * MaximumMessageSize (the stack and the emulators set 1 MiB).
   * @default 1048576 (SQS maximum)
   */
  readonly maxMessageBytes?: number;
}

/** What was sent, for logs and tests. */
export interface Enqueued {
  readonly messageId: string;
  readonly payload: PayloadLocation;
}

/** A sealed event's message, ready to send: its body (inline ciphertext or a pointer) and attributes. */
export interface PlacedMessage {
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  readonly payload: PayloadLocation;
}

/** How {@link placeCiphertext} places a ciphertext. */
export interface PlaceOptions {
  /** The payload bucket a pointer names. */
  readonly bucket: string;
  /** Writes the ciphertext to `key` in the payload bucket (only for a message over the limit). */
  readonly store: (key: string, ciphertext: Buffer) => Promise<void>;
  /** @default 1048576 (SQS maximum) */
  readonly maxMessageBytes?: number;
  /** Attributes added to the format's own (the replay tooling's `replayId`). */
  readonly extraAttributes?: Record<string, MessageAttributeValue>;
}

/**
 * The message of a sealed event in the format of message.ts: the ciphertext inline (base64) when
 * the message fits, else stored at its deterministic payload key (a retry overwrites rather than
 * leaks a second copy) and the message a pointer to it. The verifier's enqueue and the replay
 * tooling both build messages here.
 */
export async function placeCiphertext(meta: Omit<MessageMetadata, 'typeSigned'>, ciphertext: Buffer, options: PlaceOptions): Promise<PlacedMessage> {
  const extra = options.extraAttributes ?? {};
  const inline = { body: ciphertext.toString('base64'), attributes: { ...messageAttributes(meta, 'inline'), ...extra }, payload: 'inline' as const };
  if (messageSize(inline.body, inline.attributes) <= (options.maxMessageBytes ?? SQS_MAX_MESSAGE_BYTES)) return inline;
  const key = payloadKey(meta.source, meta.dedupeKey);
  await options.store(key, ciphertext);
  return { body: JSON.stringify({ bucket: options.bucket, key }), attributes: { ...messageAttributes(meta, 's3'), ...extra }, payload: 's3' };
}

/**
 * Seals the body (with its event facts and safe headers) and sends one message in the format of
 * message.ts ({@link placeCiphertext}); the attributes repeat the facts as unauthenticated hints.
 * Throws EncryptionError, PayloadStoreError or QueueError; the caller deletes the dedupe record.
 */
export async function enqueue(meta: MessageMetadata, body: Buffer, headers: SealedHeaders, deps: EnqueueDeps): Promise<Enqueued> {
  const { source, dedupeKey, eventId, eventType, receivedAt, typeSigned } = meta;
  const event = { ...(eventId !== undefined ? { eventId } : {}), ...(eventType !== undefined ? { eventType } : {}), receivedAt, typeSigned };
  const ciphertext = await deps.envelope.seal(body, { source, dedupeKey }, event, headers);
  const message = await placeCiphertext(meta, ciphertext, {
    bucket: deps.bucket,
    ...(deps.maxMessageBytes === undefined ? {} : { maxMessageBytes: deps.maxMessageBytes }),
    async store(key, bytes) {
      try {
        const [s3, { PutObjectCommand }] = await Promise.all([s3ClientOf(deps.s3), import('./s3')]);
        await s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: key, Body: bytes, ContentType: 'application/octet-stream' }));
      } catch (err) {
        throw new PayloadStoreError({ cause: err });
      }
    },
  });
  try {
    const sent = await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.queueUrl, MessageBody: message.body, MessageAttributes: message.attributes }));
    return { messageId: sent.MessageId ?? '', payload: message.payload };
  } catch (err) {
    throw new QueueError({ cause: err });
  }
}
