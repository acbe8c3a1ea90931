import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createDeliveryHandler } from '../../lambda/delivery/engine';
import { createCircuitStore, pauseDestination, readCircuit, resumeDestination } from '../../lambda/delivery/circuit';
import { attemptsOf } from '../../lambda/delivery/history';
import { DEAD_LETTER_REASON } from '../../lambda/ingest/dead-letter';
import { EncryptionError } from '../../lambda/ingest/errors';
import { deferred, lambdaContext } from '../ingest/helpers';
import { answer, scriptedTarget } from './harness';
import { createRig, drain, type Emulators, HEADERS, bodyOf, queued, receive, replayAttribute, type Rig, type RigOverrides, SOURCE, startEmulators, TABLE } from './rig';
import type { DestinationConfigInput } from '../../lambda/config/destinations';

let emulators: Emulators;

beforeAll(async () => {
  emulators = await startEmulators();
}, 30_000);
afterAll(async () => {
  await emulators.stop();
});

let n = 0;
const rig = (fields: Partial<DestinationConfigInput>, overrides: RigOverrides): Promise<Rig> => createRig(emulators, `dest-${(n += 1)}`, fields, overrides);
const table = () => ({ client: emulators.dynamodb, tableName: TABLE });
const ref = (r: Rig) => ({ source: SOURCE, destination: r.destination.name });
const dead = async (r: Rig) => (await drain(emulators.sqs, r.dlqUrl)).map((m) => ({ body: m.Body, reason: m.MessageAttributes?.[DEAD_LETTER_REASON]?.StringValue, dedupeKey: m.MessageAttributes?.dedupeKey?.StringValue }));
const left = (r: Rig) => queued(emulators.sqs, r.queueUrl);
const top = (): number => 0.999_999;
const bottom = (): number => 0;

