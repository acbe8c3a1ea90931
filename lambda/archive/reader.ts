import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type ArchiveIndexEntry, decodeIndex, hourPrefix, hoursBetween, indexEnd } from './format';

/**
 * Reading the archive (format.ts) without decrypting: listings read metadata only (one
 * ListObjectsV2 per hour prefix of the range, then each object's header and index: one ranged
 * GET of its first {@link INDEX_READ_BYTES}, a second only when the index is longer), and a
 * body is one ranged GET of its ciphertext, which the caller opens with the envelope (the
 * binding to `{source, dedupeKey}` is checked there: the index holds unauthenticated hints).
 */

/** Bytes of an object read first: the header and, nearly always, the whole index. */
export const INDEX_READ_BYTES = 64 * 1024;
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
  /** The archive object holding it. */
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

/** Bytes `[start, end]` (inclusive) of an object. */
async function readRange(store: ArchiveStore, key: string, start: number, end: number): Promise<Uint8Array> {
  const object = await store.s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: key, Range: `bytes=${start}-${end}` }));
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

/** The events an object's index lists; reads its header and index only. */
async function eventsOf(store: ArchiveStore, key: string): Promise<ArchivedEvent[]> {
  let head = await readRange(store, key, 0, INDEX_READ_BYTES - 1);
  const end = indexEnd(head);
  if (end > head.byteLength) head = Buffer.concat([head, await readRange(store, key, head.byteLength, end - 1)]);
  const index = decodeIndex(head);
  return index.events.map((entry) => ({ ...entry, source: index.source, objectKey: key }));
}

/**
 * The archived events of a source received in `[since, until)`, optionally of one event type,
 * each dedupe key once (a retried batch may have archived it twice; the first object in key
 * order wins), ordered by `receivedAt`. Reads only the hour prefixes of the range and each
 * object's index. Throws when `since` is after `until` or when S3 fails.
 */
export async function listArchived(options: ListArchivedOptions): Promise<ArchivedEvent[]> {
  const { source, since, until, type } = options;
  if (since.getTime() > until.getTime()) throw new RangeError('since is after until');
  const keys = (await mapBounded(hoursBetween(since, until), (hour) => keysUnder(options, hourPrefix(source, hour)))).flat();
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
 * enqueued, to open with the envelope and the event's `{source, dedupeKey}`.
 */
export async function readArchived(store: ArchiveStore, event: Pick<ArchivedEvent, 'objectKey' | 'offset' | 'length'>): Promise<Buffer> {
  const bytes = await readRange(store, event.objectKey, event.offset, event.offset + event.length - 1);
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
 * range bounds the search: default the last 24 hours), or undefined.
 */
export async function findArchived(options: FindArchivedOptions): Promise<ArchivedEvent | undefined> {
  const until = options.until ?? new Date();
  const since = options.since ?? new Date(until.getTime() - 24 * 3_600_000);
  const events = await listArchived({ ...options, since, until });
  return events.find((event) => event.dedupeKey === options.dedupeKey);
}
