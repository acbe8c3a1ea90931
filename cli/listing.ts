import { type ArchivedEvent, type ArchiveStore, listArchived, mapBounded } from '../lambda/archive/reader';
import { type AttemptRecord, attemptsOf } from '../lambda/delivery/history';
import { type Parsed, stringFlag } from './command';
import { CommandError, UsageError } from './errors';
import { sourceOf, type Target } from './target';

/**
 * What `events list` shows and a time-range `replay` sends: a source's archived events of a
 * range (lambda/archive/reader.ts, metadata only), each with its delivery status per
 * destination, computed from the delivery history (one Query per event, bounded in parallel).
 */

/** An event's delivery state at one destination, from its recorded attempts. */
export type DeliveryStatus = 'delivered' | 'failed' | 'pending';

/** The statuses `--status` takes. */
const STATUSES: readonly DeliveryStatus[] = ['delivered', 'failed', 'pending'];

/** Verdicts after which the engine moves the event to the DLQ at once (lambda/delivery/engine.ts). */
const FINAL_FAILURES: ReadonlySet<string> = new Set(['reject', 'refused-address', 'retries-exhausted']);

/**
 * The status of one destination from its attempts: delivered when any attempt delivered; failed
 * when the last verdict sent the event to the DLQ (reject, refused-address, retries-exhausted);
 * else pending (not tried yet, retrying, or held by a paused or open breaker).
 */
export function deliveryStatusOf(attempts: readonly Pick<AttemptRecord, 'verdict'>[]): DeliveryStatus {
  if (attempts.some((a) => a.verdict === 'delivered')) return 'delivered';
  const last = attempts[attempts.length - 1];
  return last !== undefined && FINAL_FAILURES.has(last.verdict) ? 'failed' : 'pending';
}

/** The archive bucket, or a CommandError when this environment has none. */
export function archiveOf(target: Target): ArchiveStore {
  const bucket = target.resources.archiveBucket;
  if (bucket === undefined) throw new CommandError(`${target.label} has no archive bucket (deployed before the archive, or a local run from before it)`);
  return { s3: target.clients.s3, bucket };
}

/** Every recorded attempt of an event, or none when the environment has no delivery table. */
export async function attemptsOfEvent(target: Target, dedupeKey: string): Promise<AttemptRecord[]> {
  const tableName = target.resources.deliveryTable;
  return tableName === undefined ? [] : attemptsOf({ client: target.clients.dynamodb, tableName }, dedupeKey);
}

/** One listed event: its archive metadata and its status per destination. */
export interface ListedEvent {
  readonly key: string;
  readonly receivedAt: string;
  readonly eventType?: string;
  readonly eventId?: string;
  readonly size: number;
  readonly destinations: Readonly<Record<string, DeliveryStatus>>;
}

function listedOf(event: ArchivedEvent, destinations: readonly string[], attempts: readonly AttemptRecord[]): ListedEvent {
  const statuses = Object.fromEntries(destinations.map((d) => [d, deliveryStatusOf(attempts.filter((a) => a.destination === d))]));
  return {
    key: event.dedupeKey,
    receivedAt: event.receivedAt,
    ...(event.eventType === undefined ? {} : { eventType: event.eventType }),
    ...(event.eventId === undefined ? {} : { eventId: event.eventId }),
    size: event.size,
    destinations: statuses,
  };
}

/** `--status` as given, or a UsageError. */
export function statusFlag(parsed: Parsed): DeliveryStatus | undefined {
  const status = stringFlag(parsed, 'status');
  if (status === undefined || (STATUSES as readonly string[]).includes(status)) return status as DeliveryStatus | undefined;
  throw new UsageError(`--status must be one of ${STATUSES.join(', ')}, not ${JSON.stringify(status)}`);
}

/** `--source` as given, or a UsageError naming the command. */
export function sourceFlag(parsed: Parsed, what: string): string {
  const source = stringFlag(parsed, 'source');
  if (source === undefined || source.length === 0) throw new UsageError(`${what} requires --source <name>`);
  return source;
}

/** What to list: a source's range, optionally one type, one destination, one status. */
export interface RangeQuery {
  readonly source: string;
  readonly since: Date;
  readonly until: Date;
  readonly type?: string;
  /** Only this destination's status (`--destination`; a CommandError when the source has none of that name). */
  readonly destination?: string;
  /** Only events with this status at one of the listed destinations. */
  readonly status?: DeliveryStatus;
}

/** A listed range: the destinations whose status is shown, and each event with its archive entry. */
export interface RangeListing {
  readonly destinations: readonly string[];
  readonly events: readonly { readonly archived: ArchivedEvent; readonly listed: ListedEvent }[];
}

/**
 * The archived events of a range with their status at each destination of the source (or only
 * `destination`), keeping those with `status` at one of them. A CommandError for an unknown
 * source or destination, or a status asked of a source without destinations.
 */
export async function listRange(target: Target, query: RangeQuery): Promise<RangeListing> {
  const { source: name, destination: only, status, type } = query;
  const known = Object.keys(sourceOf(target.resources, name).destinations);
  if (only !== undefined && !known.includes(only)) throw new CommandError(`source ${name} has no destination ${JSON.stringify(only)}; known: ${known.join(', ') || 'none'}`);
  if (status !== undefined && known.length === 0) throw new CommandError(`source ${name} has no destinations, so no delivery status`);
  const destinations = only === undefined ? known : [only];
  const archived = await listArchived({ ...archiveOf(target), source: name, since: query.since, until: query.until, ...(type === undefined ? {} : { type }) });
  const attempts = destinations.length === 0 ? archived.map(() => []) : await mapBounded(archived, (e) => attemptsOfEvent(target, e.dedupeKey));
  const events = archived
    .map((event, i) => ({ archived: event, listed: listedOf(event, destinations, attempts[i] ?? []) }))
    .filter(({ listed }) => status === undefined || Object.values(listed.destinations).includes(status));
  return { destinations, events };
}
