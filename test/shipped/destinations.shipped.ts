import { join } from 'node:path';
import { CreateEventBusCommand, DeleteEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand, DeleteRuleCommand } from '@aws-sdk/client-eventbridge';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, type Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { indexKeyOf } from '../../lambda/archive/format';
import { parseNamedDestination } from '../../lambda/delivery/function';
import { type AttemptRecord, createHistoryStore } from '../../lambda/delivery/history';
import { circuitKey } from '../../lambda/delivery/circuit';
import type { EventBridgeDetail } from '../../lambda/delivery/eventbridge-target';
import { ENV } from '../../lambda/runtime/env';
import { successes, toSqsRecord } from '../../local/poller';
import type { Invocation, RunningFunction, SourceUnderTest, World } from './harness';
import { callProblems, startWorld } from './harness';
import { decide } from './authorization';
import { mapCall, signerOf } from './calls';
import { MOTO_REGION } from './moto';
import { ADMIN_ACCESS_KEY, type CreatedQueue } from './resources';
import { ofType, referencedId } from './template';
import { drain, providerEvent } from './traffic';

/**
 * The destinations' bundles as they ship, run against moto: test/shipped/config/destinations.json
 * gives the `stripe` source two `eventbridge` destinations (`bus`: every event; `invoices`:
 * `invoice.*` only). A signed webhook goes through the real verifier, the source's processor
 * (the fan-out) archives the batch and forwards each event to the queues of the destinations it
 * matches, and each destination's delivery function puts it on its bus in moto, where a rule
 * with an SQS target (the tap) shows what arrived. Every AWS call of every bundle is checked
 * against its role's policy in the template.
 */

const ENVIRONMENT = 'destinations';
const CONFIG_DIR = join(__dirname, 'config');
const SOURCE = 'stripe';
/** The buses the config names, by destination. */
const BUSES = { bus: 'shipped-events', invoices: 'shipped-invoices' } as const;
type DestinationName = keyof typeof BUSES;

/** A destination of the template: its delivery function and the queue it reads. */
interface DestinationUnderTest {
  readonly name: DestinationName;
  readonly delivery: RunningFunction;
  readonly queue: CreatedQueue;
  /** The queue a rule on the destination's bus sends every hookgate event to. */
  readonly tapUrl: string;
}

/** An event as moto's rule hands it to an SQS target. */
interface BusEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: EventBridgeDetail;
}

let world: World;
let eventBridge: EventBridgeClient;
let source: SourceUnderTest;
const destinations = new Map<DestinationName, DestinationUnderTest>();
const allInvocations: { fn: RunningFunction; invocation: Invocation<unknown> }[] = [];

/** The webhooks sent, by event type, with the dedupe key the verifier answered. */
const sent = new Map<string, { dedupeKey: string; body: Buffer }>();
/** The bodies of the messages the verifier enqueued, by dedupe key. */
const sealed = new Map<string, string>();
let fanOut: Invocation<SQSBatchResponse>;
let forwarded: Record<DestinationName, Message[]>;
const delivered = new Map<DestinationName, Invocation<SQSBatchResponse>>();
let arrived: Record<DestinationName, BusEvent[]>;
let archiveKeys: string[];
let history: AttemptRecord[];
let retried: { records: SQSRecord[]; delivery: Invocation<SQSBatchResponse>; history: AttemptRecord[]; arrived: BusEvent[] };
let outage: { record: SQSRecord; dedupeKey: string; delivery: Invocation<SQSBatchResponse>; history: AttemptRecord[]; inFlight: number; arrived: BusEvent[] };

async function invoke<R>(fn: RunningFunction, event: unknown): Promise<Invocation<R>> {
  const invocation = await world.invoke<R>(fn, event);
  allInvocations.push({ fn, invocation });
  return invocation;
}

function destinationOf(name: DestinationName): DestinationUnderTest {
  const d = destinations.get(name);
  if (d === undefined) throw new Error(`no destination ${name} in the template`);
  return d;
}

/** The delivery functions of the template, each with the queue its event source mapping reads. */
function findDestinations(): { name: string; delivery: RunningFunction; queue: CreatedQueue }[] {
  return world.functions.flatMap((delivery) => {
    const json = delivery.env[ENV.destination];
    if (json === undefined || delivery.env[ENV.deliveryTable] === undefined) return [];
    const mapping = ofType(world.synth, 'AWS::Lambda::EventSourceMapping')
      .map((id) => world.synth.resources[id]?.Properties ?? {})
      .find((p) => referencedId(p.FunctionName) === delivery.spec.logicalId);
    const queue = world.created.queues[referencedId(mapping?.EventSourceArn) ?? ''];
    if (queue === undefined) throw new Error(`${delivery.spec.logicalId}: no queue feeds it`);
    return [{ name: parseNamedDestination(json).name, delivery, queue }];
  });
}

