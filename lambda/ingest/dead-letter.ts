import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { QueueError } from './errors';
import { messageSize, SQS_MAX_MESSAGE_BYTES } from './message';

/**
 * Moves one record to its source's dead-letter queue from the processor. Lambda's partial batch
 * response can only ask for a retry, and a record that can never open would spend
 * `maxReceiveCount` receives (and visibility timeouts) before SQS's redrive policy moved it.
 * The copy keeps the raw body and the attributes as received, so a later redrive brings back
 * exactly the message the verifier sent.
 */

/** Attribute naming why a record was moved (an error code, safe to log). */
export const DEAD_LETTER_REASON = 'hookgateDeadLetterReason';

/** SQS limit on attributes per message. */
const MAX_ATTRIBUTES = 10;

/** Where moved records go. */
export interface DeadLetterDeps {
  readonly sqs: SQSClient;
  /** The source's DLQ (the work queue's redrive target). */
  readonly queueUrl: string;
}

/**
 * The record's attributes back in the SendMessage shape (Lambda gives binary values base64), so a
 * copy carries exactly the attributes the original was sent with (here, and in the fan-out).
 */
export function sendableAttributes(record: SQSRecord): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    out[name] = {
      DataType: value.dataType,
      ...(value.stringValue !== undefined ? { StringValue: value.stringValue } : {}),
      ...(value.binaryValue !== undefined ? { BinaryValue: Buffer.from(value.binaryValue, 'base64') } : {}),
    };
  }
  return out;
}

/**
 * Sends a copy of `record` (body and attributes as received, plus the reason when it fits) to
 * the DLQ. Throws QueueError when SQS refuses: the caller then leaves the record to the normal
 * retries, which end in the same DLQ.
 */
export async function moveToDeadLetterQueue(record: SQSRecord, reason: string, deps: DeadLetterDeps): Promise<void> {
  const attributes = sendableAttributes(record);
  const withReason = { ...attributes, [DEAD_LETTER_REASON]: { DataType: 'String', StringValue: reason } };
  // The reason is a courtesy: never let it make a copy that SQS would refuse.
  const fits = !(DEAD_LETTER_REASON in attributes) && Object.keys(withReason).length <= MAX_ATTRIBUTES && messageSize(record.body, withReason) <= SQS_MAX_MESSAGE_BYTES;
  try {
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.queueUrl, MessageBody: record.body, MessageAttributes: fits ? withReason : attributes }));
  } catch (err) {
    throw new QueueError({ cause: err });
  }
}
