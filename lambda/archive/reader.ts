import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type ArchiveIndexEntry, hourPrefix, hoursBetween, INDEX_PREFIX, objectKeyOf, parseIndex } from './format';

/**
 * Reading the archive (format.ts) without decrypting: listings read metadata only (one
 * ListObjectsV2 per hour prefix of the range under `index/`, then one GET of each index object
 * listed: never an archive object, so a role granted only `index/` can list), and a body is one
 * ranged GET of its ciphertext in the archive object, which the caller opens with the envelope
 * (the binding to `{source, dedupeKey}` is checked there: the index holds unauthenticated hints).
 */

/**
 * Thrown when an index names an archive object that is gone. The writer never puts an index
 * before its object, but both expire after `archive.days` by the bucket's lifecycle, which
 * deletes them in no set order: near the end of retention an index may outlive its object.
 */
export class ArchiveObjectMissingError extends Error {
  constructor(key: string, options?: { cause?: unknown }) {
    super(`archive object ${key} is gone (expired after archive.days; its index not yet)`, options);
    this.name = 'ArchiveObjectMissingError';
  }
}

/** Requests in flight at once during a listing. */
const CONCURRENCY = 16;

/** Where the archive is. */
export interface ArchiveStore {
  readonly s3: S3Client;
  /** The archive bucket. */
  readonly bucket: string;
}

/** One archived event: its metadata (hints, as indexed) and where its ciphertext is. */
export interface ArchivedEvent extends Omit<ArchiveIndexEntry, 'offset' | 'length'> {
  readonly source: string;
  /** The archive object holding it (not its index object). */
  readonly objectKey: string;
  /** Where its ciphertext starts in the object. */
  readonly offset: number;
  /** Bytes of its ciphertext. */
  readonly length: number;
}

/** What to list. */
export interface ListArchivedOptions extends ArchiveStore {
  readonly source: string;
  /** Events received at or after this time. */
  readonly since: Date;
  /** Events received before this time. */
  readonly until: Date;
  /** Only events whose `eventType` hint is this. @default every type */
  readonly type?: string;
}

/** Runs `work` over `items`, at most {@link CONCURRENCY} at a time; results in input order. */
export async function mapBounded<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}

/** Bytes `[start, end]` (inclusive) of an object, or the whole object without a range. */
async function read(store: ArchiveStore, key: string, range?: readonly [number, number]): Promise<Uint8Array> {
  const object = await store.s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: key, ...(range === undefined ? {} : { Range: `bytes=${range[0]}-${range[1]}` }) }));
  if (object.Body === undefined) throw new Error(`archive object ${key} has no body`);
  return object.Body.transformToByteArray();
}

/** Keys of every object under `prefix`, in key order (time order within an hour). */
async function keysUnder(store: ArchiveStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await store.s3.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: prefix, ContinuationToken: token }));
    for (const { Key } of page.Contents ?? []) if (Key !== undefined) keys.push(Key);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

/** The events an index object lists, located in the archive object it describes. */
async function eventsOf(store: ArchiveStore, indexKey: string): Promise<ArchivedEvent[]> {
  const objectKey = objectKeyOf(indexKey);
  const index = parseIndex(await read(store, indexKey));
  return index.events.map((entry) => ({ ...entry, source: index.source, objectKey }));
}

/**
 * The archived events of a source received in `[since, until)`, optionally of one event type,
 * each dedupe key once (a retried batch may have archived it twice; the first object in key
 * order wins), ordered by `receivedAt`. Reads only the hour prefixes of the range under `index/`
 * and the index objects there. Throws when `since` is after `until` or when S3 fails.
 */
export async function listArchived(options: ListArchivedOptions): Promise<ArchivedEvent[]> {
  const { source, since, until, type } = options;
  if (since.getTime() > until.getTime()) throw new RangeError('since is after until');
  const keys = (await mapBounded(hoursBetween(since, until), (hour) => keysUnder(options, hourPrefix(source, hour, INDEX_PREFIX)))).flat();
  const seen = new Set<string>();
  const events: ArchivedEvent[] = [];
  for (const listed of await mapBounded(keys, (key) => eventsOf(options, key))) {
    for (const event of listed) {
      const at = new Date(event.receivedAt).getTime();
      if (!(at >= since.getTime() && at < until.getTime())) continue;
      if (type !== undefined && event.eventType !== type) continue;
      if (seen.has(event.dedupeKey)) continue;
      seen.add(event.dedupeKey);
      events.push(event);
    }
  }
  return events.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.dedupeKey.localeCompare(b.dedupeKey));
}

/**
 * The ciphertext of one archived event (one ranged GET): the Encryption SDK message exactly as
 * enqueued, to open with the envelope and the event's `{source, dedupeKey}`. Throws
 * ArchiveObjectMissingError when its object has expired before its index.
 */
export async function readArchived(store: ArchiveStore, event: Pick<ArchivedEvent, 'objectKey' | 'offset' | 'length'>): Promise<Buffer> {
  let bytes: Uint8Array;
  try {
    bytes = await read(store, event.objectKey, [event.offset, event.offset + event.length - 1]);
  } catch (err) {
    if (err instanceof Error && err.name === 'NoSuchKey') throw new ArchiveObjectMissingError(event.objectKey, { cause: err });
    throw err;
  }
  if (bytes.byteLength !== event.length) throw new Error(`archive object ${event.objectKey} is shorter than its index says`);
  return Buffer.from(bytes);
}

/** What {@link findArchived} looks for. */
export interface FindArchivedOptions extends ArchiveStore {
  readonly source: string;
  readonly dedupeKey: string;
  /** Search from. @default 24 hours before `until` */
  readonly since?: Date;
  /** Search until (exclusive). @default now */
  readonly until?: Date;
}

/**
 * The archived event with this dedupe key in a time range (the key holds no time, so the
 * range bounds the search: default the last 24 hours), or undefined. Reads index objects only,
 * as {@link listArchived} does.
 */
export async function findArchived(options: FindArchivedOptions): Promise<ArchivedEvent | undefined> {
  const until = options.until ?? new Date();
  const since = options.since ?? new Date(until.getTime() - 24 * 3_600_000);
  const events = await listArchived({ ...options, since, until });
  return events.find((event) => event.dedupeKey === options.dedupeKey);
}