/** Creates a bus in moto with a rule sending every event of the source to a new tap queue; returns the tap's URL. */
async function createBusWithTap(bus: string): Promise<string> {
  await eventBridge.send(new CreateEventBusCommand({ Name: bus }));
  const { QueueUrl = '' } = await world.admin.sqs.send(new CreateQueueCommand({ QueueName: `${bus}-tap` }));
  const { Attributes = {} } = await world.admin.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await eventBridge.send(new PutRuleCommand({ Name: 'tap', EventBusName: bus, EventPattern: JSON.stringify({ source: [`hookgate.${SOURCE}`] }) }));
  await eventBridge.send(new PutTargetsCommand({ Rule: 'tap', EventBusName: bus, Targets: [{ Id: 'tap', Arn: Attributes.QueueArn ?? '' }] }));
  return QueueUrl;
}

/** A Stripe event of `type` through the shipped verifier; returns the message it enqueued. */
async function accept(type: string): Promise<Message> {
  const sample = JSON.parse(providerEvent(source, world.stage).body.toString('utf8')) as Record<string, unknown>;
  const body = Buffer.from(JSON.stringify({ ...sample, type }), 'utf8');
  const reply = await invoke<APIGatewayProxyResult>(source.verifier, providerEvent(source, world.stage, { body }).event);
  const json = JSON.parse(reply.result?.body ?? '{}') as { id?: string; status?: string };
  if (reply.result?.statusCode !== 200 || json.status !== 'accepted' || json.id === undefined) throw new Error(`the verifier did not accept ${type}: ${JSON.stringify(reply.result ?? reply.error)}`);
  sent.set(type, { dedupeKey: json.id, body });
  const enqueued = await drain(world.admin.sqs, source.queue.url);
  if (enqueued.length !== 1 || enqueued[0] === undefined) throw new Error(`expected one message for ${type}, got ${enqueued.length}`);
  return enqueued[0];
}

/** What Lambda's poller does after an invocation: deletes the records that succeeded. */
async function settle(queue: CreatedQueue, batch: readonly SQSRecord[], invocation: Invocation<SQSBatchResponse>): Promise<void> {
  if (invocation.error !== undefined) return;
  const done = successes(batch, invocation.result);
  if (done.length === 0) return;
  await world.admin.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })) }));
}

const attribute = (m: Message, name: string): string | undefined => m.MessageAttributes?.[name]?.StringValue;
const records = (messages: readonly Message[], queue: CreatedQueue): SQSRecord[] => messages.map((m) => toSqsRecord(m, queue.arn, MOTO_REGION));
const eventsOn = async (d: DestinationUnderTest): Promise<BusEvent[]> => (await drain(world.admin.sqs, d.tapUrl)).map((m) => JSON.parse(m.Body ?? '{}') as BusEvent);
const dedupeKeyOf = (type: string): string => sent.get(type)?.dedupeKey ?? '';

