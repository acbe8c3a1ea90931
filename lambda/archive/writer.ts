import type { SQSRecord } from 'aws-lambda';
import { MessageFormatError, PayloadStoreError } from '../ingest/errors';
import { fetchCiphertext, type MessageHints, readMetadata, s3ClientOf, type S3ClientSource } from '../ingest/message';
import { archiveKey, type ArchiveItem, encodeArchiveWithIndex, hourPrefix, indexKeyOf } from './format';

/**
 * The archive writer: a source's processor calls {@link archiveBatch} on its whole SQS batch
 * before any record is handled or forwarded, and fails the batch when it throws, so nothing
 * reaches a handler or a destination unarchived. One object per (source, UTC hour) group of the
 * batch (format.ts), more only for a group holding over {@link MAX_POINTERS_PER_OBJECT} bodies
 * too large for SQS (so a batch of large bodies never sits in memory at once); each object is
 * two PUTs: the object, then its index (only once the object is stored, so an index never names
 * a missing object). No KMS call (the ciphertexts are stored as enqueued; the bucket encrypts
 * with its key through S3).
 *
 * Records that can never open are not archived (they go to the DLQ, never to a handler or a
 * destination): a record not in the hookgate format, of another source than `source`, or whose
 * pointer names another object or an object that no longer exists.
 */

/** What {@link archiveBatch} needs. */
export interface ArchiveWriterDeps {
  /** S3 client, or a function giving one on first use (ingest/message.ts `lazyS3Client`). */
  readonly s3: S3ClientSource;
  /** The archive bucket. */
  readonly bucket: string;
  /** The payload bucket: pointer messages' ciphertexts are read from it. */
  readonly payloadBucket: string;
  /** Only records of this source are archived (a processor's own). @default every source the records claim */
  readonly source?: string;
  /** Clock for a record whose `receivedAt` hint does not parse (its hour). @default Date.now */
  readonly now?: () => Date;
}

/** One object the writer put, with its index. */
export interface ArchivedObject {
  readonly key: string;
  /** Its index object's key (format.ts `indexKeyOf`). */
  readonly indexKey: string;
  /** Events in it. */
  readonly events: number;
  /** Its size in bytes. */
  readonly bytes: number;
}

/** What {@link archiveBatch} did. */
export interface ArchiveBatchResult {
  readonly objects: readonly ArchivedObject[];
  /** Events archived. */
  readonly archived: number;
  /** Records left out because they can never open (see the module comment). */
  readonly skipped: number;
}

/** The error S3 gives for a missing key. */
function missingObject(err: unknown): boolean {
  const cause = err instanceof PayloadStoreError ? err.cause : err;
  return typeof cause === 'object' && cause !== null && 'name' in cause && (cause.name === 'NoSuchKey' || cause.name === 'NotFound');
}

/** A record to archive: its hints, and how to get its ciphertext. */
interface Pending {
  readonly record: SQSRecord;
  readonly hints: MessageHints;
  readonly time: Date;
}

/** The record's hints when it is this source's hookgate message, else undefined (it can never open). */
function hintsOf(record: SQSRecord, deps: ArchiveWriterDeps): MessageHints | undefined {
  try {
    const hints = readMetadata(record);
    return deps.source === undefined || hints.source === deps.source ? hints : undefined;
  } catch (err) {
    if (err instanceof MessageFormatError) return undefined;
    throw err;
  }
}

/** The item of a record, or undefined when its pointer names no object it may have. Throws when S3 fails (worth a retry). */
async function itemOf({ record, hints }: Pending, deps: ArchiveWriterDeps): Promise<ArchiveItem | undefined> {
  let ciphertext: Uint8Array;
  if (hints.payload === 'inline') ciphertext = Buffer.from(record.body, 'base64');
  else {
    try {
      ciphertext = await fetchCiphertext(record, hints, { s3: deps.s3, bucket: deps.payloadBucket });
    } catch (err) {
      if (err instanceof MessageFormatError || missingObject(err)) return undefined;
      throw err;
    }
  }
  const { dedupeKey, eventId, eventType, receivedAt } = hints;
  return { dedupeKey, ...(eventId !== undefined ? { eventId } : {}), ...(eventType !== undefined ? { eventType } : {}), receivedAt, ciphertext };
}

