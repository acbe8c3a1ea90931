import { createHash } from 'node:crypto';

/**
 * The archive's object format and key layout (version 1).
 *
 * - One object per (source, UTC hour of `receivedAt`) group of a processor's batch, under
 *   `archive/<source>/<YYYY>/<MM>/<DD>/<HH>/<first receivedAt, compact ISO>-<16 hex>.hga`, where
 *   the 16 hex are the start of the SHA-256 over the group's dedupe keys (sorted, one per line):
 *   a retried identical batch writes the same key again, a different retry another object.
 *   Readers dedupe by dedupe key. No PHI in a key: source names and times only.
 * - An object (`HGA1`): 4 bytes ASCII `HGA1`, a uint32 big-endian N, N bytes of UTF-8 JSON
 *   {@link ArchiveIndex}, then the ciphertexts back to back. Each index entry gives its
 *   ciphertext's `offset` (from the start of the object) and `length`, so a listing reads the
 *   header and index only, and a body is one ranged GET.
 * - A ciphertext is the Encryption SDK message exactly as enqueued (the verifier's sealed
 *   envelope, bound to `{source, dedupeKey}`): the archive never decrypts. The index metadata
 *   comes from the message attributes, unauthenticated hints; the binding is checked when a body
 *   is opened.
 */

/** The object's first four bytes. */
export const ARCHIVE_MAGIC = 'HGA1';
/** Bytes before the index: the magic and the index length. */
export const ARCHIVE_HEADER_BYTES = 8;
/** Root of every archive key. */
export const ARCHIVE_PREFIX = 'archive/';
/** Extension of archive objects. */
export const ARCHIVE_EXTENSION = '.hga';

/** One event in an archive object's index: metadata only. */
export interface ArchiveIndexEntry {
  readonly dedupeKey: string;
  readonly eventId?: string;
  readonly eventType?: string;
  /** ISO 8601 time the verifier received the request (the `receivedAt` attribute). */
  readonly receivedAt: string;
  /** Bytes of the ciphertext. */
  readonly size: number;
  /** Where the ciphertext starts, from the start of the object. */
  readonly offset: number;
  /** Bytes of the ciphertext in the object (equals `size`). */
  readonly length: number;
}

/** The JSON index of an archive object. */
export interface ArchiveIndex {
  readonly version: 1;
  readonly source: string;
  readonly events: readonly ArchiveIndexEntry[];
}

/** One event to archive: its metadata hints and its ciphertext. */
export interface ArchiveItem {
  readonly dedupeKey: string;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly receivedAt: string;
  readonly ciphertext: Uint8Array;
}

/** Thrown when bytes are not an `HGA1` object (or a truncated one). */
export class ArchiveFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveFormatError';
  }
}

/** Builds the `HGA1` object of one group: header, index, ciphertexts in the order given. */
export function encodeArchive(source: string, items: readonly ArchiveItem[]): Buffer {
  // Offsets depend on the index length, which depends on the offsets' digits: settle it by
  // growing the assumed length until the encoded index fits it.
  let indexBytes = 0;
  for (;;) {
    let offset = ARCHIVE_HEADER_BYTES + indexBytes;
    const events = items.map(({ ciphertext, ...meta }) => {
      const entry: ArchiveIndexEntry = { ...meta, size: ciphertext.byteLength, offset, length: ciphertext.byteLength };
      offset += ciphertext.byteLength;
      return entry;
    });
    const json = Buffer.from(JSON.stringify({ version: 1, source, events } satisfies ArchiveIndex), 'utf8');
    if (json.length === indexBytes) {
      const header = Buffer.alloc(ARCHIVE_HEADER_BYTES);
      header.write(ARCHIVE_MAGIC, 0, 'ascii');
      header.writeUInt32BE(json.length, 4);
      return Buffer.concat([header, json, ...items.map(({ ciphertext }) => ciphertext)]);
    }
    indexBytes = json.length;
  }
}

/**
 * Bytes an object's header and index take, read from its first {@link ARCHIVE_HEADER_BYTES}
 * bytes. Throws ArchiveFormatError when they are not an `HGA1` header.
 */
export function indexEnd(head: Uint8Array): number {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (bytes.length < ARCHIVE_HEADER_BYTES || bytes.toString('ascii', 0, 4) !== ARCHIVE_MAGIC) throw new ArchiveFormatError('not an HGA1 archive object');
  return ARCHIVE_HEADER_BYTES + bytes.readUInt32BE(4);
}

/** The index of an object from its first bytes (at least {@link indexEnd} of them). */
export function decodeIndex(head: Uint8Array): ArchiveIndex {
  const end = indexEnd(head);
  if (head.byteLength < end) throw new ArchiveFormatError('truncated HGA1 index');
  let index: unknown;
  try {
    index = JSON.parse(Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('utf8', ARCHIVE_HEADER_BYTES, end));
  } catch {
    throw new ArchiveFormatError('unreadable HGA1 index');
  }
  const { version, source, events } = (index ?? {}) as Partial<ArchiveIndex>;
  if (version !== 1 || typeof source !== 'string' || !Array.isArray(events)) throw new ArchiveFormatError('unknown HGA1 index');
  return { version, source, events };
}

/** `2026-12-01T10:04:05.123Z` → `20261201T100405123Z`: sortable, no separators. */
export function compactIso(time: Date): string {
  return time.toISOString().replace(/[-:.]/g, '');
}

/** The prefix of a source's objects for the UTC hour holding `time`: `archive/<source>/YYYY/MM/DD/HH/`. */
export function hourPrefix(source: string, time: Date): string {
  const [date = '', clock = ''] = time.toISOString().split('T');
  return `${ARCHIVE_PREFIX}${source}/${date.replace(/-/g, '/')}/${clock.slice(0, 2)}/`;
}

/** The key of a group's object (see the module comment); `first` is its earliest `receivedAt`. */
export function archiveKey(source: string, first: Date, dedupeKeys: readonly string[]): string {
  const digest = createHash('sha256').update([...dedupeKeys].sort().join('\n'), 'utf8').digest('hex').slice(0, 16);
  return `${hourPrefix(source, first)}${compactIso(first)}-${digest}${ARCHIVE_EXTENSION}`;
}

/** The start of each UTC hour that holds a time of `[since, until)`. */
export function hoursBetween(since: Date, until: Date): Date[] {
  const hour = 3_600_000;
  const hours: Date[] = [];
  for (let t = Math.floor(since.getTime() / hour) * hour; t < until.getTime(); t += hour) hours.push(new Date(t));
  return hours;
}
