/**
 * The floor: what an accepted webhook costs in AWS calls alone. Per event, the verifier's dedupe
 * (`createDedupe` of lambda/ingest/dedupe-store.ts: Powertools' DynamoDBPersistenceLayer, the
 * conditional PutItem of an in-progress record, then the UpdateItem to COMPLETED) around one
 * SendMessage of a message of the size and attributes the verifier sent, `connections` loops at
 * once, against the same emulators; no HTTP, no verification, no encryption. Going through the
 * same factory as the verifier, the floor makes whatever calls an idempotency upgrade makes.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createDedupe, type Dedupe } from '../../lambda/ingest/dedupe-store';
import { lambdaContext } from '../../local/apigateway';
import { type LocalApp, VERIFIER_TIMEOUT_MS } from '../../local/app';
import { localClients } from '../../local/emulators';
import type { SentShape } from '../calls';

/** What one floor event needs. */
export interface FloorEventDeps {
  /** The verifier's dedupe over the verifier's table. */
  readonly dedupe: Dedupe;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly body: string;
  readonly attributes: SentShape['attributes'];
}

/** One floor event: the dedupe's writes around one SendMessage, as the verifier does them. */
export function floorEvent(deps: FloorEventDeps): (dedupeKey: string) => Promise<void> {
  return async (dedupeKey) => {
    const context = lambdaContext('hookgate-bench-floor', VERIFIER_TIMEOUT_MS);
    const outcome = await deps.dedupe.once(dedupeKey, context, () =>
      deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.queueUrl, MessageBody: deps.body, MessageAttributes: deps.attributes })),
    );
    // Keys are unique: anything but a recorded first run means the floor did less than an event.
    if (outcome.kind !== 'first' || !outcome.recorded) throw new Error(`floor event ${dedupeKey}: ${outcome.kind}`);
  };
}

/** One floor segment, measured. */
export interface FloorSegment {
  readonly events: number;
  readonly seconds: number;
  /** CPU of this process (the floor's clients and the in-process emulators), ms. */
  readonly cpuMs: number;
  readonly latencies: number[];
  readonly errors: number;
}

export interface Floor {
  readonly messageBytes: number;
  /** Runs `connections` loops for `seconds`. */
  segment(seconds: number): Promise<FloorSegment>;
  close(): Promise<void>;
}

/** A floor against the app's emulators and table, with messages shaped like `sample`. */
export async function createFloor(app: LocalApp, connections: number, sample: SentShape, dedupeTtlDays: number): Promise<Floor> {
  const clients = localClients(app.stack.endpoints);
  const dynamodb = new DynamoDBClient(clients.dynamodb);
  const sqs = new SQSClient(clients.sqs);
  // Its own queue: nobody consumes it, as in the e2e run nobody else consumes the source's queue.
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'hookgate-bench-floor', Attributes: { MaximumMessageSize: String(1024 * 1024) } }));
  if (QueueUrl === undefined) throw new Error('floor: CreateQueue returned no URL');
  const body = randomBytes(Math.ceil((sample.bodyBytes * 3) / 4)).toString('base64').slice(0, sample.bodyBytes);
  // As the local verifier builds it (local/verifier.ts), with the source's environment's TTL.
  const dedupe = createDedupe({ client: dynamodb, tableName: app.stack.resources.tableName, ttlDays: dedupeTtlDays });
  const oneEvent = floorEvent({ dedupe, sqs, queueUrl: QueueUrl, body, attributes: sample.attributes });
  let seq = 0;

  const segment: Floor['segment'] = async (seconds) => {
    const until = performance.now() + seconds * 1000;
    const latencies: number[] = [];
    let errors = 0;
    const loop = async (): Promise<number> => {
      let count = 0;
      while (performance.now() < until) {
        const started = performance.now();
        try {
          await oneEvent(`floor:${(seq += 1)}`);
          count += 1;
          latencies.push(performance.now() - started);
        } catch {
          errors += 1;
        }
      }
      return count;
    };
    const started = performance.now();
    const cpu = process.cpuUsage();
    const counts = await Promise.all(Array.from({ length: connections }, loop));
    const used = process.cpuUsage(cpu);
    return { events: counts.reduce((a, b) => a + b, 0), seconds: (performance.now() - started) / 1000, cpuMs: (used.user + used.system) / 1000, latencies, errors };
  };

  return {
    messageBytes: Buffer.byteLength(body),
    segment,
    async close() {
      await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
      dynamodb.destroy();
      sqs.destroy();
    },
  };
}
