import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { type ArchivedEvent, findArchived, readArchived } from '../lambda/archive/reader';
import { matchesEvents } from '../lambda/config/destinations';
import { type PlacedMessage, placeCiphertext } from '../lambda/ingest/enqueue';
import { ATTR } from '../lambda/ingest/message';
import type { SourceResources } from '../lib/stack-outputs';
import { failureOf } from './errors';
import { audited } from './guard';
import { archiveOf, type DeliveryStatus, listRange, type RangeQuery } from './listing';
import type { Io } from './output';
import { sourceOf, type Target } from './target';
import type { TimeRange } from './time';

/**
 * How `hookgate replay` works (cli/commands/replay.ts parses and prints): a plan (the keys
 * given, or a source's archived events of a range, each with the queues it goes to), then the
 * sending, one key at a time: its audit record first, then the archived ciphertext (the same
 * body and `webhook-id`) to each queue with the attribute `replayId`, paced to a rate, with
 * progress on stderr, stopping between two keys when interrupted. Every key ends in an outcome.
 */

/** One queue a replayed event goes to. */
export interface ReplayQueue {
  /** The destination's name, or `work queue` for a source without destinations. */
  readonly name: string;
  readonly queueUrl: string;
}

/** One key of a plan: its archived event and where it would go, or why it cannot go. */
export interface ReplayItem {
  readonly key: string;
  readonly event?: ArchivedEvent;
  readonly queues: readonly ReplayQueue[];
  /** Why it cannot be replayed (not in the archive, no destination matches). */
  readonly error?: string;
}

/** What happened to one key. */
export interface ReplayOutcome {
  readonly key: string;
  /** The replay id its messages carry, once its audit record was written. */
  readonly replayId?: string;
  /** Where it was sent: destination names, or `work queue`. */
  readonly sentTo: readonly string[];
  /** Why it was not (or not fully) sent. */
  readonly error?: string;
}

/** Why a key was not sent when the replay was interrupted before it. */
export const INTERRUPTED = 'not sent: the replay was interrupted';

/** The queues an event goes to: each matching destination (or only `only`), else the source's work queue. */
export function queuesOf(source: SourceResources, event: Pick<ArchivedEvent, 'eventType'>, only: string | undefined): ReplayQueue[] {
  const destinations = Object.entries(source.destinations);
  if (destinations.length === 0) return [{ name: 'work queue', queueUrl: source.queueUrl }];
  return destinations
    .filter(([name, d]) => (only === undefined || name === only) && matchesEvents(d.events, event.eventType))
    .map(([name, d]) => ({ name, queueUrl: d.queueUrl }));
}

/** The plan of a keys replay: each key looked up in the archive (in `range`, default the last 24 hours). */
export async function planKeys(target: Target, keys: readonly string[], range: TimeRange, only: string | undefined): Promise<ReplayItem[]> {
  const store = archiveOf(target);
  const items: ReplayItem[] = [];
  for (const key of keys) {
    const sourceName = key.slice(0, key.indexOf(':'));
    const source = sourceOf(target.resources, sourceName);
    const event = await findArchived({ ...store, source: sourceName, dedupeKey: key, until: range.until, ...(range.since === undefined ? {} : { since: range.since }) });
    if (event === undefined) {
      items.push({ key, queues: [], error: 'not in the archive in that range' });
      continue;
    }
    const queues = queuesOf(source, event, only);
    items.push({ key, event, queues, ...(queues.length === 0 ? { error: 'no destination matches its event type' } : {}) });
  }
  return items;
}

/**
 * The plan of a range replay: the source's archived events of the range (optionally one type),
 * each to the destinations its type matches (or only `destination`) and, with `status`, only
 * those where its delivery status is that one. Events that would go nowhere are left out.
 */
export async function planRange(target: Target, query: RangeQuery): Promise<ReplayItem[]> {
  const source = sourceOf(target.resources, query.source);
  const listing = await listRange(target, query);
  const wanted = (name: string, statuses: Readonly<Record<string, DeliveryStatus>>): boolean => query.status === undefined || statuses[name] === query.status;
  return listing.events
    .map(({ archived, listed }) => ({ key: archived.dedupeKey, event: archived, queues: queuesOf(source, archived, query.destination).filter((q) => wanted(q.name, listed.destinations)) }))
    .filter((item) => item.queues.length > 0);
}

/** The message of a replayed event: the hookgate format with `replayId`; over the SQS limit, a pointer to the payload bucket. */
function messageOf(target: Target, event: ArchivedEvent, ciphertext: Buffer, replayId: string): Promise<PlacedMessage> {
  const meta = { source: event.source, dedupeKey: event.dedupeKey, eventId: event.eventId, eventType: event.eventType, receivedAt: event.receivedAt };
  const bucket = target.resources.payloadBucket;
  return placeCiphertext(meta, ciphertext, {
    bucket,
    extraAttributes: { [ATTR.replayId]: { DataType: 'String', StringValue: replayId } },
    store: async (key, bytes) => void (await target.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: 'application/octet-stream' }))),
  });
}

