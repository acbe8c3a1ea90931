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
 *   ciphertext's `offset` (from the start of the object) and `length`, so a body is one ranged
 *   GET.
 * - Beside each object, its index alone (the same JSON bytes) under `index/` instead of `archive/`,
 *   `.json` instead of `.hga` ({@link indexKeyOf}): listings read only these small objects, and a
 *   grant can name the `index/` prefix without the ciphertexts (the viewer policy). The writer
 *   puts the object first and its index second, so an index never names an object that was not
 *   written, and a batch counts as archived only once both are (an object left without its index
 *   by a crash holds only events of a failed batch, which are archived again on its retry). The object keeps its embedded index, so
 *   it stays self-describing.
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
/** Root of every index key: disjoint from {@link ARCHIVE_PREFIX}. */
export const INDEX_PREFIX = 'index/';
/** Extension of index objects. */
export const INDEX_EXTENSION = '.json';

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

/** An `HGA1` object and its index alone: the JSON bytes embedded in the object. */
export interface EncodedArchive {
  readonly object: Buffer;
  readonly index: Buffer;
}

/** Builds the `HGA1` object of one group (header, index, ciphertexts in the order given) and its index alone. */
export function encodeArchiveWithIndex(source: string, items: readonly ArchiveItem[]): EncodedArchive {
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
      return { object: Buffer.concat([header, json, ...items.map(({ ciphertext }) => ciphertext)]), index: json };
    }
    indexBytes = json.length;
  }
}

/** Builds the `HGA1` object of one group: header, index, ciphertexts in the order given. */
export function encodeArchive(source: string, items: readonly ArchiveItem[]): Buffer {
  return encodeArchiveWithIndex(source, items).object;
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
  return parseIndex(Buffer.from(head.buffer, head.byteOffset, head.byteLength).subarray(ARCHIVE_HEADER_BYTES, end));
}

/** An index from its JSON bytes (an index object, or the index inside an `HGA1` object). */
export function parseIndex(json: Uint8Array): ArchiveIndex {
  let index: unknown;
  try {
    index = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
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

/**
 * The prefix of a source's objects for the UTC hour holding `time`: `archive/<source>/YYYY/MM/DD/HH/`
 * (under `root`: {@link INDEX_PREFIX} gives the prefix of their indexes).
 */
export function hourPrefix(source: string, time: Date, root: string = ARCHIVE_PREFIX): string {
  const [date = '', clock = ''] = time.toISOString().split('T');
  return `${root}${source}/${date.replace(/-/g, '/')}/${clock.slice(0, 2)}/`;
}

/** The key of a group's object (see the module comment); `first` is its earliest `receivedAt`. */
export function archiveKey(source: string, first: Date, dedupeKeys: readonly string[]): string {
  const digest = createHash('sha256').update([...dedupeKeys].sort().join('\n'), 'utf8').digest('hex').slice(0, 16);
  return `${hourPrefix(source, first)}${compactIso(first)}-${digest}${ARCHIVE_EXTENSION}`;
}

/** The key of an object's index: `archive/<path>.hga` → `index/<path>.json`. Throws ArchiveFormatError for another key. */
export function indexKeyOf(objectKey: string): string {
  return swapKey(objectKey, [ARCHIVE_PREFIX, ARCHIVE_EXTENSION], [INDEX_PREFIX, INDEX_EXTENSION]);
}

/** The key of the object an index describes: `index/<path>.json` → `archive/<path>.hga`. Throws ArchiveFormatError for another key. */
export function objectKeyOf(indexKey: string): string {
  return swapKey(indexKey, [INDEX_PREFIX, INDEX_EXTENSION], [ARCHIVE_PREFIX, ARCHIVE_EXTENSION]);
}

function swapKey(key: string, [prefix, extension]: readonly [string, string], [toPrefix, toExtension]: readonly [string, string]): string {
  if (!key.startsWith(prefix) || !key.endsWith(extension) || key.length <= prefix.length + extension.length) throw new ArchiveFormatError(`${key} is not a key under ${prefix} ending in ${extension}`);
  return `${toPrefix}${key.slice(prefix.length, key.length - extension.length)}${toExtension}`;
}

/** The start of each UTC hour that holds a time of `[since, until)`. */
export function hoursBetween(since: Date, until: Date): Date[] {
  const hour = 3_600_000;
  const hours: Date[] = [];
  for (let t = Math.floor(since.getTime() / hour) * hour; t < until.getTime(); t += hour) hours.push(new Date(t));
  return hours;
}
