import { constants } from 'node:fs';
import { access, appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { processorBatch } from '../lambda/config/processor-batch';
import { type EnvironmentConfig, inlineSecretsOf, namedSources } from '../lambda/config/schema';
import { createEnvelope } from '../lambda/ingest/envelope';
import { createLocalKms, type LocalKms, localKeyring } from './kms';
import type { SQSRecord } from 'aws-lambda';
import { archiveBatch } from '../lambda/archive/writer';
import { moveToDeadLetterQueue } from '../lambda/ingest/dead-letter';
import { deletePayload, openMessage } from '../lambda/ingest/message';
import { createProcessorHandler } from '../lambda/processor/batch';
import { defineHandlers, type EventHandler, type HandlerTable, type Handlers, logMetadata } from '../lambda/processor/api';
import { handlers as routes } from '../lambda/processor/routes';
import { createLogger, type IngestLogger } from '../lambda/runtime/observability';
import { errorName } from '../lambda/runtime/error-names';
import { createLocalVerifier } from './verifier';
import { localClients, type LocalStack, startLocalStack } from './emulators';
import { MAX_RECEIVE_BATCH, type Poller, startPoller } from './poller';
import { type LocalServer, type ProxyHandler, startServer } from './server';
import { createSinkHandler } from './sink';
import { UsageError } from './cli';
import { type DeliveryHooks, type LocalDestination, localDestinationProblems, type SourceDestinations, startSourceDestinations } from './destinations';
import { createSharedLocalKms, type LocalKeyFile, localAuditPath, localKeyPath, type LocalState, localStatePath, removeLocalState, writeLocalKeyFile, writeLocalState } from './state';
import type { NamedDestination } from '../lambda/config/destinations';

/**
 * Local mode: the same verifier and processor code as on AWS, wired to embedded emulators.
 *
 * | AWS                                   | here                                           |
 * | ------------------------------------- | ---------------------------------------------- |
 * | API Gateway REST proxy + Lambda       | local/server.ts building real proxy events     |
 * | DynamoDB, SQS, S3                     | dynalite, fauxqs (local/emulators.ts)          |
 * | KMS                                   | a local key behind the same keyring interface  |
 * | SQS event source mapping              | local/poller.ts, one per source and destination |
 * | archive bucket                        | a fauxqs bucket, written by each source's processor |
 * | destinations (fan-out, delivery)      | local/destinations.ts                          |
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
  /** Folder a `lambda` destination's `entry` is relative to. @default process.cwd() */
  readonly projectRoot?: string;
  /** Test hooks of each `http` destination's delivery engine (clock, jitter, target, metrics). @default none */
  readonly deliveryHooks?: (destination: NamedDestination) => DeliveryHooks;
  /**
   * Write the state file (local/state.ts) in this folder when ready, and remove it on stop. With
   * no `kms` given, the run's local KMS key goes to a key file there too. @default no state file
   */
  readonly stateDir?: string;
  /** The config file's path, recorded in the state file. */
  readonly configPath?: string;
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
  /** Every destination with its target and queues. */
  readonly destinations: readonly LocalDestination[];
  /** The state file, when `stateDir` was given (removed by stop). */
  readonly statePath?: string;
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

/** The state file's content (local/state.ts) for a ready app. */
function stateOf(options: LocalOptions, stack: LocalStack, server: LocalServer, keyFile: string | undefined, stateDir: string): LocalState {
  const { resources } = stack;
  const sources = Object.fromEntries(
    Object.entries(resources.queues).map(([name, queues]) => {
      const destinations = Object.fromEntries(
        Object.entries(resources.destinations[name] ?? {}).map(([dest, q]) => {
          const config = options.config.sources[name]?.destinations?.[dest];
          return [dest, { type: config?.type ?? 'http', ...q, ...(config?.events === undefined ? {} : { events: config.events }) }];
        }),
      );
      return [name, { ...queues, destinations }];
    }),
  );
  return {
    version: 1,
    pid: process.pid,
    port: server.port,
    url: server.url,
    ...(options.configPath !== undefined ? { config: options.configPath } : {}),
    endpoints: stack.endpoints,
    region: 'us-east-1',
    resources: {
      dedupeTable: resources.tableName,
      ...(resources.deliveryTableName !== undefined ? { deliveryTable: resources.deliveryTableName } : {}),
      bucket: resources.bucket,
      archiveBucket: resources.archiveBucket,
      sources,
    },
    auditFile: localAuditPath(server.port, stateDir),
    ...(keyFile !== undefined ? { keyFile } : {}),
  };
}

/** Starts the whole path on this machine. */
export async function startLocal(options: LocalOptions): Promise<LocalApp> {
  const sources = namedSources(options.config);
  const problems = localDestinationProblems(sources);
  if (problems.length > 0) throw new UsageError(`these destinations cannot run in local mode:\n  - ${problems.join('\n  - ')}`);
  if (options.sink !== undefined) await checkSink(options.sink);
  const loggerFor = options.logger ?? ((name: string) => createLogger(name));
  const plumbing = loggerFor('local');
  const stack = await startLocalStack({
    sources,
    ...(options.visibilityTimeoutSeconds !== undefined ? { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds } : {}),
  });
  // One local key for the run: what a verifier seals, the processor of its source opens. With a
  // state file, the key is shared with other local commands through a key file.
  const shared = options.kms === undefined && options.stateDir !== undefined ? createSharedLocalKms() : undefined;
  const envelope = createEnvelope(localKeyring(options.kms ?? shared?.kms ?? createLocalKms()));
  const clients = localClients(stack.endpoints);
  const s3 = new S3Client(clients.s3);
  options.instrument?.(s3, 'processor');
  const handlers = processors(options);
  const verifiers = new Map<string, ProxyHandler>();
  const closers: (() => void)[] = [];
  const pollers: Poller[] = [];
  const fanOuts: SourceDestinations[] = [];
  const stateFiles: string[] = [];
  let server: LocalServer | undefined;

  const stop = async (): Promise<void> => {
    removeLocalState(stateFiles);
    await server?.close();
    await Promise.all(pollers.map((p) => p.stop()));
    await Promise.all(fanOuts.map((d) => d.stop()));
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
      // The source's processor (handlers or fan-out) archives each batch first, as on AWS; destinations never do.
      const archive = (records: readonly SQSRecord[]) => archiveBatch(records, { s3, bucket: stack.resources.archiveBucket, payloadBucket: bucket, source: source.name }).then(() => undefined);
      const withDestinations = source.destinations !== undefined && Object.keys(source.destinations).length > 0;
      const destinations = withDestinations
        ? await startSourceDestinations({
            source,
            endpoints: stack.endpoints,
            resources: stack.resources,
            envelope,
            s3,
            archive,
            logger,
            historyDays: options.config.deliveryHistoryDays,
            projectRoot: options.projectRoot ?? process.cwd(),
            ...(options.waitTimeSeconds !== undefined ? { waitTimeSeconds: options.waitTimeSeconds } : {}),
            ...(options.instrument !== undefined ? { instrument: (client: LocalClient) => options.instrument?.(client, 'processor') } : {}),
            ...(options.deliveryHooks !== undefined ? { hooks: options.deliveryHooks } : {}),
            onPollerError: (destination, what, name) => plumbing.warn(`local poller: ${what} failed`, { source: source.name, destination, error: name }),
          })
        : undefined;
      if (destinations !== undefined) fanOuts.push(destinations);
      const processor = destinations?.fanOut ?? createProcessorHandler({
        open: (record) => openMessage(record, { envelope, s3, bucket, source: source.name }),
        release: (message) => deletePayload(message, { s3, bucket }),
        deadLetter: (record, reason) => moveToDeadLetterQueue(record, reason, { sqs, queueUrl: queues?.dlqUrl ?? '' }),
        handlers,
        logger,
        archive,
      });
      pollers.push(
        await startPoller({
          sqs,
          queueUrl: queues?.queueUrl ?? '',
          handler: processor,
          functionName: `hookgate-processor-${source.name}`,
          // One ReceiveMessage returns at most 10 records and the poller has no batching window:
          // local batches stop at 10 where Lambda's fill up to the archive's batch.
          batchSize: Math.min(MAX_RECEIVE_BATCH, processorBatch(source, options.config.archive).batchSize),
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
  let statePath: string | undefined;
  if (options.stateDir !== undefined) {
    const keyFile = shared === undefined ? undefined : localKeyPath(server.port, options.stateDir);
    statePath = localStatePath(server.port, options.stateDir);
    stateFiles.push(statePath, ...(keyFile === undefined ? [] : [keyFile]));
    try {
      if (keyFile !== undefined) writeLocalKeyFile(keyFile, shared?.keyFile as LocalKeyFile);
      writeLocalState(statePath, stateOf(options, stack, server, keyFile, options.stateDir));
    } catch (err) {
      await stop();
      throw new UsageError(`cannot write the local state file in ${options.stateDir} (${errorName(err)})`);
    }
  }
  return {
    url,
    port: server.port,
    sources: sources.map((s) => ({ name: s.name, url: `${url}/webhooks/${s.name}` })),
    destinations: fanOuts.flatMap((d) => d.destinations),
    ...(statePath !== undefined ? { statePath } : {}),
    stack,
    stop,
  };
}
