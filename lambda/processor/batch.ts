import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { IngestError, neverOpens } from '../ingest/errors';
import type { OpenedMessage as IngestMessage } from '../ingest/message';
import { replayIdOf } from '../ingest/message';
import { errorName } from '../runtime/error-names';
import { METRICS } from '../runtime/telemetry';
import type { Handlers, LogFields, ProcessorLogger, WebhookEvent } from './api';

/** A message as the ingest side hands it over (opened, decrypted, binding checked, sealed facts and headers). */
export type OpenedMessage = IngestMessage;

/** The metrics a processor emits. */
export type ProcessorMetricName =
  | typeof METRICS.processed
  | typeof METRICS.processingFailures
  | typeof METRICS.deadLettered
  | typeof METRICS.payloadDeleteFailures;

/** Counts what a batch did; the AWS entry point backs it with Powertools Metrics (EMF). */
export interface ProcessorMetrics {
  count(name: ProcessorMetricName, value: number): void;
  /** Called once per invocation, after the batch. */
  flush(): void;
}

/** What a processor needs; everything with I/O is passed in, so tests and local mode swap it. */
export interface ProcessorDeps {
  /** Opens one record (S3 pointer, decryption, encryption-context check); throws if it cannot. */
  readonly open: (record: SQSRecord) => Promise<OpenedMessage>;
  readonly handlers: Handlers;
  readonly logger: ProcessorLogger;
  readonly metrics?: ProcessorMetrics;
  /**
   * Runs after a record's handler succeeded: deletes its payload object (ingest/message.ts
   * `deletePayload`). A failure is logged and counted, never fails the record: the bucket's
   * lifecycle rule removes the object later. @default nothing
   */
  readonly release?: (message: OpenedMessage) => Promise<void>;
  /**
   * Sends a record that can never open to the source's DLQ (ingest/dead-letter.ts), with the
   * error code as the reason; the record is then reported as done. When it throws, the record
   * is retried as usual. @default none: such records use up `maxReceiveCount` like any failure
   */
  readonly deadLetter?: (record: SQSRecord, reason: string) => Promise<void>;
  /**
   * Archives the whole batch before any record is opened or handled (lambda/archive/writer.ts
   * `archiveBatch`); when it throws, no record is handled and the whole batch fails (it is
   * retried). @default no archive (a destination's function: the source's processor archived)
   */
  readonly archive?: ArchiveBatch;
}

/** Writes a whole batch to the archive; throws when it could not. */
export type ArchiveBatch = (records: readonly SQSRecord[]) => Promise<void>;

/**
 * Thrown when every record of a batch failed, so Lambda counts an error and backs off. It
 * carries no cause on purpose: a user handler's error message may quote the payload.
 */
export class BatchFailedError extends Error {
  constructor(readonly failed: number) {
    super(`all ${failed} records of the batch failed; they will be retried, then moved to the DLQ`);
    this.name = 'BatchFailedError';
  }
}

/** Thrown when a batch could not be archived: nothing of it was handled or forwarded, all of it is retried. */
export class ArchiveFailedError extends Error {
  constructor(readonly records: number) {
    super(`the batch of ${records} records could not be archived; none was processed, all will be retried`);
    this.name = 'ArchiveFailedError';
  }
}

/**
 * Runs `archive` on the batch first (both the handlers' processor and the fan-out call it before
 * any other work). On failure: logs the error's name, counts every record as a processing
 * failure and throws {@link ArchiveFailedError}, so Lambda retries the whole batch.
 */
export async function archiveFirst(
  archive: ArchiveBatch | undefined,
  records: readonly SQSRecord[],
  logger: ProcessorLogger,
  metrics: { count(name: typeof METRICS.processingFailures, value: number): void } | undefined,
): Promise<void> {
  if (archive === undefined || records.length === 0) return;
  try {
    await archive(records);
  } catch (err) {
    logger.error('batch not archived; nothing of it was processed, the whole batch will be retried', { records: records.length, ...describe(err) });
    metrics?.count(METRICS.processingFailures, records.length);
    throw new ArchiveFailedError(records.length);
  }
}