/** Audits, then sends one planned key; what went. */
async function sendOne(target: Target, item: ReplayItem & { readonly event: ArchivedEvent }, reason: string, now: Date): Promise<ReplayOutcome> {
  const { key, event } = item;
  const replayId = randomUUID();
  const sentTo: string[] = [];
  try {
    await audited(target, { action: 'replay', keys: [key], reason, replayId, now }, async () => {
      const message = await messageOf(target, event, await readArchived(archiveOf(target), event), replayId);
      for (const queue of item.queues) {
        await target.clients.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: message.body, MessageAttributes: message.attributes }));
        sentTo.push(queue.name);
      }
    });
    return { key, replayId, sentTo };
  } catch (err) {
    return { key, ...(sentTo.length > 0 ? { replayId } : {}), sentTo, error: failureOf(err).message };
  }
}

/** A clock: the command's `now` and `sleep` (injectable, so tests prove the pacing without waiting). */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/**
 * Paces calls to at most `rate` per second: each call waits until 1/rate s after the previous
 * one started (the first goes at once), so N calls take at least (N-1)/rate s.
 */
export function pacer(rate: number, clock: Clock): () => Promise<void> {
  const interval = 1000 / rate;
  let next: number | undefined;
  return async () => {
    const wait = next === undefined ? 0 : next - clock.now().getTime();
    if (wait > 0) await clock.sleep(wait);
    next = Math.max(next ?? 0, clock.now().getTime()) + interval;
  };
}

/** Width of the progress bar, characters. */
const BAR = 30;

/**
 * Progress of a replay on stderr: a bar redrawn in place (`\r`) when stderr is a terminal,
 * else one line per tenth done. Never on stdout.
 */
export function progressOf(io: Io, total: number): { tick(done: number, failed: number): void; end(): void } {
  let shownTenth = 0;
  let drawn = false;
  return {
    tick(done, failed) {
      const failures = failed === 0 ? '' : `, ${failed} not sent`;
      if (io.isTTY === true) {
        const filled = Math.round((done / total) * BAR);
        io.err(`\r[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${done}/${total} keys${failures}`);
        drawn = true;
        return;
      }
      const tenth = Math.floor((done * 10) / total);
      if (tenth > shownTenth) {
        shownTenth = tenth;
        io.err(`replay: ${done}/${total} keys (${Math.floor((done * 100) / total)}%)${failures}\n`);
      }
    },
    end() {
      if (drawn) io.err('\n');
    },
  };
}

/** How to send a plan. */
export interface SendOptions {
  readonly reason: string;
  /** Keys per second at most. */
  readonly rate: number;
  readonly clock: Clock;
  /** Aborted: the key in flight finishes, the rest are not sent. */
  readonly signal?: AbortSignal;
  /** Show progress on this Io's stderr. @default none */
  readonly progress?: Io;
}

/**
 * Sends a plan, key by key, in order: a key with an error is reported as is; the others are
 * paced, audited and sent. Once `signal` is aborted, every key not started is reported as
 * {@link INTERRUPTED}. One outcome per item, in plan order.
 */
export async function sendPlan(target: Target, items: readonly ReplayItem[], options: SendOptions): Promise<ReplayOutcome[]> {
  const pace = pacer(options.rate, options.clock);
  const progress = options.progress === undefined ? undefined : progressOf(options.progress, items.length);
  const outcomes: ReplayOutcome[] = [];
  const aborted = (): boolean => options.signal?.aborted === true;
  let failed = 0;
  for (const item of items) {
    let outcome: ReplayOutcome;
    if (aborted()) outcome = { key: item.key, sentTo: [], error: INTERRUPTED };
    else if (item.event === undefined || item.error !== undefined) outcome = { key: item.key, sentTo: [], error: item.error ?? 'not in the archive' };
    else {
      await pace();
      outcome = aborted() ? { key: item.key, sentTo: [], error: INTERRUPTED } : await sendOne(target, { ...item, event: item.event }, options.reason, options.clock.now());
    }
    outcomes.push(outcome);
    if (outcome.error !== undefined) failed += 1;
    progress?.tick(outcomes.length, failed);
  }
  progress?.end();
  return outcomes;
}

/** Counts of a replay: keys sent and not, and messages per destination. */
export interface ReplaySummary {
  readonly keys: number;
  readonly sent: number;
  readonly notSent: number;
  /** Whether it was interrupted before every key was tried. */
  readonly interrupted: boolean;
  /** Messages sent per destination (or `work queue`). */
  readonly perDestination: Readonly<Record<string, number>>;
}

/** The summary of a replay's outcomes. */
export function summaryOf(outcomes: readonly ReplayOutcome[]): ReplaySummary {
  const perDestination: Record<string, number> = {};
  for (const o of outcomes) for (const name of o.sentTo) perDestination[name] = (perDestination[name] ?? 0) + 1;
  const notSent = outcomes.filter((o) => o.error !== undefined).length;
  return { keys: outcomes.length, sent: outcomes.length - notSent, notSent, interrupted: outcomes.some((o) => o.error === INTERRUPTED), perDestination };
}
