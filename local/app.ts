import { constants } from 'node:fs';
import { access, appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type EnvironmentConfig, inlineSecretsOf, namedSources } from '../lambda/config/schema';
import { createEnvelope } from '../lambda/ingest/envelope';
import { createLocalKms, type LocalKms, localKeyring } from './kms';
import { moveToDeadLetterQueue } from '../lambda/ingest/dead-letter';
import { deletePayload, openMessage } from '../lambda/ingest/message';
import { createProcessorHandler } from '../lambda/processor/batch';
import { defineHandlers, type EventHandler, type HandlerTable, type Handlers, logMetadata } from '../lambda/processor/api';
import { handlers as routes } from '../lambda/processor/routes';
import { createLogger, type IngestLogger } from '../lambda/runtime/observability';
import { errorName } from '../lambda/runtime/error-names';
import { createLocalVerifier } from './verifier';
import { localClients, type LocalStack, startLocalStack } from './emulators';
import { type Poller, startPoller } from './poller';
import { type LocalServer, type ProxyHandler, startServer } from './server';
import { createSinkHandler } from './sink';
import { UsageError } from './cli';

/**
 * Local mode: the same verifier and processor code as on AWS, wired to embedded emulators.
 *
 * | AWS                                   | here                                           |
 * | ------------------------------------- | ---------------------------------------------- |
 * | API Gateway REST proxy + Lambda       | local/server.ts building real proxy events     |
 * | DynamoDB, SQS, S3                     | dynalite, fauxqs (local/emulators.ts)          |
 * | KMS                                   | a local key behind the same keyring interface  |
 * | SQS event source mapping              | local/poller.ts, one per source                |
 */

/**
 * The verifier's timeout, as the stack sets it (15 s, under API Gateway's 29 s); the dedupe
 * lease is sized from the context's remaining time.
 */
export const VERIFIER_TIMEOUT_MS = 15_000;

/** Options of {@link startLocal}. */
export interface LocalOptions {
  /** A parsed config, defaults applied (loadConfig). */
  readonly config: EnvironmentConfig;
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** Append one JSON line per event the default processor handles (docs/local.md). */
  readonly sink?: string;
  /** The processors' routes. @default the table in lambda/processor/routes.ts */
  readonly routes?: HandlerTable;
  /** Work queue visibility timeout. @default 6x each source's processor timeout, as the stack sets */
  readonly visibilityTimeoutSeconds?: number;
  /** Long-poll wait of the pollers. @default 20 */
  readonly waitTimeSeconds?: number;
  /** Logger of each source's verifier and processor, and of the plumbing (`local`). @default a Powertools Logger per source */
  readonly logger?: (source: string) => IngestLogger;
  /** The local KMS behind every envelope (pass one to read its call counts). @default a fresh one */
  readonly kms?: LocalKms;
  /**
   * Called with each AWS client the app creates, before first use, and which side uses it
   * (bench/: SDK middleware that counts calls per service and operation). @default none
   */
  readonly instrument?: (client: LocalClient, side: 'verifier' | 'processor') => void;
}

/** An AWS SDK client created by the local app. */
export type LocalClient = DynamoDBClient | SQSClient | S3Client;

/** A running local hookgate. */
export interface LocalApp {
  /** Base URL, for example `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly port: number;
  /** Each source's webhook URL. */
  readonly sources: readonly { readonly name: string; readonly url: string }[];
  readonly stack: LocalStack;
  /** Stops the server (in-flight requests finish), the pollers (in-flight batches finish), then the emulators. */
  stop(): Promise<void>;
}


/** Fails early, with the path, when the sink cannot be written. */
async function checkSink(file: string): Promise<void> {
  try {
    await access(dirname(file), constants.W_OK);
    await appendFile(file, '', { mode: 0o600 });
  } catch {
    throw new UsageError(`--sink ${file}: cannot write there (does the directory exist?)`);
  }
}

/** The processors to run: the routes, with the default handler writing the sink when asked. */
function processors(options: LocalOptions): Handlers {
  const table = options.routes ?? routes.table;
  if (options.sink === undefined) return defineHandlers(table);
  const sink = createSinkHandler(options.sink);
  const fallback: EventHandler = async (event, context) => {
    await sink(event, context);
    await logMetadata(event, context);
  };
  return defineHandlers(table, { fallback });
}

