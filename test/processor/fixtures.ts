import type { Context, SQSRecord } from 'aws-lambda';
import type { OpenedMessage } from '../../lambda/processor/batch';
import type { LogFields, ProcessorLogger } from '../../lambda/processor/api';

/** An SQS record whose body is the JSON of the message a fake opener returns. */
export function record(id: string, message: Partial<OpenedMessage> & { body?: Buffer } = {}, receiveCount = 1): SQSRecord {
  const full = { source: 'stripe', dedupeKey: `stripe:${id}`, receivedAt: '2026-11-23T10:00:00.000Z', typeSigned: true, payload: 'inline', ...message, body: (message.body ?? Buffer.from(`{"id":"${id}"}`)).toString('base64') };
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: JSON.stringify(full),
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:hookgate-stripe',
    awsRegion: 'us-east-1',
  };
}

/** Opens what `record` wrote (stands in for decryption). */
export async function fakeOpen(r: SQSRecord): Promise<OpenedMessage> {
  const parsed = JSON.parse(r.body) as OpenedMessage & { body: string };
  return { ...parsed, body: Buffer.from(parsed.body, 'base64') };
}

/** A logger that keeps every line as JSON text. */
export function memoryLogger(): ProcessorLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, attributes: LogFields) => void lines.push(JSON.stringify({ level, message, ...attributes }));
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

export const context = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