beforeAll(async () => {
  world = await startWorld(ENVIRONMENT, { configDir: CONFIG_DIR });
  eventBridge = new EventBridgeClient({ endpoint: world.proxy.endpoint, region: MOTO_REGION, credentials: { accessKeyId: ADMIN_ACCESS_KEY, secretAccessKey: 'suite-admin' }, maxAttempts: 1 });
  const found = world.sources.find((s) => s.name === SOURCE);
  if (found === undefined) throw new Error(`no source ${SOURCE}`);
  source = found;
  for (const d of findDestinations()) {
    if (!(d.name in BUSES)) throw new Error(`unexpected destination ${d.name}`);
    const name = d.name as DestinationName;
    destinations.set(name, { ...d, name, tapUrl: await createBusWithTap(BUSES[name]) });
  }

  // Two events sealed by the verifier, one batch through the fan-out.
  const batch = [await accept('customer.created'), await accept('invoice.paid')];
  for (const m of batch) sealed.set(attribute(m, 'dedupeKey') ?? '', m.Body ?? '');
  fanOut = await invoke<SQSBatchResponse>(source.processor, { Records: records(batch, source.queue) });
  forwarded = { bus: await drain(world.admin.sqs, destinationOf('bus').queue.url, { keep: true }), invoices: await drain(world.admin.sqs, destinationOf('invoices').queue.url, { keep: true }) };

  // Each destination's delivery function on the records of its queue (kept in flight, as Lambda's poller does).
  for (const name of ['bus', 'invoices'] as const) {
    const d = destinationOf(name);
    const batch = records(forwarded[name], d.queue);
    const delivery = await invoke<SQSBatchResponse>(d.delivery, { Records: batch });
    delivered.set(name, delivery);
    await settle(d.queue, batch, delivery);
  }
  arrived = { bus: await eventsOn(destinationOf('bus')), invoices: await eventsOn(destinationOf('invoices')) };

  const archiveBucket = source.processor.env[ENV.archiveBucket] ?? '';
  const listed = await Promise.all(['archive/', 'index/'].map((prefix) => world.admin.s3.send(new ListObjectsV2Command({ Bucket: archiveBucket, Prefix: `${prefix}${SOURCE}/` }))));
  archiveKeys = listed.flatMap((l) => (l.Contents ?? []).map((o) => o.Key ?? ''));
  const store = createHistoryStore({ client: world.admin.dynamodb, tableName: destinationOf('bus').delivery.env[ENV.deliveryTable] ?? '', days: 30 });
  history = (await Promise.all([...sent.values()].map((s) => store.attemptsOf(s.dedupeKey)))).flat();

  // The bus is gone: the event must stay on its queue for a retry, not be lost or dead-lettered.
  // The engine's backoff (ChangeMessageVisibility) is not seen here: the SQS client sends it to
  // the queue URL built from the record's ARN (https://sqs.<region>.amazonaws.com, right on AWS),
  // which this harness does not route to moto; the engine logs that the visibility was not
  // changed, and the record returns after the queue's visibility timeout, as on AWS.
  const bus = destinationOf('bus');
  await eventBridge.send(new RemoveTargetsCommand({ Rule: 'tap', EventBusName: BUSES.bus, Ids: ['tap'] }));
  await eventBridge.send(new DeleteRuleCommand({ Name: 'tap', EventBusName: BUSES.bus }));
  await eventBridge.send(new DeleteEventBusCommand({ Name: BUSES.bus }));
  const lost = await accept('customer.deleted');
  const lostFanOut = await invoke<SQSBatchResponse>(source.processor, { Records: records([lost], source.queue) });
  if (JSON.stringify(lostFanOut.result) !== JSON.stringify({ batchItemFailures: [] })) throw new Error(`fan-out failed: ${JSON.stringify(lostFanOut.result ?? lostFanOut.error)}`);
  const [onQueue] = records(await drain(world.admin.sqs, bus.queue.url, { keep: true }), bus.queue);
  if (onQueue === undefined) throw new Error('the fan-out forwarded nothing to the bus destination');
  const delivery = await invoke<SQSBatchResponse>(bus.delivery, { Records: [onQueue] });
  const { Attributes = {} } = await world.admin.sqs.send(new GetQueueAttributesCommand({ QueueUrl: bus.queue.url, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }));
  outage = {
    record: onQueue,
    dedupeKey: dedupeKeyOf('customer.deleted'),
    delivery,
    history: await store.attemptsOf(dedupeKeyOf('customer.deleted'), 'bus'),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
    arrived: await eventsOn(bus),
  };

  // The bus is back and the record's visibility timeout ends (made now): the retry delivers it.
  await createBusWithTap(BUSES.bus);
  await world.admin.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: bus.queue.url, ReceiptHandle: onQueue.receiptHandle, VisibilityTimeout: 0 }));
  const again = records(await drain(world.admin.sqs, bus.queue.url, { keep: true }), bus.queue);
  const redelivery = await invoke<SQSBatchResponse>(bus.delivery, { Records: again });
  await settle(bus.queue, again, redelivery);
  retried = { records: again, delivery: redelivery, history: await store.attemptsOf(outage.dedupeKey, 'bus'), arrived: await eventsOn(bus) };
}, 240_000);

afterAll(async () => {
  eventBridge?.destroy();
  await world?.close();
});

const dedupeKeys = (messages: readonly Message[]): string[] => messages.map((m) => attribute(m, 'dedupeKey') ?? '').sort();

