import type { S3Client } from '@aws-sdk/client-s3';
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
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

/** S3 calls by command name, counted by a middleware on the client (reset with `clear`). */
export function countCalls(s3: S3Client): { readonly counts: Map<string, number>; clear(): void; of(command: string): number } {
  const counts = new Map<string, number>();
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: `countCalls${Math.random()}` },
  );
  return { counts, clear: () => counts.clear(), of: (command) => counts.get(command) ?? 0 };
}
