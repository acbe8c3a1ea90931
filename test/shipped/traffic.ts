import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { signRequest } from '../../lambda/signatures/sign';
import { sampleRequest } from '../../local/samples';
import { API_HOST, restEvent } from './api';
import type { SourceUnderTest } from './harness';

/**
 * What the shipped-bundle suites send and read: a provider's signed request to a source's
 * verifier, and the messages on a queue.
 */

/** Receives every message now on a queue (all attributes), deleting them unless `keep`: kept ones stay in flight, receipt handles valid. */
export async function drain(sqs: SQSClient, queueUrl: string, options: { keep?: boolean } = {}): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'], MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return out;
    out.push(...Messages);
    if (options.keep === true) continue;
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
  }
}

/** Options of {@link providerEvent}. */
export interface ProviderEventOptions {
  readonly body?: Buffer;
  /** @default the source's first secret (its verify token for GET) */
  readonly secret?: string;
  /** @default POST */
  readonly method?: string;
  readonly now?: number;
}

/** The deployed API's event for a provider's request to `s` on `stage`, signed with `secret` (the source's first by default). */
export function providerEvent(s: SourceUnderTest, stage: string, options: ProviderEventOptions = {}): { event: ReturnType<typeof restEvent>; body: Buffer } {
  const method = options.method ?? 'POST';
  const route = s.routes.find((r) => r.method === method);
  if (route === undefined) throw new Error(`${s.name} has no ${method} route`);
  const now = options.now ?? Date.now();
  const secret = options.secret ?? (method === 'GET' ? s.verifyToken : s.secrets[0]) ?? '';
  const sample = sampleRequest(s.source, secret, now);
  const body = method === 'GET' ? Buffer.alloc(0) : (options.body ?? sample.body);
  const signingUrl = s.source.publicUrl ?? `https://${API_HOST}/${stage}${route.path}`;
  const signed = signRequest(s.source, secret, body, { now, url: signingUrl, method, ...(sample.eventId !== undefined ? { eventId: sample.eventId } : {}) });
  const headers: Record<string, string> = { ...(sample.headers ?? {}), ...signed.headers };
  if (method !== 'GET' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = sample.contentType;
  const url = `${route.path}${new URL(signed.url).search}`;
  return { event: restEvent(route, stage, { method, url, headers, body }, now), body };
}