describe('the shipped destination bundles of an environment with eventbridge destinations, run against moto', () => {
  it('finds one delivery function per destination, each reading its own queue, apart from the processor', () => {
    expect([...destinations.keys()].sort()).toEqual(['bus', 'invoices']);
    const bus = destinationOf('bus');
    const invoices = destinationOf('invoices');
    expect(bus.queue.url).not.toBe(invoices.queue.url);
    expect(new Set([bus.delivery.spec.logicalId, invoices.delivery.spec.logicalId, source.processor.spec.logicalId]).size).toBe(3);
    for (const fn of [bus.delivery, invoices.delivery, source.processor]) {
      const errors = fn.environment.initLogs.filter((l) => l.stream === 'stderr' || l.json?.level === 'ERROR');
      expect({ fn: fn.spec.logicalId, errors }).toEqual({ fn: fn.spec.logicalId, errors: [] });
    }
  });

  describe('the fan-out (the source\'s processor)', () => {
    it('takes the whole batch and forwards each event, exactly as sealed, to the destinations its type matches', () => {
      expect({ result: fanOut.result, error: fanOut.error }).toEqual({ result: { batchItemFailures: [] }, error: undefined });
      expect(dedupeKeys(forwarded.bus)).toEqual([dedupeKeyOf('customer.created'), dedupeKeyOf('invoice.paid')].sort());
      // invoice.* only: customer.created is not forwarded there.
      expect(dedupeKeys(forwarded.invoices)).toEqual([dedupeKeyOf('invoice.paid')]);
      for (const m of [...forwarded.bus, ...forwarded.invoices]) {
        const key = attribute(m, 'dedupeKey') ?? '';
        expect({ key, source: attribute(m, 'source'), sameBody: m.Body === sealed.get(key) }).toEqual({ key, source: SOURCE, sameBody: true });
      }
    });

    it('writes the batch\'s archive object and its index to the archive bucket before forwarding', () => {
      const objects = archiveKeys.filter((k) => k.startsWith(`archive/${SOURCE}/`) && k.endsWith('.hga'));
      expect(objects).toHaveLength(1);
      expect(archiveKeys.filter((k) => k.startsWith(`index/${SOURCE}/`))).toEqual(objects.map(indexKeyOf));
    });
  });

  describe('the delivery functions', () => {
    it('put every forwarded event on the destination\'s bus once, with the event facts and the exact body', () => {
      for (const name of ['bus', 'invoices'] as const) {
        const d = delivered.get(name);
        expect({ name, result: d?.result, error: d?.error }).toEqual({ name, result: { batchItemFailures: [] }, error: undefined });
      }
      const facts = (events: readonly BusEvent[]): unknown[] =>
        events.map((e) => [e.source, e['detail-type'], e.detail.destination, e.detail.eventType, e.detail.dedupeKey, e.detail.body]).sort((a, b) => String(a[3]).localeCompare(String(b[3])));
      const body = (type: string): string => sent.get(type)?.body.toString('utf8') ?? '';
      expect(facts(arrived.bus)).toEqual([
        [`hookgate.${SOURCE}`, 'hookgate.webhook', 'bus', 'customer.created', dedupeKeyOf('customer.created'), body('customer.created')],
        [`hookgate.${SOURCE}`, 'hookgate.webhook', 'bus', 'invoice.paid', dedupeKeyOf('invoice.paid'), body('invoice.paid')],
      ]);
      expect(facts(arrived.invoices)).toEqual([[`hookgate.${SOURCE}`, 'hookgate.invoice', 'invoices', 'invoice.paid', dedupeKeyOf('invoice.paid'), body('invoice.paid')]]);
      // A JSON body is parsed for rules too.
      expect((arrived.invoices[0]?.detail.payload as { type?: string } | undefined)?.type).toBe('invoice.paid');
    });

    it('records one delivered attempt per event and destination in the delivery table', () => {
      const rows = history.map((h) => [h.dedupeKey, h.source, h.destination, h.attempt, h.verdict]).sort((a, b) => `${a[0]}${a[2]}`.localeCompare(`${b[0]}${b[2]}`));
      const expected = [
        [dedupeKeyOf('customer.created'), SOURCE, 'bus', 1, 'delivered'],
        [dedupeKeyOf('invoice.paid'), SOURCE, 'bus', 1, 'delivered'],
        [dedupeKeyOf('invoice.paid'), SOURCE, 'invoices', 1, 'delivered'],
      ].sort((a, b) => `${a[0]}${a[2]}`.localeCompare(`${b[0]}${b[2]}`));
      expect(rows).toEqual(expected);
    });

    it('reads its own circuit breaker before delivering', () => {
      for (const name of ['bus', 'invoices'] as const) {
        const d = destinationOf(name);
        const reads = (delivered.get(name)?.calls ?? [])
          .filter((c) => c.operation === 'GetItem')
          .map((c) => JSON.parse(world.proxy.calls[c.seq]?.request.body.toString('utf8') ?? '{}') as { Key?: { pk?: { S?: string } } })
          .map((b) => b.Key?.pk?.S);
        expect({ name, reads: [...new Set(reads)] }).toEqual({ name, reads: [circuitKey(SOURCE, d.name).pk] });
      }
    });

    it('leaves an event whose bus is gone on its queue for a retry: reported failed, one retry attempt recorded, nothing dead-lettered', () => {
      expect(outage.delivery.result).toEqual({ batchItemFailures: [{ itemIdentifier: outage.record.messageId }] });
      expect(outage.history.map((h) => [h.dedupeKey, h.destination, h.verdict, h.errorClass])).toEqual([[outage.dedupeKey, 'bus', 'retry', 'ResourceNotFoundException']]);
      expect(outage.inFlight).toBe(1);
      expect(outage.arrived).toEqual([]);
      expect(outage.delivery.calls.filter((c) => c.operation === 'SendMessage')).toEqual([]);
    });

    it('delivers that event on its retry once the bus is back: the second attempt is recorded delivered', () => {
      expect(retried.records.map((r) => [r.messageId, r.attributes.ApproximateReceiveCount])).toEqual([[outage.record.messageId, '2']]);
      expect(retried.delivery.result).toEqual({ batchItemFailures: [] });
      expect(retried.history.map((h) => [h.attempt, h.verdict])).toEqual([
        [1, 'retry'],
        [2, 'delivered'],
      ]);
      expect(retried.arrived.map((e) => [e.detail.dedupeKey, e.detail.eventType])).toEqual([[outage.dedupeKey, 'customer.deleted']]);
    });
  });

  describe('the AWS calls, checked against each role\'s policy in the template', () => {
    it('every call of every function, and of every single invocation, was allowed by its role\'s policy and the template\'s resource policies', () => {
      expect(allInvocations.length).toBeGreaterThan(0);
      expect(allInvocations.flatMap(({ invocation }) => invocation.violations)).toEqual([]);
      expect(callProblems(world)).toEqual([]);
    });

    it('each bundle calls only the services its path needs, and the calls the check relies on were seen', () => {
      const seen = (fn: RunningFunction): string[] =>
        [...new Set(allInvocations.filter((i) => i.fn === fn).flatMap(({ invocation }) => invocation.calls.flatMap((c) => (c.checks.length === 0 ? [`${c.service}:${c.operation}`] : c.checks.map((k) => k.action)))))].sort();
      // Opening needs the key; the archive writes sealed envelopes as they are (S3 encrypts the object).
      expect(seen(source.processor)).toEqual(['kms:Decrypt', 's3:PutObject', 'sqs:SendMessage']);
      for (const name of ['bus', 'invoices'] as const) {
        const actions = seen(destinationOf(name).delivery);
        expect({ name, services: [...new Set(actions.map((a) => a.split(':')[0]))].sort() }).toEqual({ name, services: ['dynamodb', 'events', 'kms'] });
        expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'events:PutEvents', 'kms:Decrypt']));
      }
    });

    it('would refuse a delivery function putting events on another destination\'s bus (the check can say no)', () => {
      const invoices = destinationOf('invoices').delivery;
      const call = (delivered.get('invoices')?.calls ?? []).find((c) => c.operation === 'PutEvents');
      const request = call === undefined ? undefined : world.proxy.calls[call.seq]?.request;
      const signer = request === undefined ? undefined : signerOf(request);
      if (request === undefined || signer === undefined) throw new Error('no PutEvents recorded');
      const mapped = mapCall(request, signer, invoices.callEnvironment);
      if (mapped.kind !== 'mapped' || mapped.requests[0] === undefined) throw new Error('PutEvents not mapped');
      const own = mapped.requests[0];
      expect(own.resource).toBe(`arn:aws:events:${MOTO_REGION}:${invoices.callEnvironment.account}:event-bus/${BUSES.invoices}`);
      expect(decide(invoices.policies, own).decision).toBe('allow');
      expect(decide(invoices.policies, { ...own, resource: own.resource.replace(BUSES.invoices, BUSES.bus) })).toEqual({ decision: 'deny', reason: 'implicit' });
    });
  });
});
