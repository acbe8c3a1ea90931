import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { InitializeHandlerArguments, InitializeHandlerOutput, MiddlewareStack } from '@smithy/types';
import type { LocalClient } from '../local/app';

/**
 * Counts AWS SDK calls per side, service and operation with one middleware at the `initialize`
 * step (before retries, so one count per `send`, as billing sees it barring retries).
 * It also records what the cost model and the floor need from the traffic itself: the
 * SendMessage shape, message counts of SQS batches, and processor invocation times (the local
 * poller is receive -> handler -> delete, so delete start minus receive end is the handler).
 */

export type Side = 'verifier' | 'processor';

/** What a SendMessage carried: the floor replays the same shape. */
export interface SentShape {
  readonly bodyBytes: number;
  readonly attributes: Readonly<Record<string, { DataType: string; StringValue?: string }>>;
}

export interface CallLog {
  /** `side service operation` -> calls. */
  readonly calls: Map<string, number>;
  /** Messages returned by ReceiveMessage calls that returned at least one. */
  readonly received: number[];
  /** Entries per DeleteMessageBatch call. */
  readonly deleted: number[];
  /** Messages the processor side deleted successfully (processed). */
  processed: number;
  /** Processor invocation durations, ms (receive answered -> delete started). */
  readonly processorMs: number[];
  /** Bytes of each SendMessage body. */
  readonly sentBytes: number[];
  /** Bytes of each S3 PutObject body. */
  readonly putBytes: number[];
  sample?: SentShape;
  /** Resets the counters (not the sample), e.g. after a warm-up. */
  reset(): void;
}

interface QueueInput {
  readonly QueueUrl?: string;
  readonly MessageBody?: string;
  readonly MessageAttributes?: SentShape['attributes'];
  readonly Entries?: readonly unknown[];
  readonly Body?: unknown;
}
interface QueueOutput {
  readonly Messages?: readonly unknown[];
  readonly Successful?: readonly unknown[];
}

export function createCallLog(): CallLog {
  const log: CallLog = {
    calls: new Map(),
    received: [],
    deleted: [],
    processed: 0,
    processorMs: [],
    sentBytes: [],
    putBytes: [],
    reset() {
      log.calls.clear();
      for (const list of [log.received, log.deleted, log.processorMs, log.sentBytes, log.putBytes]) list.length = 0;
      log.processed = 0;
    },
  };
  return log;
}

/**
 * The `instrument` hook for startLocal. `queueName` (the URL is not known before the app starts) limits SQS accounting to the loaded queue:
 * the other sources' pollers long-poll their idle queues, which on AWS is a fixed cost, not a
 * per-event one (docs/cost.md counts it there).
 */
export function instrumenter(log: CallLog, queueName: string): (client: LocalClient, side: Side) => void {
  let receiveEnded: number | undefined;
  function attach<I extends object, O extends object>(stack: MiddlewareStack<I, O>, side: Side): void {
    stack.add(
      (next, context) =>
        async (args: InitializeHandlerArguments<I>): Promise<InitializeHandlerOutput<O>> => {
          const input = args.input as QueueInput;
          const service = context.clientName ?? 'unknown';
          const operation = context.commandName ?? 'unknown';
          const isSqs = service === 'SQSClient';
          if (isSqs && !(input.QueueUrl ?? '').endsWith(`/${queueName}`)) return next(args);
          const key = `${side} ${service.replace(/Client$/, '')} ${operation.replace(/Command$/, '')}`;
          log.calls.set(key, (log.calls.get(key) ?? 0) + 1);
          if (operation === 'SendMessageCommand') {
            log.sentBytes.push(Buffer.byteLength(input.MessageBody ?? ''));
            log.sample ??= { bodyBytes: Buffer.byteLength(input.MessageBody ?? ''), attributes: input.MessageAttributes ?? {} };
          }
          if (operation === 'PutObjectCommand' && Buffer.isBuffer(input.Body)) log.putBytes.push(input.Body.length);
          if (operation === 'DeleteMessageBatchCommand') {
            if (receiveEnded !== undefined) log.processorMs.push(performance.now() - receiveEnded);
            log.deleted.push(input.Entries?.length ?? 0);
          }
          const result = await next(args);
          const output = result.output as QueueOutput;
          if (operation === 'ReceiveMessageCommand' && (output.Messages?.length ?? 0) > 0) {
            log.received.push(output.Messages?.length ?? 0);
            receiveEnded = performance.now();
          }
          if (operation === 'DeleteMessageBatchCommand') log.processed += output.Successful?.length ?? 0;
          return result;
        },
      { step: 'initialize', name: 'hookgateBenchCount' },
    );
  }
  return (client, side) => {
    // Narrowed per class: each client's stack is typed with its own command inputs and outputs.
    if (client instanceof DynamoDBClient) attach(client.middlewareStack, side);
    else if (client instanceof SQSClient) attach(client.middlewareStack, side);
    else if (client instanceof S3Client) attach(client.middlewareStack, side);
  };
}

/** The counts as a plain object, sorted, for results.json. */
export function callCounts(log: CallLog): Record<string, number> {
  return Object.fromEntries([...log.calls.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
