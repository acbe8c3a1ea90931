import { type MessageAttributeValue, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { matchesEvents } from '../config/destinations';
import { sendableAttributes } from '../ingest/dead-letter';
import { IngestError, neverOpens } from '../ingest/errors';
import { messageSize, SQS_MAX_MESSAGE_BYTES } from '../ingest/message';
import { errorName } from '../runtime/error-names';
import { METRICS } from '../runtime/telemetry';
import type { LogFields, ProcessorLogger } from './api';
import { type ArchiveBatch, archiveFirst, BatchFailedError, type OpenedMessage, type ProcessorMetricName } from './batch';

/**
 * The processor of a source with destinations: instead of running handlers, it forwards each
 * event of its work queue to the queues of the destinations whose `events` filter matches it.
 *
 * - Routing uses the event type sealed with the body (the record is opened: decrypted, binding
 *   checked), never the `eventType` attribute, which anyone allowed to send to the queue could
 *   write. A record that can never open goes to the source's DLQ, as with handlers.
 * - What is forwarded is the record itself, body and attributes exactly as the verifier sent
 *   them (message.ts format): each destination opens it with the same key and binding. A payload
 *   stored in S3 is not deleted here: the destinations read it, and the bucket's lifecycle
 *   rule removes it.
 * - One SendMessageBatch per destination and per 10 records (or 1 MiB). A record is done when
 *   every matching destination's queue accepted it; otherwise it is reported failed and retried
 *   whole, so a destination that already has it gets it again: delivery is at-least-once, and
 *   destinations see a stable dedupe key (and `webhook-id`).
 * - An event that matches no destination is dropped on purpose: counted (`Unmatched`) and
 *   logged with its metadata.
 * - With `archive`, the whole batch is archived first (lambda/archive/writer.ts); if that fails,
 *   nothing is forwarded and the whole batch is retried: no destination sees an unarchived event.
 */

/** One destination as the fan-out sees it (`HOOKGATE_DESTINATION_QUEUES`, one entry per destination). */
export interface DestinationQueue {
  /** The destination's name (config key): the `destination` dimension of `Forwarded`. */
  readonly name: string;
  /** Its event filter (see `matchesEvents`); undefined: every event. */
  readonly events?: readonly string[];
  /** URL of the destination's queue. */
  readonly queueUrl: string;
}

/** The metrics the fan-out emits. */
export type FanOutMetricName = ProcessorMetricName | typeof METRICS.forwarded | typeof METRICS.unmatched;

/** Counts what a batch did; the AWS entry point backs it with Powertools Metrics (EMF). */
export interface FanOutMetrics {
  /** Counts `value` of `name`; with `destination`, the metric carries that dimension too. */
  count(name: FanOutMetricName, value: number, destination?: string): void;
  /** Called once per invocation, after the batch. */
  flush(): void;
}

/** What the fan-out needs; everything with I/O is passed in. */
export interface FanOutDeps {
  /** The source's destinations (at least one). */
  readonly destinations: readonly DestinationQueue[];
  /** Opens one record (ingest/message.ts `openMessage`); throws if it cannot. */
  readonly open: (record: SQSRecord) => Promise<OpenedMessage>;
  /** Sends to the destination queues. */
  readonly sqs: SQSClient;
  readonly logger: ProcessorLogger;
  readonly metrics?: FanOutMetrics;
  /**
   * Sends a record that can never open to the source's DLQ (ingest/dead-letter.ts); when it
   * throws, the record is retried as usual. @default none: such records use up `maxReceiveCount`
   */
  readonly deadLetter?: (record: SQSRecord, reason: string) => Promise<void>;
  /** Most bytes (as SQS counts them) in one SendMessageBatch. @default 1048576 (the SQS limit) */
  readonly maxBatchBytes?: number;
  /**
   * Archives the whole batch before any record is opened or forwarded (see `ProcessorDeps.archive`):
   * when it throws, nothing is forwarded and the whole batch fails. @default no archive
   */
  readonly archive?: ArchiveBatch;
}

/** SQS limit on entries per SendMessageBatch. */
export const MAX_BATCH_ENTRIES = 10;

/** One record on its way to one destination queue. */
export interface FanOutEntry {
  /** The SendMessageBatch entry id: the record's index in the batch. */
  readonly id: string;
  readonly record: SQSRecord;
  readonly attributes: Record<string, MessageAttributeValue>;
  /** Its size as SQS counts it (body and attributes). */
  readonly size: number;
}

/**
 * Splits entries into SendMessageBatch calls of at most {@link MAX_BATCH_ENTRIES} entries and
 * `maxBytes` in all, in order. An entry bigger than `maxBytes` goes alone (SQS judges it).
 */
export function chunkEntries<T extends { readonly size: number }>(entries: readonly T[], maxBytes: number = SQS_MAX_MESSAGE_BYTES): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (current.length > 0 && (current.length === MAX_BATCH_ENTRIES || bytes + entry.size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The error's class name (and hookgate code), never its message. */
function describe(err: unknown): LogFields {
  return err instanceof IngestError ? { error: err.name, code: err.code } : { error: errorName(err) };
}

/** Metadata of an opened message, safe to log. */
function metadataOf(message: OpenedMessage): LogFields {
  return { source: message.source, eventId: message.eventId, dedupeKey: message.dedupeKey, eventType: message.eventType, typeSigned: message.typeSigned };
}

/** What became of one record before any send: where it goes, or why it goes nowhere. */
type Route = { readonly to: readonly DestinationQueue[]; readonly meta: LogFields } | 'dead-lettered' | 'failed';

/**
 * Builds the fan-out handler (see the module comment). Records that fail (a retryable open
 * error, a destination queue that refused or could not be reached) are reported in
 * `batchItemFailures`; when every record failed it throws {@link BatchFailedError}, as the
 * processor does, so Lambda backs off.
 */
export function createFanOutHandler(deps: FanOutDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  const { logger } = deps;
  if (deps.destinations.length === 0) throw new Error('the fan-out needs at least one destination');

  async function route(record: SQSRecord): Promise<Route> {
    const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
    let message: OpenedMessage;
    try {
      message = await deps.open(record);
    } catch (err) {
      const fields = { messageId: record.messageId, attempt, ...describe(err) };
      if (deps.deadLetter === undefined || !neverOpens(err)) {
        logger.error('message could not be opened', fields);
        return 'failed';
      }
      try {
        await deps.deadLetter(record, err.code);
      } catch (moveErr) {
        logger.error('message can never open and could not be moved to the DLQ; it will be retried', { ...fields, moveError: errorName(moveErr) });
        return 'failed';
      }
      logger.error('message can never open; moved to the DLQ', fields);
      return 'dead-lettered';
    }
    const meta = { messageId: record.messageId, attempt, ...metadataOf(message) };
    // The sealed type, never the attribute: the attribute is an unauthenticated hint.
    return { to: deps.destinations.filter((destination) => matchesEvents(destination.events, message.eventType)), meta };
  }

  /** Sends one chunk; returns the entries the queue did not accept. */
  async function send(destination: DestinationQueue, chunk: readonly FanOutEntry[]): Promise<readonly FanOutEntry[]> {
    try {
      const sent = await deps.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: destination.queueUrl,
          Entries: chunk.map(({ id, record, attributes }) => ({ Id: id, MessageBody: record.body, MessageAttributes: attributes })),
        }),
      );
      const accepted = new Set((sent.Successful ?? []).map(({ Id }) => Id));
      const refused = chunk.filter(({ id }) => !accepted.has(id));
      if (refused.length > 0) {
        const codes = [...new Set((sent.Failed ?? []).map(({ Code }) => Code ?? 'unknown'))].sort().join(',');
        logger.error('destination queue refused messages; their records will be retried', { destination: destination.name, refused: refused.length, codes });
      }
      return refused;
    } catch (err) {
      logger.error('destination queue could not be reached; the records will be retried', { destination: destination.name, records: chunk.length, error: errorName(err) });
      return chunk;
    }
  }

  /** Forwards the routed records to one destination; returns the records it did not take. */
  async function forward(destination: DestinationQueue, routes: readonly Route[], records: readonly SQSRecord[]): Promise<readonly FanOutEntry[]> {
    const entries: FanOutEntry[] = [];
    routes.forEach((routed, index) => {
      const record = records[index] as SQSRecord;
      if (typeof routed === 'string' || !routed.to.includes(destination)) return;
      const attributes = sendableAttributes(record);
      entries.push({ id: String(index), record, attributes, size: messageSize(record.body, attributes) });
    });
    if (entries.length === 0) return [];
    const refused = (await Promise.all(chunkEntries(entries, deps.maxBatchBytes).map((chunk) => send(destination, chunk)))).flat();
    if (entries.length > refused.length) deps.metrics?.count(METRICS.forwarded, entries.length - refused.length, destination.name);
    return refused;
  }

  return async (event) => {
    const records = event.Records;
    const failed = new Set<SQSRecord>();
    try {
      await archiveFirst(deps.archive, records, logger, deps.metrics);
      const routes = await Promise.all(records.map(route));
      routes.forEach((routed, index) => {
        if (routed === 'failed') failed.add(records[index] as SQSRecord);
        else if (routed !== 'dead-lettered' && routed.to.length === 0) logger.info('event matches no destination; dropped', routed.meta);
      });
      const refused = await Promise.all(deps.destinations.map((destination) => forward(destination, routes, records)));
      refused.forEach((entries, index) => {
        const destination = deps.destinations[index] as DestinationQueue;
        for (const { id, record } of entries) {
          failed.add(record);
          const routed = routes[Number(id)];
          const meta = typeof routed === 'object' ? routed.meta : { messageId: record.messageId };
          logger.warn('event not forwarded to a destination; the record will be retried whole', { ...meta, destination: destination.name });
        }
      });
      const deadLettered = routes.filter((routed) => routed === 'dead-lettered').length;
      const unmatched = routes.filter((routed) => typeof routed !== 'string' && routed.to.length === 0).length;
      deps.metrics?.count(METRICS.processed, records.length - failed.size - deadLettered);
      if (failed.size > 0) deps.metrics?.count(METRICS.processingFailures, failed.size);
      if (deadLettered > 0) deps.metrics?.count(METRICS.deadLettered, deadLettered);
      if (unmatched > 0) deps.metrics?.count(METRICS.unmatched, unmatched);
      if (records.length > 0 && failed.size === records.length) throw new BatchFailedError(records.length);
      return { batchItemFailures: records.filter((record) => failed.has(record)).map(({ messageId }) => ({ itemIdentifier: messageId })) };
    } finally {
      deps.metrics?.flush();
    }
  };
}
