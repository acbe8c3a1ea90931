import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, SQSRecord } from 'aws-lambda';
import type { NamedSource } from '../../lambda/config/schema';
import { testSource } from '../config/sources';
import { createEnvelope, type Envelope } from '../../lambda/ingest/envelope';
import { createLocalKms, type LocalKms, localKeyring } from '../../local/kms';
import { openMessage, type OpenedMessage } from '../../lambda/ingest/message';
import { inlineSecrets, type SecretsLoader } from '../../lambda/runtime/secrets';
import { createVerifierHandler, type VerifierDeps, type VerifierHandler } from '../../lambda/verifier/handler';
import { toProxyEvent } from '../../local/apigateway';
import { type LocalStack, localClients } from '../../local/emulators';

export const TOKEN = 'tok-SECRET-123';
export const TOKEN_HEADER = 'x-webhook-token';

/** A `token` source (the provider this branch knows) with the test's token. */
export function tokenSource(name: string, extra: { readonly maxBodyBytes?: number } = {}): NamedSource {
  return testSource({ name, provider: 'token', header: TOKEN_HEADER, ...extra });
}

/**
 * An API Gateway REST proxy event as a deployed stage (`prod`, https) sends it, built by the
 * same code as local mode's. A text media type arrives as text unless `base64` says otherwise
 * (a stage without binaryMediaTypes, or a body that is not UTF-8).
 */
export function apiEvent(
  options: { body?: Buffer | string; headers?: Record<string, string>; method?: string; base64?: boolean; path?: string; proto?: 'http' | 'https' } = {},
): APIGatewayProxyEvent {
  const raw = options.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body, 'utf8');
  const base64 = options.base64 ?? !raw.equals(Buffer.from(raw.toString('utf8'), 'utf8'));
  const headers = { Host: 'abc123.execute-api.us-east-1.amazonaws.com', 'Content-Type': 'application/json', [TOKEN_HEADER]: TOKEN, ...options.headers };
  const path = options.path ?? '/webhooks/test';
  const event = toProxyEvent(
    { method: options.method ?? 'POST', url: path, rawHeaders: Object.entries(headers).flat(), body: raw, sourceIp: '192.0.2.10', serverPort: 443 },
    path.split('/')[2] ?? 'test',
    { stage: 'prod', proto: options.proto ?? 'https' },
  );
  if (options.body === undefined || base64) return event;
  return { ...event, body: raw.toString('utf8'), isBase64Encoded: false };
}

/** Everything one test needs: its own clients (so injected faults stay in the test), a verifier, readers. */
export interface Harness {
  readonly handler: VerifierHandler;
  readonly deps: VerifierDeps;
  readonly kms: LocalKms;
  readonly envelope: Envelope;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  /** Receives (and deletes) every message now on the source's queue, opened. */
  drain(): Promise<{ messages: Message[]; opened: OpenedMessage[] }>;
  close(): void;
}

export function harness(
  stack: LocalStack,
  source: NamedSource,
  overrides: Partial<Omit<VerifierDeps, 'source'>> & { secrets?: SecretsLoader } = {},
): Harness {
  const clients = localClients(stack.endpoints);
  const dynamodb = new DynamoDBClient(clients.dynamodb);
  const sqs = new SQSClient(clients.sqs);
  const s3 = new S3Client(clients.s3);
  const kms = createLocalKms();
  const envelope = createEnvelope(localKeyring(kms));
  const queue = stack.resources.queues[source.name];
  if (queue === undefined) throw new Error(`no queue for ${source.name}`);
  const deps: VerifierDeps = {
    source,
    secrets: inlineSecrets({ secrets: [TOKEN] }),
    dynamodb,
    sqs,
    s3,
    tableName: stack.resources.tableName,
    queueUrl: queue.queueUrl,
    bucket: stack.resources.bucket,
    envelope,
    dedupeTtlDays: 7,
    ...telemetry(source.name, { quiet: true }),
    ...overrides,
  };
  const reader = new SQSClient(clients.sqs);
  const readerS3 = new S3Client(clients.s3);
  return {
    handler: createVerifierHandler(deps),
    deps,
    kms,
    envelope,
    dynamodb,
    sqs,
    s3,
    async drain() {
      const messages: Message[] = [];
      for (;;) {
        const { Messages = [] } = await reader.send(
          new ReceiveMessageCommand({ QueueUrl: queue.queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], VisibilityTimeout: 60 }),
        );
        if (Messages.length === 0) break;
        messages.push(...Messages);
        await reader.send(
          new DeleteMessageBatchCommand({ QueueUrl: queue.queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }),
        );
      }
      const opened = await Promise.all(
        messages.map((m) => openMessage(toRecord(m), { envelope: deps.envelope, s3: readerS3, bucket: stack.resources.bucket, source: source.name })),
      );
      return { messages, opened };
    },
    close() {
      for (const client of [dynamodb, sqs, s3, reader, readerS3]) client.destroy();
    },
  };
}

/** An SQS SDK message as the Lambda event source presents it. */
export function toRecord(message: Message): SQSRecord {
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {} as SQSRecord['attributes'],
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, { dataType: value.DataType ?? 'String', stringValue: value.StringValue }]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:test',
    awsRegion: 'us-east-1',
  };
}

/** Makes the client's next `times` calls of `commandName` fail like an unavailable service. */
export function failNext(client: SQSClient | S3Client | DynamoDBClient, commandName: string, times = 1): void {
  let left = times;
  // The stacks differ only in their command types; this middleware reads none of them.
  (client.middlewareStack as unknown as SQSClient['middlewareStack']).add(
    (next, context) => async (args) => {
      if (context.commandName === commandName && left > 0) {
        left -= 1;
        throw Object.assign(new Error('injected failure'), { name: 'ServiceUnavailable', $fault: 'server' });
      }
      return next(args);
    },
    { step: 'initialize', name: `fail-${commandName}-${Math.random()}` },
  );
}

/** Captures what Powertools writes to stdout and stderr (logs and EMF) while `act` runs. */
export async function captureOutput<T>(act: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
  try {
    const result = await act();
    return { result, lines: chunks.join('').split('\n').filter((l) => l.length > 0) };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** Real Powertools logger and metrics for a source (what production uses). */
export function telemetry(source: string, options: { quiet?: boolean } = {}): { logger: Logger; metrics: Metrics } {
  const logger = new Logger({ serviceName: 'hookgate', persistentKeys: { source }, ...(options.quiet ? { logLevel: 'SILENT' as const } : {}) });
  // Metrics has no per-instance switch; the env flag is read once, in the constructor.
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  if (options.quiet) process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const metrics = new Metrics({ namespace: 'Hookgate/test', serviceName: 'hookgate', defaultDimensions: { source } });
  if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
  else process.env.POWERTOOLS_METRICS_DISABLED = previous;
  return { logger, metrics };
}
