import type { SQSRecord } from 'aws-lambda';
import { createCircuitStore, type CircuitStore } from '../../lambda/delivery/circuit';
import { createDeliveryHandler, type DeliveryQueue } from '../../lambda/delivery/engine';
import { createHistoryStore, type HistoryStore } from '../../lambda/delivery/history';
import { createDeliveryQueue } from '../../lambda/delivery/queue';
import { type Poller, startPoller } from '../../local/poller';
import { memoryLogger } from '../processor/fixtures';
import { answer, memoryMetrics, scriptedTarget, seeded, testDestination } from './harness';
import { createQueues, drain, type Emulators, openRecord, queued, sendEvent, SOURCE, startEmulators, TABLE } from './rig';
import { DEAD_LETTER_REASON } from '../../lambda/ingest/dead-letter';

/**
 * The delivery invariant: every event reaches the destination or its DLQ, never neither, under
 * concurrent invocations and crashes between the steps (an invocation that dies after its
 * attempts, a target that delivered but threw, SQS, DynamoDB and history calls that fail).
 * Real time, real emulated queues and table; the randomness is seeded.
 */

let emulators: Emulators;
const pollers: Poller[] = [];

beforeAll(async () => {
  emulators = await startEmulators();
}, 30_000);
afterAll(async () => {
  await Promise.all(pollers.map((p) => p.stop()));
  await emulators.stop();
});

const until = async (check: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
};

class Crash extends Error {
  constructor(where: string) {
    super(`injected crash: ${where}`);
    this.name = 'Crash';
  }
}

describe('delivery invariant', () => {
  it('delivers or dead-letters every event under four concurrent pollers and crashes between the steps', async () => {
    const { sqs, dynamodb } = emulators;
    const { queueUrl, dlqUrl } = await createQueues(sqs, 1);
    const destination = testDestination('chaos', SOURCE, {
      retryWindowHours: 1,
      backoffBaseSeconds: 1,
      maxBackoffSeconds: 1,
      timeoutSeconds: 1,
      batchSize: 5,
      circuitBreaker: { failureThreshold: 6, openSeconds: 1 },
    });
    const random = seeded(10);
    const chance = (p: number): boolean => random() < p;
    const ids = Array.from({ length: 40 }, (_, i) => `evt_chaos_${i}`);
    // Per event: how many attempts fail first, or whether the receiver refuses it for good.
    const plan = new Map(ids.map((id, i) => [`${SOURCE}:${id}`, i % 10 === 0 ? ('reject' as const) : i % 3]));
    const failuresLeft = new Map([...plan].map(([key, p]) => [key, p === 'reject' ? 0 : p]));
    const received = new Set<string>();

    const target = scriptedTarget((event) => {
      const p = plan.get(event.dedupeKey);
      if (p === 'reject') return answer.status(422, 'reject');
      const left = failuresLeft.get(event.dedupeKey) ?? 0;
      if (left > 0) {
        failuresLeft.set(event.dedupeKey, left - 1);
        return chance(0.5) ? answer.status(503, 'retry') : Promise.reject(new Crash('target'));
      }
      received.add(event.dedupeKey);
      // The receiver has it, but the answer never makes it back.
      if (chance(0.15)) throw new Crash('after delivery');
      return answer.ok();
    });
    const realQueue = createDeliveryQueue({ sqs, queueUrlOf: () => queueUrl, deadLetterQueueUrl: dlqUrl });
    const queue: DeliveryQueue = {
      changeVisibility: (record, seconds) => (chance(0.2) ? Promise.reject(new Crash('visibility')) : realQueue.changeVisibility(record, seconds)),
      deadLetter: async (record, reason) => {
        if (chance(0.15)) throw new Crash('before the DLQ');
        await realQueue.deadLetter(record, reason);
        if (chance(0.15)) throw new Crash('after the DLQ');
      },
    };
    const realCircuit = createCircuitStore({ client: dynamodb, tableName: TABLE }, { source: SOURCE, destination: destination.name });
    const circuit = Object.fromEntries(
      Object.entries(realCircuit).map(([name, method]) => [name, (...args: unknown[]) => (chance(0.1) ? Promise.reject(new Crash(`circuit ${name}`)) : (method as (...a: unknown[]) => unknown)(...args))]),
    ) as unknown as CircuitStore;
    const realHistory = createHistoryStore({ client: dynamodb, tableName: TABLE, days: 1 });
    const history: HistoryStore = { ...realHistory, record: (a) => (chance(0.2) ? Promise.reject(new Crash('history')) : realHistory.record(a)) };
    const metrics = memoryMetrics();
    const engine = createDeliveryHandler({ destination, open: openRecord, target, circuit, history, queue, metrics, logger: memoryLogger(), random });
    const invocationErrors: string[] = [];
    const handler = async (event: { Records: SQSRecord[] }, context: Parameters<typeof engine>[1]) => {
      const response = await engine(event, context);
      // The invocation dies after its work, before Lambda hears the answer: nothing is deleted.
      if (chance(0.2)) throw new Crash('before returning');
      return response;
    };
    for (const id of ids) await sendEvent(sqs, queueUrl, id);

    for (let i = 0; i < 4; i += 1) {
      pollers.push(
        await startPoller({ sqs, queueUrl, handler, functionName: `chaos-${i}`, batchSize: 5, functionTimeoutMs: 10_000, waitTimeSeconds: 1, onError: (what, name) => void invocationErrors.push(`${what}:${name}`) }),
      );
    }
    // Generous: crashed invocations leave their messages for the visibility timeout, and a loaded CI machine is slow.
    await until(async () => (await queued(sqs, queueUrl)) === 0, 75_000);
    await Promise.all(pollers.splice(0).map((p) => p.stop()));

    const dead = await drain(sqs, dlqUrl);
    const deadKeys = new Set(dead.map((m) => m.MessageAttributes?.dedupeKey?.StringValue));
    const keys = [...plan.keys()];
    expect(keys.filter((key) => !received.has(key) && !deadKeys.has(key))).toEqual([]);
    expect(keys.filter((key) => plan.get(key) === 'reject')).toEqual(keys.filter((key) => deadKeys.has(key)));
    expect(keys.filter((key) => plan.get(key) !== 'reject').every((key) => received.has(key))).toBe(true);
    expect(new Set(dead.map((m) => m.MessageAttributes?.[DEAD_LETTER_REASON]?.StringValue))).toEqual(new Set(['rejected-422']));
    // The crashes did happen.
    expect(invocationErrors.filter((e) => e === 'invoke:Crash').length).toBeGreaterThan(0);
  }, 100_000);
});
