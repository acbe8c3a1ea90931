import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
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

/**
 * Seals the body (with its event facts and safe headers) and sends one message in the format of
 * message.ts; the attributes repeat the facts as unauthenticated hints. When the message would
 * exceed the SQS limit, the ciphertext goes to S3 first (deterministic key, so a retry overwrites
 * rather than leaks a second copy) and the queue gets a pointer.
 * Throws EncryptionError, PayloadStoreError or QueueError; the caller deletes the dedupe record.
 */
export async function enqueue(meta: MessageMetadata, body: Buffer, headers: SealedHeaders, deps: EnqueueDeps): Promise<Enqueued> {
  const { source, dedupeKey, eventId, eventType, receivedAt, typeSigned } = meta;
  const event = { ...(eventId !== undefined ? { eventId } : {}), ...(eventType !== undefined ? { eventType } : {}), receivedAt, typeSigned };
  const ciphertext = await deps.envelope.seal(body, { source, dedupeKey }, event, headers);
  const inlineBody = ciphertext.toString('base64');
  const inlineAttributes = messageAttributes(meta, 'inline');
  let payload: PayloadLocation = 'inline';
  let messageBody = inlineBody;
  let attributes = inlineAttributes;
  if (messageSize(inlineBody, inlineAttributes) > (deps.maxMessageBytes ?? SQS_MAX_MESSAGE_BYTES)) {
    const key = payloadKey(meta.source, meta.dedupeKey);
    try {
      const [s3, { PutObjectCommand }] = await Promise.all([s3ClientOf(deps.s3), import('./s3')]);
      await s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: key, Body: ciphertext, ContentType: 'application/octet-stream' }));
    } catch (err) {
      throw new PayloadStoreError({ cause: err });
    }
    payload = 's3';
    messageBody = JSON.stringify({ bucket: deps.bucket, key });
    attributes = messageAttributes(meta, 's3');
  }
  try {
    const sent = await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.queueUrl, MessageBody: messageBody, MessageAttributes: attributes }));
    return { messageId: sent.MessageId ?? '', payload };
  } catch (err) {
    throw new QueueError({ cause: err });
  }
}