/** Builds the event handed to user code: sealed metadata, exact bytes, lazy parsers. */
export function toWebhookEvent(message: Omit<OpenedMessage, 'payload'>, replayId?: string): WebhookEvent {
  let parsed: { value: unknown } | undefined;
  return {
    ...(replayId === undefined ? {} : { replayId }),
    source: message.source,
    dedupeKey: message.dedupeKey,
    eventId: message.eventId,
    eventType: message.eventType,
    typeSigned: message.typeSigned,
    receivedAt: message.receivedAt,
    headers: message.headers,
    body: message.body,
    json<T = unknown>(): T {
      parsed ??= { value: JSON.parse(message.body.toString('utf8')) as unknown };
      return parsed.value as T;
    },
    form(): URLSearchParams {
      return new URLSearchParams(message.body.toString('utf8'));
    },
  };
}

/** The error's class name (and hookgate code), never its message: user code or SDKs may quote the payload. */
function describe(err: unknown): LogFields {
  if (err instanceof IngestError) return { error: err.name, code: err.code };
  return { error: errorName(err) };
}

/**
 * The processor Lambda: opens each SQS record and runs the handler registered for its source
 * and event type. A failed record is reported in `batchItemFailures` (only it is retried, then
 * moved to the DLQ after maxReceiveCount); nothing is swallowed. A record that can never open
 * goes to the DLQ at once (`deadLetter`), and a payload object is deleted once its handler
 * succeeded (`release`). The function's event source mapping must enable `ReportBatchItemFailures`.
 */
export function createProcessorHandler(deps: ProcessorDeps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const { logger } = deps;

  /** Per invocation: local mode may run batches of several sources at once in one process. */
  function recordProcessor(counts: { deadLettered: number }): (record: SQSRecord) => Promise<void> {
    async function unopenable(record: SQSRecord, attempt: number, err: unknown): Promise<void> {
      const fields = { messageId: record.messageId, attempt, ...describe(err) };
      if (deps.deadLetter === undefined || !neverOpens(err)) {
        logger.error('message could not be opened', fields);
        throw err;
      }
      try {
        await deps.deadLetter(record, err.code);
      } catch (moveErr) {
        // Never dropped: the record stays on the work queue and SQS's redrive moves it later.
        logger.error('message can never open and could not be moved to the DLQ; it will be retried', { ...fields, moveError: errorName(moveErr) });
        throw err;
      }
      counts.deadLettered += 1;
      logger.error('message can never open; moved to the DLQ', fields);
    }

    return async (record) => {
      const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
      let message: OpenedMessage;
      try {
        message = await deps.open(record);
      } catch (err) {
        return unopenable(record, attempt, err);
      }
      const event = toWebhookEvent(message, replayIdOf(record));
      const meta = { source: event.source, eventId: event.eventId, dedupeKey: event.dedupeKey, eventType: event.eventType, attempt, ...(event.replayId === undefined ? {} : { replayId: event.replayId }) };
      try {
        await deps.handlers.resolve(event.source, event.eventType)(event, { logger, attempt });
      } catch (err) {
        logger.error('processor handler failed; the message will be retried', { ...meta, ...describe(err) });
        throw err;
      }
      if (deps.release === undefined) return;
      try {
        await deps.release(message);
      } catch (err) {
        // The event is processed; only the object outlives it, until the lifecycle rule.
        logger.warn('payload object not deleted; the bucket lifecycle will remove it', { ...meta, ...describe(err) });
        deps.metrics?.count(METRICS.payloadDeleteFailures, 1);
      }
    };
  }

  return async (event, context) => {
    // A processor per invocation: BatchProcessor keeps per-batch state, and local mode may run
    // batches of different sources concurrently in one process.
    const processor = new BatchProcessor(EventType.SQS);
    const counts = { deadLettered: 0 };
    const total = event.Records.length;
    try {
      await archiveFirst(deps.archive, event.Records, logger, deps.metrics);
      const response = await processPartialResponse(event, recordProcessor(counts), processor, { context });
      const failed = response.batchItemFailures.length;
      deps.metrics?.count(METRICS.processed, total - failed - counts.deadLettered);
      if (failed > 0) deps.metrics?.count(METRICS.processingFailures, failed);
      if (counts.deadLettered > 0) deps.metrics?.count(METRICS.deadLettered, counts.deadLettered);
      return { batchItemFailures: response.batchItemFailures.map(({ itemIdentifier }) => ({ itemIdentifier })) };
    } catch (err) {
      if (err instanceof ArchiveFailedError) throw err;
      if (total > 0 && processor.failureMessages.length === total) {
        deps.metrics?.count(METRICS.processingFailures, total);
        throw new BatchFailedError(total);
      }
      throw err;
    } finally {
      deps.metrics?.flush();
    }
  };
}
