import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { DEAD_LETTER_REASON } from '../lambda/ingest/dead-letter';
import { ATTR } from '../lambda/ingest/message';

/** SQS operations of the command: depths, a DLQ peek that never decrypts, and moves back. */

/** Messages waiting and in flight. */
export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
}

/** A queue's approximate depth. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

/** A queue's ARN. */
export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error('the queue has no ARN');
  return arn;
}

/** One dead-lettered message, metadata only (the attributes: unauthenticated hints). */
export interface DeadLetter {
  readonly messageId: string;
  readonly dedupeKey?: string;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly receivedAt?: string;
  /** Why it was dead-lettered, when hookgate moved it itself (a body that can never open, a refused delivery). */
  readonly reason?: string;
  readonly replayId?: string;
  /** Times it was received (before and including the peek). */
  readonly receiveCount: number;
  /** SQS's SentTimestamp, ISO: when the message was first sent (a dead-letter move by SQS keeps it). */
  readonly sentAt?: string;
  /** Bytes of the (sealed) body. */
  readonly size: number;
}

function attr(message: Message, name: string): string | undefined {
  const value = message.MessageAttributes?.[name]?.StringValue;
  return value === undefined || value.length === 0 ? undefined : value;
}

function deadLetterOf(message: Message): DeadLetter {
  const sent = Number(message.Attributes?.SentTimestamp);
  const optional = {
    dedupeKey: attr(message, ATTR.dedupeKey),
    eventId: attr(message, ATTR.eventId),
    eventType: attr(message, ATTR.eventType),
    receivedAt: attr(message, ATTR.receivedAt),
    reason: attr(message, DEAD_LETTER_REASON),
    replayId: attr(message, ATTR.replayId),
    sentAt: Number.isFinite(sent) ? new Date(sent).toISOString() : undefined,
  };
  return {
    messageId: message.MessageId ?? '',
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    size: Buffer.byteLength(message.Body ?? '', 'utf8'),
  };
}

/** How long a peeked message stays hidden if the command dies before releasing it. */
const PEEK_VISIBILITY_SECONDS = 30;

/**
 * Reads up to `limit` messages of a DLQ without consuming them: each receive hides the messages
 * for a short time, and all of them are made visible again (visibility 0) before returning,
 * also on failure. The bodies are never opened nor returned. A DLQ is read by no consumer, so a
 * peek delays nothing; a message seen twice (its visibility ended mid-peek) is listed once.
 */
export async function peekDeadLetters(sqs: SQSClient, queueUrl: string, limit: number): Promise<DeadLetter[]> {
  const seen = new Map<string, DeadLetter>();
  const handles: { id: string; handle: string }[] = [];
  try {
    while (seen.size < limit) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, limit - seen.size),
          VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      for (const m of messages) {
        if (m.ReceiptHandle !== undefined) handles.push({ id: String(handles.length), handle: m.ReceiptHandle });
        if (m.MessageId !== undefined && !seen.has(m.MessageId)) seen.set(m.MessageId, deadLetterOf(m));
      }
    }
  } finally {
    await release(sqs, queueUrl, handles);
  }
  return [...seen.values()];
}

/** Makes received messages visible again at once. */
async function release(sqs: SQSClient, queueUrl: string, handles: readonly { id: string; handle: string }[]): Promise<void> {
  for (let i = 0; i < handles.length; i += 10) {
    const batch = handles.slice(i, i + 10);
    await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((h) => ({ Id: h.id, ReceiptHandle: h.handle, VisibilityTimeout: 0 })) }));
  }
}

/** Attributes as SendMessage takes them again. */
function sendable(attributes: Record<string, MessageAttributeValue> | undefined): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    out[name] = { DataType: value.DataType, ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}), ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}) };
  }
  return out;
}

/** How long a message being moved stays hidden in the DLQ while it is re-sent. */
const MOVE_VISIBILITY_SECONDS = 60;

/**
 * Moves every message of a DLQ back to a queue by hand (where SQS's message move task does not
 * exist: the local emulator): receive, send the same body and attributes, then delete. A failed
 * send leaves its message in the DLQ (visible again after a minute); a crash between send and
 * delete can send one twice (the processors' dedupe handles it). Returns the count moved.
 */
export async function moveByHand(sqs: SQSClient, from: string, to: string, onProgress: (moved: number) => void = () => undefined): Promise<number> {
  let moved = 0;
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: from, MaxNumberOfMessages: 10, VisibilityTimeout: MOVE_VISIBILITY_SECONDS, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return moved;
    const sent: { Id: string; ReceiptHandle: string }[] = [];
    for (const m of messages) {
      await sqs.send(new SendMessageCommand({ QueueUrl: to, MessageBody: m.Body ?? '', MessageAttributes: sendable(m.MessageAttributes) }));
      sent.push({ Id: String(sent.length), ReceiptHandle: m.ReceiptHandle ?? '' });
    }
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: from, Entries: sent }));
    moved += sent.length;
    onProgress(moved);
  }
}

/** A message move task's state, as SQS reports it. */
export interface MoveTaskStatus {
  readonly status: string;
  readonly moved: number;
  readonly total?: number;
  readonly failureReason?: string;
}

/** Starts SQS's message move task from a DLQ back to a queue; returns its handle. */
export async function startMoveTask(sqs: SQSClient, sourceArn: string, destinationArn: string): Promise<string> {
  const out = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }));
  return out.TaskHandle ?? '';
}

/** The latest move task of a DLQ. */
export async function moveTaskStatus(sqs: SQSClient, sourceArn: string): Promise<MoveTaskStatus | undefined> {
  const out = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }));
  const task = out.Results?.[0];
  if (task === undefined) return undefined;
  return {
    status: task.Status ?? 'UNKNOWN',
    moved: task.ApproximateNumberOfMessagesMoved ?? 0,
    ...(task.ApproximateNumberOfMessagesToMove === undefined ? {} : { total: task.ApproximateNumberOfMessagesToMove }),
    ...(task.FailureReason === undefined ? {} : { failureReason: task.FailureReason }),
  };
}
