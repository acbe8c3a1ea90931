import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { errorName } from '../lambda/runtime/error-names';
import { invokeWithTimeout, lambdaContext } from './apigateway';

/**
 * Feeds a processor the way Lambda's SQS event source mapping does: long-polled batches,
 * `ReportBatchItemFailures` semantics (only successes are deleted), nothing deleted when the
 * function throws or times out, so failed messages reappear after the visibility timeout and
 * the queue's redrive policy moves them to the DLQ after maxReceiveCount.
 */

/** Most messages one ReceiveMessage returns (SQS's limit), so the most a local batch holds. */
export const MAX_RECEIVE_BATCH = 10;

/** A processor Lambda handler. `void` means every record succeeded. */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

/** Options of {@link startPoller}. */
export interface PollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly handler: SqsHandler;
  /** Name of the function, for its context. */
  readonly functionName: string;
  /** Records per batch, 1 to {@link MAX_RECEIVE_BATCH}: what one ReceiveMessage returns (the poller has no batching window). */
  readonly batchSize: number;
  /** Long-poll wait, seconds. @default 20 */
  readonly waitTimeSeconds?: number;
  /** The function's timeout (the source's processorTimeoutSeconds): a batch still running then counts as failed. */
  readonly functionTimeoutMs: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Told about an invocation that threw or timed out, or a queue error (error names only). */
  readonly onError?: (what: 'invoke' | 'receive' | 'delete', errorName: string) => void;
}

/** A running poller. */
export interface Poller {
  /** Stops polling and waits for the batch in flight to finish (and its deletes). */
  stop(): Promise<void>;
}

function lambdaAttributes(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    // Lambda's shape: camelCase keys, binary values base64, list fields always present.
    out[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    };
  }
  return out;
}

/** The Lambda event record for one received SQS message. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attrs = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attrs.AWSTraceHeader !== undefined ? { AWSTraceHeader: attrs.AWSTraceHeader } : {}),
    },
    messageAttributes: lambdaAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes !== undefined ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Which messages to delete after an invocation. Like Lambda: an item failure that names no
 * record of the batch makes the whole batch count as failed.
 */
export function successes(records: readonly SQSRecord[], response: SQSBatchResponse | void): SQSRecord[] {
  const failures = response?.batchItemFailures ?? [];
  const ids = new Set(records.map((r) => r.messageId));
  if (failures.some((f) => typeof f.itemIdentifier !== 'string' || !ids.has(f.itemIdentifier))) return [];
  const failed = new Set(failures.map((f) => f.itemIdentifier));
  return records.filter((r) => !failed.has(r.messageId));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts polling one queue. */
export async function startPoller(options: PollerOptions): Promise<Poller> {
  const { sqs, queueUrl } = options;
  const region = options.region ?? 'us-east-1';
  const timeoutMs = options.functionTimeoutMs;
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const queueArn = Attributes?.QueueArn ?? queueUrl;
  const abort = new AbortController();
  let running = true;

  async function deleteAll(records: readonly SQSRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
    } catch (err) {
      // Undeleted successes come back after the visibility timeout: at-least-once, as on AWS.
      options.onError?.('delete', errorName(err));
    }
  }

  async function once(): Promise<void> {
    let messages: Message[];
    try {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: options.batchSize,
          WaitTimeSeconds: options.waitTimeSeconds ?? 20,
          AttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: abort.signal },
      );
      messages = received.Messages ?? [];
    } catch (err) {
      if (!running) return;
      options.onError?.('receive', errorName(err));
      await sleep(1000);
      return;
    }
    if (messages.length === 0) return;
    const records = messages.map((m) => toSqsRecord(m, queueArn, region));
    let response: SQSBatchResponse | void;
    try {
      response = await invokeWithTimeout(options.handler, { Records: records }, lambdaContext(options.functionName, timeoutMs), timeoutMs);
    } catch (err) {
      // A thrown error or a timeout fails the whole batch: nothing is deleted.
      options.onError?.('invoke', errorName(err));
      return;
    }
    await deleteAll(successes(records, response));
  }

  const loop = (async () => {
    while (running) await once();
  })();

  return {
    async stop() {
      running = false;
      abort.abort();
      await loop;
    },
  };
}
