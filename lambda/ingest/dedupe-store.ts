import type { JSONValue } from '@aws-lambda-powertools/commons/types';
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { DedupeStoreError } from './errors';

/**
 * Dedupe on the DynamoDB table with Powertools idempotency, which implements the lifecycle the
 * design asks for:
 * - a conditional put that succeeds when the key is absent, OR its record expired (`expiration`
 *   < now: TTL deletes late, so an expired record counts as absent), OR it is in progress and its
 *   lease (`in_progress_expiration`, now + the Lambda's remaining time) has run out (a crashed
 *   invocation is taken over);
 * - the record is DELETED when the work throws, so a retry is not dropped as a duplicate;
 * - an update to COMPLETED when the work returned: two writes per accepted event.
 *
 * The table's partition key `id` holds the dedupe key itself (not Powertools' default
 * `<function>#md5(payload)`): keys are already source-namespaced, and on-call can find the record
 * of a logged dedupe key directly.
 *
 * Duplicate detection: the work ran or it did not. Powertools returns the stored result without
 * running the work for a COMPLETED record, and throws IdempotencyAlreadyInProgressError for a live
 * in-progress one.
 */

/** The result of one dedupe attempt. */
export type DedupeOutcome<T> =
  /** This call owned the key and the work ran to completion. */
  | {
      readonly kind: 'first';
      readonly value: T;
      /** False when the work succeeded but marking the record COMPLETED failed (see `once`). */
      readonly recorded: boolean;
    }
  /** A completed record exists: the work did not run. */
  | { readonly kind: 'duplicate' }
  /** Another invocation holds a live lease on the key: the work did not run. */
  | { readonly kind: 'in_progress' };

/** Runs work at most once per dedupe key. */
export interface Dedupe {
  /**
   * Runs `work` unless the key was already done or is in flight. The lease is the invocation's
   * remaining time (`context.getRemainingTimeInMillis()`).
   * Throws DedupeStoreError when the table cannot be used, and whatever `work` throws (after
   * the record was deleted).
   */
  once<T>(dedupeKey: string, context: Context, work: () => Promise<T>): Promise<DedupeOutcome<T>>;
}

export interface DedupeOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Days a completed record keeps later copies out (the config's dedupeTtlDays). */
  readonly ttlDays: number;
}

/**
 * Shortest lease written. Powertools writes no lease at all when the remaining time is 0, and an
 * in-progress record without a lease blocks its key until the record expires (days). Any positive
 * value will do: the invocation cannot outlive its remaining time, so neither can its work.
 */
export const MIN_LEASE_MS = 100;

interface KeyPayload {
  readonly dedupeKey: string;
  readonly [key: string]: JSONValue;
}

/** Powertools' DynamoDB layer with the dedupe key as the partition key value, unhashed. */
class DedupeKeyPersistenceLayer extends DynamoDBPersistenceLayer {
  protected override getHashedIdempotencyKey(data: JSONValue): string {
    const key = (data as Partial<KeyPayload> | null)?.dedupeKey;
    if (typeof key !== 'string' || key.length === 0) throw new DedupeStoreError();
    return key;
  }
}

/** Creates the dedupe over the table (attributes: `id`, `expiration`, `status`, `in_progress_expiration`, `data`). */
export function createDedupe(options: DedupeOptions): Dedupe {
  const persistenceStore = new DedupeKeyPersistenceLayer({ tableName: options.tableName, awsSdkV3Client: options.client });
  const expiresAfterSeconds = Math.round(options.ttlDays * 86_400);

  return {
    async once<T>(dedupeKey: string, context: Context, work: () => Promise<T>): Promise<DedupeOutcome<T>> {
      // Per-call state: the same handler serves concurrent requests locally, so nothing shared.
      const state: { ran: boolean; done: boolean; value?: T } = { ran: false, done: false };
      const guarded = makeIdempotent(
        async (_payload: KeyPayload): Promise<JSONValue> => {
          state.ran = true;
          state.value = await work();
          state.done = true;
          // Stored in the record's `data`: a constant, never anything from the event.
          return 'enqueued';
        },
        {
          persistenceStore,
          // A config per call: the lease comes from this invocation's context.
          config: new IdempotencyConfig({
            expiresAfterSeconds,
            lambdaContext: { ...context, getRemainingTimeInMillis: () => Math.max(MIN_LEASE_MS, context.getRemainingTimeInMillis()) },
          }),
        },
      );
      try {
        await guarded({ dedupeKey });
      } catch (err) {
        if (err instanceof IdempotencyAlreadyInProgressError) return { kind: 'in_progress' };
        // The work finished (SQS accepted) but the COMPLETED update failed: the event is durably
        // accepted, so report it. The in-progress record's lease lets a later retry through,
        // which at worst re-enqueues once (at-least-once; the processor is idempotent).
        if (state.done) return { kind: 'first', value: state.value as T, recorded: false };
        if (state.ran) {
          // The work threw. Powertools deleted the record and rethrew the work's error, or the
          // delete failed and it threw a persistence error (the lease then frees the key).
          if (isPowertoolsError(err)) throw new DedupeStoreError({ cause: err });
          throw err;
        }
        throw new DedupeStoreError({ cause: err });
      }
      if (!state.ran) return { kind: 'duplicate' };
      return { kind: 'first', value: state.value as T, recorded: true };
    },
  };
}

function isPowertoolsError(err: unknown): boolean {
  return err instanceof Error && err.name.startsWith('Idempotency');
}
