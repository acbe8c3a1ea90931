import type { SQSRecord } from 'aws-lambda';
import { MessageFormatError, PayloadStoreError } from '../ingest/errors';
import { fetchCiphertext, type MessageHints, readMetadata, s3ClientOf, type S3ClientSource } from '../ingest/message';
import { archiveKey, type ArchiveItem, encodeArchive, hourPrefix } from './format';

/**
 * The archive writer: a source's processor calls {@link archiveBatch} on its whole SQS batch
 * before any record is handled or forwarded, and fails the batch when it throws, so nothing
 * reaches a handler or a destination unarchived. One PUT per (source, UTC hour) group of the
 * batch (format.ts); no KMS call (the ciphertexts are stored as enqueued; the bucket encrypts
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

/** One object the writer put. */
export interface ArchivedObject {
  readonly key: string;
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

/** A record's item, or undefined when it can never open. Throws when S3 fails (worth a retry). */
async function itemOf(record: SQSRecord, deps: ArchiveWriterDeps): Promise<(ArchiveItem & { readonly source: string }) | undefined> {
  let hints: MessageHints;
  try {
    hints = readMetadata(record);
  } catch (err) {
    if (err instanceof MessageFormatError) return undefined;
    throw err;
  }
  if (deps.source !== undefined && hints.source !== deps.source) return undefined;
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
  const { source, dedupeKey, eventId, eventType, receivedAt } = hints;
  return { source, dedupeKey, ...(eventId !== undefined ? { eventId } : {}), ...(eventType !== undefined ? { eventType } : {}), receivedAt, ciphertext };
}

/** The time of a `receivedAt` hint, or now when it does not parse. */
function timeOf(receivedAt: string, now: () => Date): Date {
  const time = new Date(receivedAt);
  return Number.isNaN(time.getTime()) ? now() : time;
}

/**
 * Archives a batch (see the module comment): groups its records by source and UTC hour of
 * `receivedAt`, writes one `HGA1` object per group, all in parallel. Throws when a payload
 * object cannot be read or a PUT fails: the caller must then fail the whole batch.
 */
export async function archiveBatch(records: readonly SQSRecord[], deps: ArchiveWriterDeps): Promise<ArchiveBatchResult> {
  const now = deps.now ?? (() => new Date());
  const items = await Promise.all(records.map((record) => itemOf(record, deps)));
  const groups = new Map<string, { source: string; first: Date; items: ArchiveItem[] }>();
  for (const item of items) {
    if (item === undefined) continue;
    const time = timeOf(item.receivedAt, now);
    const group = hourPrefix(item.source, time);
    const existing = groups.get(group);
    if (existing === undefined) groups.set(group, { source: item.source, first: time, items: [item] });
    else {
      existing.items.push(item);
      if (time < existing.first) existing.first = time;
    }
  }
  if (groups.size === 0) return { objects: [], archived: 0, skipped: records.length };
  const [s3, { PutObjectCommand }] = await Promise.all([s3ClientOf(deps.s3), import('../ingest/s3')]);
  const objects = await Promise.all(
    [...groups.values()].map(async ({ source, first, items: group }) => {
      // In time order, so a reader's listing is too.
      const sorted = [...group].sort((a, b) => timeOf(a.receivedAt, now).getTime() - timeOf(b.receivedAt, now).getTime());
      const key = archiveKey(source, first, sorted.map(({ dedupeKey }) => dedupeKey));
      const body = encodeArchive(source, sorted);
      await s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: key, Body: body, ContentType: 'application/octet-stream' }));
      return { key, events: sorted.length, bytes: body.length };
    }),
  );
  const archived = objects.reduce((sum, { events }) => sum + events, 0);
  return { objects, archived, skipped: records.length - archived };
}
