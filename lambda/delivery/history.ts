import { type AttributeValue, type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { Verdict } from './contract';

/**
 * Delivery history: one item per attempt in the delivery table, keyed by the event so the
 * replay tooling finds every attempt of an event at every destination with one query. Metadata
 * only: never a body, a header value or a response body. Items expire after the configured days
 * (DynamoDB TTL on `expiresAt`).
 */

/** One attempt as recorded. */
export interface AttemptRecord {
  /** The event's dedupe key (`<source>:...`). */
  readonly dedupeKey: string;
  readonly source: string;
  readonly destination: string;
  /** 1 for the first attempt (the SQS receive count). */
  readonly attempt: number;
  /** ISO 8601 start of the attempt. */
  readonly at: string;
  readonly statusCode?: number;
  readonly latencyMs: number;
  readonly errorClass?: string;
  readonly verdict: HistoryVerdict;
  /** Set for an attempt of a replayed event. */
  readonly replayId?: string;
}

/**
 * What a history item says: an attempt's verdict, or `retries-exhausted`, the item the engine
 * writes when it moves an event to the DLQ at the end of its retry window (no attempt made).
 */
export type HistoryVerdict = Verdict | 'retries-exhausted';

/** Writes and reads the attempts. Both methods throw HistoryStoreError. */
export interface HistoryStore {
  /** Records one attempt. */
  record(attempt: AttemptRecord): Promise<void>;
  /** Every recorded attempt of an event, by destination then attempt then time; optionally of one destination. */
  attemptsOf(dedupeKey: string, destination?: string): Promise<AttemptRecord[]>;
}

/** Where the history lives. */
export interface HistoryOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Days an attempt is kept (the config's deliveryHistoryDays). */
  readonly days: number;
}

/** Thrown when the delivery table could not be read or written for the history. */
export class HistoryStoreError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('the delivery history could not be used', options);
    this.name = 'HistoryStoreError';
  }
}

/** Digits of the attempt number in the sort key: SQS counts at most 1000 receives before the DLQ. */
const ATTEMPT_DIGITS = 4;

/**
 * The key of an attempt's item: pk the dedupe key (every dedupe key starts with `<source>:`, the
 * prefix a function's IAM LeadingKeys condition allows), sk `<destination>#<attempt>#<ISO time>`
 * with the attempt zero-padded, so an event's attempts sort by destination, attempt and time.
 */
export function historyKey(dedupeKey: string, destination: string, attempt: number, at: string): { readonly pk: string; readonly sk: string } {
  return { pk: dedupeKey, sk: `${destination}#${String(attempt).padStart(ATTEMPT_DIGITS, '0')}#${at}` };
}

/** The partition keys of a source's history items start with this (`<source>:`): for IAM LeadingKeys. */
export function historyKeyPrefix(source: string): string {
  return `${source}:`;
}

function itemOf(attempt: AttemptRecord, expiresAt: number): Record<string, AttributeValue> {
  const { pk, sk } = historyKey(attempt.dedupeKey, attempt.destination, attempt.attempt, attempt.at);
  const item: Record<string, AttributeValue> = {
    pk: { S: pk },
    sk: { S: sk },
    source: { S: attempt.source },
    destination: { S: attempt.destination },
    attempt: { N: String(attempt.attempt) },
    at: { S: attempt.at },
    latencyMs: { N: String(Math.round(attempt.latencyMs)) },
    verdict: { S: attempt.verdict },
    expiresAt: { N: String(expiresAt) },
  };
  if (attempt.statusCode !== undefined) item.statusCode = { N: String(attempt.statusCode) };
  if (attempt.errorClass !== undefined) item.errorClass = { S: attempt.errorClass };
  if (attempt.replayId !== undefined) item.replayId = { S: attempt.replayId };
  return item;
}

function recordOf(item: Record<string, AttributeValue>): AttemptRecord {
  const statusCode = item.statusCode?.N;
  const errorClass = item.errorClass?.S;
  const replayId = item.replayId?.S;
  return {
    dedupeKey: item.pk?.S ?? '',
    source: item.source?.S ?? '',
    destination: item.destination?.S ?? '',
    attempt: Number(item.attempt?.N),
    at: item.at?.S ?? '',
    latencyMs: Number(item.latencyMs?.N),
    verdict: (item.verdict?.S ?? 'retry') as HistoryVerdict,
    ...(statusCode === undefined ? {} : { statusCode: Number(statusCode) }),
    ...(errorClass === undefined ? {} : { errorClass }),
    ...(replayId === undefined ? {} : { replayId }),
  };
}

/** Creates the history over the delivery table. */
export function createHistoryStore(options: HistoryOptions): HistoryStore {
  const ttlSeconds = Math.round(options.days * 86_400);
  return {
    async record(attempt) {
      const expiresAt = Math.floor(Date.parse(attempt.at) / 1000) + ttlSeconds;
      try {
        await options.client.send(new PutItemCommand({ TableName: options.tableName, Item: itemOf(attempt, expiresAt) }));
      } catch (err) {
        throw new HistoryStoreError({ cause: err });
      }
    },

    attemptsOf: (dedupeKey, destination) => attemptsOf(options, dedupeKey, destination),
  };
}

/**
 * Every recorded attempt of an event (for the replay tooling), by destination then attempt then
 * time; only those of `destination` when given. Throws HistoryStoreError.
 */
export async function attemptsOf(table: Pick<HistoryOptions, 'client' | 'tableName'>, dedupeKey: string, destination?: string): Promise<AttemptRecord[]> {
  const out: AttemptRecord[] = [];
  let start: Record<string, AttributeValue> | undefined;
  try {
    do {
      const page = await table.client.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: destination === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :dest)',
          ExpressionAttributeValues: { ':pk': { S: dedupeKey }, ...(destination === undefined ? {} : { ':dest': { S: `${destination}#` } }) },
          ExclusiveStartKey: start,
        }),
      );
      out.push(...(page.Items ?? []).map(recordOf));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  } catch (err) {
    throw new HistoryStoreError({ cause: err });
  }
  return out;
}
