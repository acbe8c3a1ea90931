import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { archiveKey, type ArchiveItem, encodeArchiveWithIndex, indexKeyOf } from '../../lambda/archive/format';
import { type MessageMetadata, messageAttributes, type PayloadLocation } from '../../lambda/ingest/message';
import { toSqsRecord } from '../../local/poller';

/** An SQS record as Lambda hands it over, with the verifier's attributes and `body` as the message body. */
export function recordOf(meta: Omit<MessageMetadata, 'typeSigned'>, body: string, payload: PayloadLocation = 'inline', id = meta.dedupeKey): SQSRecord {
  const message: Message = {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: body,
    MessageAttributes: messageAttributes(meta, payload),
    Attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0' },
  };
  return toSqsRecord(message, 'arn:aws:sqs:us-east-1:000000000000:hookgate-stripe', 'us-east-1');
}

/** One S3 call as the client made it: its command and the key or prefix it named. */
export interface S3Call {
  readonly command: string;
  readonly bucket?: string;
  readonly key?: string;
  readonly prefix?: string;
}

/** S3 calls by command name, counted by a middleware on the client (reset with `clear`), and each call in order. */
export function countCalls(s3: S3Client): { readonly counts: Map<string, number>; readonly calls: S3Call[]; clear(): void; of(command: string): number } {
  const counts = new Map<string, number>();
  const calls: S3Call[] = [];
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      const { Bucket, Key, Prefix } = args.input as { Bucket?: string; Key?: string; Prefix?: string };
      calls.push({ command: name, ...(Bucket === undefined ? {} : { bucket: Bucket }), ...(Key === undefined ? {} : { key: Key }), ...(Prefix === undefined ? {} : { prefix: Prefix }) });
      return next(args);
    },
    { step: 'initialize', name: `countCalls${Math.random()}` },
  );
  return {
    counts,
    calls,
    clear: () => {
      counts.clear();
      calls.length = 0;
    },
    of: (command) => counts.get(command) ?? 0,
  };
}

/**
 * Puts one archive object of `items` and its index, as the writer does (object first), without
 * going through SQS records: for tests that build the archive by hand. Returns the object's key.
 */
export async function putArchived(s3: S3Client, bucket: string, source: string, items: readonly ArchiveItem[]): Promise<string> {
  const first = items.reduce((a, b) => (b.receivedAt < a.receivedAt ? b : a));
  const key = archiveKey(source, new Date(first.receivedAt), items.map(({ dedupeKey }) => dedupeKey));
  const { object, index } = encodeArchiveWithIndex(source, items);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: object }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: indexKeyOf(key), Body: index }));
  return key;
}