describe('delivery engine', () => {
  it('retries 5xx answers after the backoff, then delivers, with one history record per attempt and no body anywhere', async () => {
    const target = scriptedTarget((_e, _c, call) => (call < 3 ? answer.status(503, 'retry') : answer.ok()));
    const r = await rig({}, { target, random: top });
    await r.send('evt_500');

    await r.tick();
    await r.advance(30);
    await r.tick();
    await r.advance(60);
    await r.tick();

    expect(target.calls.map((c) => c.context)).toEqual([1, 2, 3].map((attempt) => ({ attempt, timeoutMs: 15_000 })));
    expect(target.calls[0]?.event).toEqual({
      source: SOURCE,
      destination: r.destination.name,
      dedupeKey: 'stripe:evt_500',
      eventId: 'evt_500',
      eventType: 'invoice.paid',
      typeSigned: true,
      receivedAt: '2026-12-01T09:59:59.000Z',
      body: bodyOf('evt_500'),
      headers: HEADERS,
    });
    expect(r.visibilities).toEqual([30, 60]);
    expect(r.metrics.counts).toEqual({ DeliveryFailures: 2, Delivered: 1 });
    expect(r.metrics.latencies).toEqual([7, 7, 12]);
    expect(await left(r)).toBe(0);
    expect(await dead(r)).toEqual([]);
    const history = await attemptsOf(table(), 'stripe:evt_500');
    expect(history.map(({ attempt, verdict, statusCode, errorClass, destination }) => ({ attempt, verdict, statusCode, errorClass, destination }))).toEqual([
      { attempt: 1, verdict: 'retry', statusCode: 503, errorClass: 'http-503', destination: r.destination.name },
      { attempt: 2, verdict: 'retry', statusCode: 503, errorClass: 'http-503', destination: r.destination.name },
      { attempt: 3, verdict: 'delivered', statusCode: 200, errorClass: undefined, destination: r.destination.name },
    ]);
    const everything = JSON.stringify([history, r.logger.lines, r.metrics.counts]);
    expect(everything).not.toContain('PHI-MARKER');
    expect(everything).not.toContain('HEADER-VALUE-MARKER');
  });

  it('waits at least what Retry-After asks on a 429, capped at maxBackoffSeconds', async () => {
    const target = scriptedTarget((_e, _c, call) => (call === 1 ? answer.status(429, 'retry', 600) : call === 2 ? answer.status(429, 'retry', 86_400) : answer.ok()));
    const r = await rig({ maxBackoffSeconds: 3600 }, { target, random: bottom });
    await r.send('evt_429');

    await r.tick();
    await r.advance(600);
    await r.tick();
    await r.advance(3600);
    await r.tick();

    expect(r.visibilities).toEqual([600, 3600]);
    expect(target.calls).toHaveLength(3);
    expect(await left(r)).toBe(0);
  });

  it('treats a target that throws as a failed attempt, recording the error class only', async () => {
    const target = scriptedTarget((_e, _c, call) => {
      if (call === 1) throw new TypeError('socket said something about PHI-MARKER');
      return answer.ok();
    });
    const r = await rig({}, { target, random: top });
    await r.send('evt_throw');

    await r.tick();
    await r.advance(30);
    await r.tick();

    const history = await attemptsOf(table(), 'stripe:evt_throw');
    expect(history.map((a) => [a.verdict, a.errorClass])).toEqual([
      ['retry', 'TypeError'],
      ['delivered', undefined],
    ]);
    expect(r.visibilities).toEqual([30]);
    expect(JSON.stringify(r.logger.lines)).not.toContain('PHI-MARKER');
  });

  it('pauses the destination on 410 Gone and keeps the event until it is resumed', async () => {
    const target = scriptedTarget((_e, _c, call) => (call === 1 ? answer.status(410, 'gone') : answer.ok()));
    const r = await rig({}, { target, random: bottom });
    await r.send('evt_gone');

    await r.tick();
    const paused = await readCircuit(table(), ref(r));
    await r.advance(300);
    await r.tick();
    const callsWhilePaused = target.calls.length;
    await resumeDestination(table(), ref(r));
    await r.advance(300);
    await r.tick();

    expect(paused).toMatchObject({ state: 'paused', reason: 'gone' });
    expect(r.metrics.counts.DestinationGone).toBe(1);
    expect(r.visibilities).toEqual([300, 300]);
    expect(callsWhilePaused).toBe(1);
    expect(target.calls).toHaveLength(2);
    expect(await dead(r)).toEqual([]);
    expect(await left(r)).toBe(0);
  });

  it('moves a 400 to the DLQ at once, as received, with a metric', async () => {
    const target = scriptedTarget(() => answer.status(400, 'reject'));
    const r = await rig({}, { target });
    await r.send('evt_400');

    await r.tick();

    const moved = await dead(r);
    expect(moved).toEqual([{ body: expect.any(String), reason: 'rejected-400', dedupeKey: 'stripe:evt_400' }]);
    expect(r.metrics.counts).toEqual({ DeliveryRejected: 1 });
    expect(r.visibilities).toEqual([]);
    expect(await left(r)).toBe(0);
    expect((await attemptsOf(table(), 'stripe:evt_400')).map((a) => a.verdict)).toEqual(['reject']);
  });

  it('moves an event whose host resolved to a refused address to the DLQ at once, with a metric', async () => {
    const target = scriptedTarget(() => answer.refused());
    const r = await rig({}, { target });
    await r.send('evt_ssrf');

    await r.tick();

    expect((await dead(r)).map((m) => m.reason)).toEqual(['refused-address']);
    expect(r.metrics.counts.AddressRefused).toBe(1);
    expect(await left(r)).toBe(0);
  });

  it('moves a record that can never open to the DLQ without an attempt', async () => {
    const target = scriptedTarget(() => answer.ok());
    const r = await rig({}, { target });
    await emulators.sqs.send(new SendMessageCommand({ QueueUrl: r.queueUrl, MessageBody: 'not a hookgate message' }));

    await r.tick();

    expect(await dead(r)).toEqual([{ body: 'not a hookgate message', reason: 'message_format', dedupeKey: undefined }]);
    expect(r.metrics.counts.DeadLettered).toBe(1);
    expect(target.calls).toHaveLength(0);
  });

  it('ends a destination that is down for the whole retry window in the DLQ on time, the last receive not attempted', async () => {
    const target = scriptedTarget(() => answer.status(503, 'retry'));
    const r = await rig({ retryWindowHours: 1, backoffBaseSeconds: 30, maxBackoffSeconds: 600, circuitBreaker: { failureThreshold: 3, openSeconds: 60 } }, { target, random: top });
    await r.send('evt_down');

    let receives = 0;
    while ((await left(r)) > 0 && receives < 300) {
      receives += (await r.tick()).records.length;
      await r.advance(Math.max(1, r.nextDue() ?? 1));
    }

    const [first] = [...r.firstReceives.values()];
    expect(await dead(r)).toEqual([{ body: expect.any(String), reason: 'retries-exhausted', dedupeKey: 'stripe:evt_down' }]);
    expect(r.metrics.counts.RetriesExhausted).toBe(1);
    // The history's last item says so (the command lists the event as failed).
    expect((await attemptsOf(table(), 'stripe:evt_down')).at(-1)).toMatchObject({ verdict: 'retries-exhausted', destination: r.destination.name, latencyMs: 0 });
    expect(r.metrics.counts.CircuitOpened).toBeGreaterThanOrEqual(1);
    expect(target.calls.length).toBeLessThanOrEqual(receives - 1);
    expect(r.clock.now - (first as number)).toBeGreaterThan(3_600_000);
    expect(r.clock.now - (first as number)).toBeLessThan(3_600_000 + 3_000);
    // One item per attempt, then the retries-exhausted item.
    expect(await attemptsOf(table(), 'stripe:evt_down')).toHaveLength(target.calls.length + 1);
  });

  it('checks the window before anything else, so a message that never opens still leaves at its end', async () => {
    let opens = 0;
    const r = await rig(
      { retryWindowHours: 1 },
      {
        target: scriptedTarget(() => answer.ok()),
        open: () => {
          opens += 1;
          return Promise.reject(new EncryptionError());
        },
      },
    );
    await r.send('evt_crash');

    await r.tick();
    await r.advance(3601);
    await r.tick();

    expect(opens).toBe(1);
    expect((await dead(r)).map((m) => m.reason)).toEqual(['retries-exhausted']);
  });

  it('opens the breaker at the threshold, attempts nothing while open, and closes after one successful probe', async () => {
    const target = scriptedTarget((_e, _c, call) => (call <= 3 ? answer.status(502, 'retry') : answer.ok()));
    const r = await rig({ circuitBreaker: { failureThreshold: 3, openSeconds: 60 } }, { target, random: top });
    for (const id of ['a', 'b', 'c', 'd', 'e']) await r.send(`evt_breaker_${id}`);

    await r.tick();
    const opened = await readCircuit(table(), ref(r));
    await r.advance(30);
    const held = await r.tick();
    const callsWhileOpen = target.calls.length;
    await r.advance(35);
    await r.tick();

    expect(opened.state).toBe('open');
    // Three first attempts failed (backoff 30 s each); the breaker opened for 60 s (plus jitter) before the others.
    expect(r.visibilities.slice(0, 5)).toEqual([30, 30, 30, 65, 65]);
    expect(held.records).toHaveLength(3);
    expect(callsWhileOpen).toBe(3);
    expect(target.calls).toHaveLength(8);
    expect(r.metrics.counts).toMatchObject({ CircuitOpened: 1, CircuitClosed: 1, Delivered: 5, DeliveryFailures: 3 });
    expect(await readCircuit(table(), ref(r))).toEqual({ state: 'closed', failures: 0 });
    expect(await left(r)).toBe(0);
  });

  it('lets exactly one of several concurrent invocations probe an open breaker', async () => {
    const allHeld = deferred();
    let holds = 0;
    const target = scriptedTarget(async () => {
      await allHeld.promise;
      return answer.ok();
    });
    const r = await rig(
      { circuitBreaker: { failureThreshold: 1, openSeconds: 60 } },
      {
        target,
        wrapQueue: (queue) => ({
          ...queue,
          async changeVisibility(record, seconds) {
            await queue.changeVisibility(record, seconds);
            if ((holds += 1) === 5) allHeld.resolve();
          },
        }),
      },
    );
    await createCircuitStore(table(), ref(r)).recordFailure({ nowMs: r.clock.now - 120_000, failureThreshold: 1, openSeconds: 60 });
    for (let i = 0; i < 6; i += 1) await r.send(`evt_race_${i}`);
    const batches = [];
    for (let i = 0; i < 6; i += 1) batches.push(await receive(emulators.sqs, r.queueUrl, r.queueArn, 1));

    const responses = await Promise.all(batches.map((records) => createDeliveryHandler(r.deps)({ Records: records }, lambdaContext(60_000))));

    expect(batches.every((b) => b.length === 1)).toBe(true);
    expect(target.calls).toHaveLength(1);
    expect(responses.map((res) => res.batchItemFailures.length).sort()).toEqual([0, 1, 1, 1, 1, 1]);
    expect(r.metrics.counts.CircuitClosed).toBe(1);
    expect(await readCircuit(table(), ref(r))).toEqual({ state: 'closed', failures: 0 });
  });

  it('holds every message of a paused destination without an attempt, and delivers them after resume', async () => {
    const target = scriptedTarget(() => answer.ok());
    const r = await rig({}, { target, random: bottom });
    await pauseDestination(table(), ref(r));
    await r.send('evt_paused_1');
    await r.send('evt_paused_2');

    await r.tick();
    const callsWhilePaused = target.calls.length;
    await resumeDestination(table(), ref(r));
    await r.advance(300);
    await r.tick();

    expect(callsWhilePaused).toBe(0);
    expect(r.visibilities).toEqual([300, 300]);
    expect(target.calls).toHaveLength(2);
    expect(await left(r)).toBe(0);
  });

  it('passes a well-formed replay id to the target and the history, and ignores a malformed one', async () => {
    const target = scriptedTarget(() => answer.ok());
    const r = await rig({}, { target });
    await r.send('evt_replayed', replayAttribute('rp_2026-12-01.7'));
    await r.send('evt_forged', replayAttribute('<script> PHI'));

    await r.tick();

    const byKey = Object.fromEntries(target.calls.map((c) => [c.event.dedupeKey, c.event.replayId]));
    expect(byKey).toEqual({ 'stripe:evt_replayed': 'rp_2026-12-01.7', 'stripe:evt_forged': undefined });
    expect((await attemptsOf(table(), 'stripe:evt_replayed'))[0]?.replayId).toBe('rp_2026-12-01.7');
  });

  it('hands the batch back untouched when too little time is left for an attempt', async () => {
    const target = scriptedTarget(() => answer.ok());
    const r = await rig({ timeoutSeconds: 15 }, { target });
    await r.send('evt_late_1');
    await r.send('evt_late_2');

    const { records, failed } = await r.tick({ remainingMs: 19_999 });

    expect(records).toHaveLength(2);
    expect(failed.sort()).toEqual(records.map((rec) => rec.messageId).sort());
    expect(target.calls).toHaveLength(0);
    expect(r.visibilities).toEqual([]);
  });

  it('delivers and counts a history write that fails', async () => {
    const target = scriptedTarget(() => answer.ok());
    const r = await rig({}, { target, history: { record: () => Promise.reject(new Error('throttled')), attemptsOf: () => Promise.resolve([]) } });
    await r.send('evt_nohistory');

    await r.tick();

    expect(r.metrics.counts).toEqual({ Delivered: 1, DeliveryHistoryFailures: 1 });
    expect(await left(r)).toBe(0);
  });

  it('paces attempts at maxPerSecond / maxInFlight per invocation', async () => {
    const startedAt: number[] = [];
    let current: Rig | undefined;
    const target = scriptedTarget(() => {
      startedAt.push(current?.clock.now ?? Number.NaN);
      return answer.ok();
    });
    const r = (current = await rig({ maxPerSecond: 2, maxInFlight: 4 }, { target }));
    for (const id of ['p1', 'p2', 'p3']) await r.send(`evt_${id}`);

    await r.tick();

    // 2 per second over 4 in flight: one attempt every 2 s in each invocation (the rig's sleep moves its clock).
    expect(startedAt.slice(1).map((at, i) => at - (startedAt[i] as number))).toEqual([2000, 2000]);
    expect(target.calls).toHaveLength(3);
  });
});