/** Starts the whole path on this machine. */
export async function startLocal(options: LocalOptions): Promise<LocalApp> {
  const sources = namedSources(options.config);
  if (options.sink !== undefined) await checkSink(options.sink);
  const loggerFor = options.logger ?? ((name: string) => createLogger(name));
  const plumbing = loggerFor('local');
  const stack = await startLocalStack({
    sources,
    ...(options.visibilityTimeoutSeconds !== undefined ? { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds } : {}),
  });
  // One local key for the run: what a verifier seals, the processor of its source opens.
  const envelope = createEnvelope(localKeyring(options.kms ?? createLocalKms()));
  const clients = localClients(stack.endpoints);
  const s3 = new S3Client(clients.s3);
  options.instrument?.(s3, 'processor');
  const handlers = processors(options);
  const verifiers = new Map<string, ProxyHandler>();
  const closers: (() => void)[] = [];
  const pollers: Poller[] = [];
  let server: LocalServer | undefined;

  const stop = async (): Promise<void> => {
    await server?.close();
    await Promise.all(pollers.map((p) => p.stop()));
    for (const close of closers) close();
    s3.destroy();
    await stack.stop();
  };

  try {
    for (const source of sources) {
      const logger = loggerFor(source.name);
      const verifier = createLocalVerifier({
        source,
        secrets: inlineSecretsOf(source),
        endpoints: stack.endpoints,
        resources: stack.resources,
        envelope,
        logger,
        dedupeTtlDays: options.config.dedupeTtlDays,
        ...(options.instrument !== undefined ? { instrument: (client: LocalClient) => options.instrument?.(client, 'verifier') } : {}),
      });
      closers.push(() => verifier.close());
      verifiers.set(source.name, verifier);
      const queues = stack.resources.queues[source.name];
      // A client per poller: a long poll holds a socket for up to 20 s, and deletes must never
      // wait behind other sources' polls in a shared pool.
      const sqs = new SQSClient(clients.sqs);
      options.instrument?.(sqs, 'processor');
      closers.push(() => sqs.destroy());
      const bucket = stack.resources.bucket;
      const processor = createProcessorHandler({
        open: (record) => openMessage(record, { envelope, s3, bucket, source: source.name }),
        release: (message) => deletePayload(message, { s3, bucket }),
        deadLetter: (record, reason) => moveToDeadLetterQueue(record, reason, { sqs, queueUrl: queues?.dlqUrl ?? '' }),
        handlers,
        logger,
      });
      pollers.push(
        await startPoller({
          sqs,
          queueUrl: queues?.queueUrl ?? '',
          handler: processor,
          functionName: `hookgate-processor-${source.name}`,
          batchSize: source.batchSize,
          functionTimeoutMs: source.processorTimeoutSeconds * 1000,
          ...(options.waitTimeSeconds !== undefined ? { waitTimeSeconds: options.waitTimeSeconds } : {}),
          // invoke: the batch stays for retry; receive/delete: the queue was unreachable.
          onError: (what, name) => plumbing.warn(`local poller: ${what} failed`, { source: source.name, error: name }),
        }),
      );
    }
    try {
      server = await startServer({
        verifiers,
        port: options.port,
        functionTimeoutMs: VERIFIER_TIMEOUT_MS,
        onHandlerError: (source, name) => plumbing.error('local API: verifier failed (502)', { source, error: name }),
        onServerError: (name) => plumbing.error('local API: request failed (500)', { error: name }),
      });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw code === 'EADDRINUSE' ? new UsageError(`port ${options.port} is in use on 127.0.0.1; pass --port <n> (or --port 0 for a free one)`) : err;
    }
  } catch (err) {
    await stop().catch((stopErr: unknown) => plumbing.error('local mode: cleanup failed', { error: errorName(stopErr) }));
    throw err;
  }

  const url = server.url;
  return {
    url,
    port: server.port,
    sources: sources.map((s) => ({ name: s.name, url: `${url}/webhooks/${s.name}` })),
    stack,
    stop,
  };
}
