import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DestinationConfig } from '../lambda/config/destinations';
import type { NamedSource } from '../lambda/config/schema';
import { type Endpoints, localClients, type LocalQueues } from './endpoints';

/**
 * Embedded emulators for the local mode and the end-to-end tests: dynalite (DynamoDB) in this
 * process, fauxqs (SQS and S3) in a child process. Both listen on 127.0.0.1 on a free port and
 * are reached through the real AWS SDK v3 clients with an `endpoint` override.
 */

// Endpoints and client configs live in ./endpoints (the shipped command uses them); re-exported
// here for the tests and benches that start emulators.
export { type Endpoints, localClients, type LocalQueues };

export interface Emulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts dynalite in this process on a free loopback port. */
export async function startDynamo(): Promise<Emulator> {
  // dynalite has no type definitions; its factory returns a node http.Server.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS package without types
  const dynalite = require('dynalite') as (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => import('node:http').Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Starts fauxqs (SQS and S3) in a child process on a free loopback port. */
export async function startFauxqs(): Promise<Emulator> {
  const child = spawn(process.execPath, [join(__dirname, 'fauxqs-server.mjs')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    // Its own process group: a terminal's Ctrl-C reaches only the parent, which stops the
    // pollers before the emulator. It still exits with its parent (its stdin closes).
    detached: true,
  });
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line as string),
    once(child, 'exit').then(([code]) => {
      throw new Error(`fauxqs exited with code ${String(code)} before it was ready`);
    }),
  ]);
  const { port } = JSON.parse(first) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface LocalResources {
  readonly tableName: string;
  readonly bucket: string;
  /** The archive bucket: every accepted event's sealed envelope, written by its source's processor (lambda/archive). */
  readonly archiveBucket: string;
  /** Work queue and DLQ per source name. */
  readonly queues: Readonly<Record<string, LocalQueues>>;
  /** The delivery table (circuit state and delivery history, pk/sk): created when a source has destinations. */
  readonly deliveryTableName?: string;
  /** Queue and DLQ of each destination, by source name then destination name. */
  readonly destinations: Readonly<Record<string, Readonly<Record<string, LocalQueues>>>>;
}

export interface ResourceOptions {
  /** Sources with their processor settings and destinations, from a parsed config. */
  readonly sources: readonly (Pick<NamedSource, 'name' | 'maxReceiveCount' | 'processorTimeoutSeconds'> & { readonly destinations?: Readonly<Record<string, DestinationConfig>> })[];
  /** Visibility timeout of every queue (work and destination queues), seconds. @default 6x each function's timeout, as the stack sets */
  readonly visibilityTimeoutSeconds?: number;
}

/** The name of the local delivery table. */
export const DELIVERY_TABLE = 'hookgate-delivery';

/** Receives before SQS moves a delivery message to the DLQ by itself, as the stack sets (DELIVERY_MAX_RECEIVE_COUNT). */
const DELIVERY_MAX_RECEIVE_COUNT = 1000;

/**
 * A destination function's timeout, seconds, as the stack sets it (lib/constructs/destination-cell.ts
 * `deliveryTimeoutSeconds`, not imported: it would load the CDK): every attempt of a batch and a margin.
 */
export function localDeliveryTimeoutSeconds(destination: Pick<DestinationConfig, 'batchSize' | 'timeoutSeconds'>): number {
  return Math.min(900, destination.batchSize * (destination.timeoutSeconds + 1) + 10);
}

/** Creates a queue and its DLQ; the queue's redrive policy moves a message there after `maxReceiveCount` receives. */
async function createQueuePair(sqs: SQSClient, name: string, visibilitySeconds: number, maxReceiveCount: number): Promise<LocalQueues> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq`, Attributes: { MessageRetentionPeriod: String(14 * 86_400) } }));
  const dlqUrl = dlq.QueueUrl as string;
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibilitySeconds),
        MaximumMessageSize: String(1024 * 1024),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl as string, dlqUrl };
}

/** Creates the delivery table as the stack does: pk and sk strings (TTL is not emulated). */
export async function createDeliveryTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
}

/** Creates each destination's queue and DLQ, by destination name. */
async function createDestinationQueues(sqs: SQSClient, source: ResourceOptions['sources'][number], visibilityTimeoutSeconds: number | undefined): Promise<Record<string, LocalQueues>> {
  const out: Record<string, LocalQueues> = {};
  for (const [name, destination] of Object.entries(source.destinations ?? {})) {
    const visibility = visibilityTimeoutSeconds ?? 6 * localDeliveryTimeoutSeconds(destination);
    const bundled = destination.type === 'lambda' && destination.entry !== undefined;
    const maxReceiveCount = destination.type === 'lambda' && bundled ? destination.maxReceiveCount : DELIVERY_MAX_RECEIVE_COUNT;
    out[name] = await createQueuePair(sqs, `hookgate-${source.name}_${name}`, visibility, maxReceiveCount);
  }
  return out;
}

/**
 * Creates what the stack would create: the dedupe table, the payload and archive buckets, per source a work
 * queue whose redrive policy moves a message to its DLQ after maxReceiveCount receives, and
 * for sources with destinations the delivery table and each destination's queue and DLQ.
 */
export async function createResources(endpoints: Endpoints, options: ResourceOptions): Promise<LocalResources> {
  const clients = localClients(endpoints);
  const dynamodb = new DynamoDBClient(clients.dynamodb);
  const sqs = new SQSClient(clients.sqs);
  const s3 = new S3Client(clients.s3);
  try {
    const tableName = 'hookgate-dedupe';
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    const bucket = 'hookgate-payloads';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const archiveBucket = 'hookgate-archive';
    await s3.send(new CreateBucketCommand({ Bucket: archiveBucket }));
    const queues: Record<string, LocalQueues> = {};
    const destinations: Record<string, Record<string, LocalQueues>> = {};
    for (const source of options.sources) {
      const visibility = options.visibilityTimeoutSeconds ?? 6 * source.processorTimeoutSeconds;
      queues[source.name] = await createQueuePair(sqs, `hookgate-${source.name}`, visibility, source.maxReceiveCount);
      if (source.destinations !== undefined && Object.keys(source.destinations).length > 0) {
        destinations[source.name] = await createDestinationQueues(sqs, source, options.visibilityTimeoutSeconds);
      }
    }
    const withDestinations = Object.keys(destinations).length > 0;
    if (withDestinations) await createDeliveryTable(dynamodb, DELIVERY_TABLE);
    return { tableName, bucket, archiveBucket, queues, destinations, ...(withDestinations ? { deliveryTableName: DELIVERY_TABLE } : {}) };
  } finally {
    dynamodb.destroy();
    sqs.destroy();
    s3.destroy();
  }
}

export interface LocalStack {
  readonly endpoints: Endpoints;
  readonly resources: LocalResources;
  stop(): Promise<void>;
}

/** Starts both emulators and creates the resources. */
export async function startLocalStack(options: ResourceOptions): Promise<LocalStack> {
  const [dynamo, fauxqs] = await Promise.all([startDynamo(), startFauxqs()]);
  const endpoints = { dynamodb: dynamo.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint };
  try {
    const resources = await createResources(endpoints, options);
    return { endpoints, resources, stop: async () => void (await Promise.all([dynamo.stop(), fauxqs.stop()])) };
  } catch (err) {
    await Promise.all([dynamo.stop(), fauxqs.stop()]);
    throw err;
  }
}
