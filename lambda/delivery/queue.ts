import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { QueueError } from '../ingest/errors';
import { moveToDeadLetterQueue } from '../ingest/dead-letter';
import type { DeliveryQueue } from './engine';

/** What {@link createDeliveryQueue} needs. */
export interface DeliveryQueueOptions {
  readonly sqs: SQSClient;
  /** The URL of the queue a record came from. @default derived from the record's eventSourceARN ({@link queueUrlOfArn}) */
  readonly queueUrlOf?: (record: SQSRecord) => string;
  /** The destination's DLQ. */
  readonly deadLetterQueueUrl: string;
}

/**
 * The standard URL of an SQS queue from its ARN (`arn:<partition>:sqs:<region>:<account>:<name>`),
 * as a Lambda event record names its queue.
 */
export function queueUrlOfArn(arn: string): string {
  const [, partition, , region, account, name] = arn.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}

/** The destination queue on SQS: visibility changes on the record's queue, DLQ copies (ingest/dead-letter.ts). */
export function createDeliveryQueue(options: DeliveryQueueOptions): DeliveryQueue {
  const queueUrlOf = options.queueUrlOf ?? ((record: SQSRecord) => queueUrlOfArn(record.eventSourceARN));
  return {
    async changeVisibility(record, seconds) {
      try {
        await options.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrlOf(record), ReceiptHandle: record.receiptHandle, VisibilityTimeout: Math.round(seconds) }));
      } catch (err) {
        throw new QueueError({ cause: err });
      }
    },
    deadLetter: (record, reason) => moveToDeadLetterQueue(record, reason, { sqs: options.sqs, queueUrl: options.deadLetterQueueUrl }),
  };
}