/** The time of a `receivedAt` hint, or now when it does not parse. */
function timeOf(receivedAt: string, now: () => Date): Date {
  const time = new Date(receivedAt);
  return Number.isNaN(time.getTime()) ? now() : time;
}

/**
 * Most pointer messages (bodies over the SQS limit, up to a few MiB each) in one object: bounds
 * the memory a batch of large bodies takes (objects are written one after another).
 */
export const MAX_POINTERS_PER_OBJECT = 8;

/**
 * The objects to write: records grouped by source and UTC hour, each group in time order (then
 * dedupe key: the same records always make the same objects), split after
 * {@link MAX_POINTERS_PER_OBJECT} pointer messages.
 */
function partsOf(pending: readonly Pending[]): Pending[][] {
  const groups = new Map<string, Pending[]>();
  for (const item of pending) {
    const group = hourPrefix(item.hints.source, item.time);
    groups.set(group, [...(groups.get(group) ?? []), item]);
  }
  const parts: Pending[][] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => a.time.getTime() - b.time.getTime() || a.hints.dedupeKey.localeCompare(b.hints.dedupeKey));
    let part: Pending[] = [];
    let pointers = 0;
    for (const item of group) {
      if (item.hints.payload === 's3' && pointers === MAX_POINTERS_PER_OBJECT) {
        parts.push(part);
        part = [];
        pointers = 0;
      }
      part.push(item);
      if (item.hints.payload === 's3') pointers += 1;
    }
    parts.push(part);
  }
  return parts;
}

/**
 * Archives a batch (see the module comment): groups its records by source and UTC hour of
 * `receivedAt` and writes one `HGA1` object and its index per group (more only for a group with
 * many pointer messages). Objects of inline messages only are written in parallel; those holding
 * pointer messages one after another. Throws when a payload object cannot be read or a PUT
 * fails: the caller must then fail the whole batch (its retry writes the objects again).
 */
export async function archiveBatch(records: readonly SQSRecord[], deps: ArchiveWriterDeps): Promise<ArchiveBatchResult> {
  const now = deps.now ?? (() => new Date());
  const pending: Pending[] = [];
  for (const record of records) {
    const hints = hintsOf(record, deps);
    if (hints !== undefined) pending.push({ record, hints, time: timeOf(hints.receivedAt, now) });
  }
  if (pending.length === 0) return { objects: [], archived: 0, skipped: records.length };
  const [s3, { PutObjectCommand }] = await Promise.all([s3ClientOf(deps.s3), import('../ingest/s3')]);
  const write = async (part: readonly Pending[]): Promise<ArchivedObject | undefined> => {
    const items = (await Promise.all(part.map((item) => itemOf(item, deps)))).filter((item): item is ArchiveItem => item !== undefined);
    const first = part.find((item) => items.some(({ dedupeKey }) => dedupeKey === item.hints.dedupeKey));
    if (first === undefined) return undefined;
    const key = archiveKey(first.hints.source, first.time, items.map(({ dedupeKey }) => dedupeKey));
    const { object, index } = encodeArchiveWithIndex(first.hints.source, items);
    const indexKey = indexKeyOf(key);
    // The object first: its index is put only once the object is stored.
    await s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: key, Body: object, ContentType: 'application/octet-stream' }));
    await s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: indexKey, Body: index, ContentType: 'application/json' }));
    return { key, indexKey, events: items.length, bytes: object.length };
  };
  const parts = partsOf(pending);
  const inline = parts.filter((part) => part.every(({ hints }) => hints.payload === 'inline'));
  const objects = await Promise.all(inline.map(write));
  for (const part of parts.filter((p) => !inline.includes(p))) objects.push(await write(part));
  const written = objects.filter((object): object is ArchivedObject => object !== undefined);
  const archived = written.reduce((sum, { events }) => sum + events, 0);
  return { objects: written, archived, skipped: records.length - archived };
}
