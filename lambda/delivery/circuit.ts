import { randomUUID } from 'node:crypto';
import { type AttributeValue, ConditionalCheckFailedException, type DynamoDBClient, GetItemCommand, UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The circuit breaker of one destination, in the delivery table, shared by every concurrent
 * invocation of the destination's function. One item per destination (see {@link circuitKey});
 * every change is one conditional UpdateItem, so concurrent invocations never overwrite each
 * other's view (no read-modify-write):
 *
 * - closed: `failures` counts consecutive failed attempts. Only a failure writes (an atomic
 *   increment), and a success only when its invocation saw failures, so a healthy destination
 *   costs no write per event. The increment that reaches the threshold opens the breaker.
 * - open until `openUntil`: nothing is attempted. Once it has passed, exactly one invocation wins
 *   the conditional probe claim (half-open, `probeToken`, a lease until `probeUntil`); its
 *   success closes the breaker, its failure opens it again. A probe whose invocation dies frees
 *   itself when its lease ends.
 * - paused (by a person, or by a 410 Gone answer): nothing is attempted until resumed.
 *
 * A missing item is a closed breaker with no failures.
 */

/** Why a destination is paused: a 410 Gone answer, or a person (the `hookgate` command). */
export type PauseReason = 'gone' | 'manual';

/** The breaker's state as stored. Times are epoch milliseconds. */
export type CircuitState =
  | { readonly state: 'closed'; readonly failures: number }
  | { readonly state: 'open'; readonly failures: number; readonly openUntil: number }
  | { readonly state: 'half-open'; readonly failures: number; readonly probeUntil: number }
  | { readonly state: 'paused'; readonly failures: number; readonly reason: PauseReason; readonly since?: string };

/** The table the breaker lives in. */
export interface CircuitTable {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** Which destination. */
export interface DestinationRef {
  readonly source: string;
  readonly destination: string;
}

/** Partition key prefix of every circuit item (history items start with `<source>:`, never this). */
export const CIRCUIT_KEY_PREFIX = 'circuit#';

/** The key of a destination's breaker item: pk `circuit#<source>/<destination>`, sk `state`. */
export function circuitKey(source: string, destination: string): { readonly pk: string; readonly sk: string } {
  return { pk: `${CIRCUIT_KEY_PREFIX}${source}/${destination}`, sk: 'state' };
}

/** Thrown when the delivery table could not be read or written for the breaker. */
export class CircuitStoreError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('the circuit breaker state could not be used', options);
    this.name = 'CircuitStoreError';
  }
}

/** What a failed attempt did to the breaker. */
export interface FailureOutcome {
  /** True when this failure opened the breaker (exactly one of concurrent failures does). */
  readonly opened: boolean;
  /** The state after the failure, as read back. */
  readonly state: CircuitState;
}

/** A won probe claim: only its holder may close or re-open the breaker. */
export interface Probe {
  readonly token: string;
}

/** The breaker of one destination (see the module comment). Every method throws CircuitStoreError. */
export interface CircuitStore {
  read(): Promise<CircuitState>;
  /** Counts a failed attempt while closed; opens for `openSeconds` at `failureThreshold`. */
  recordFailure(input: { readonly nowMs: number; readonly failureThreshold: number; readonly openSeconds: number }): Promise<FailureOutcome>;
  /** Resets the count of a closed breaker after a success (call it only when failures were seen). */
  recordSuccess(): Promise<void>;
  /** Claims the one probe of an open breaker whose time is up (or whose last probe's lease ended). */
  claimProbe(input: { readonly nowMs: number; readonly leaseMs: number }): Promise<Probe | undefined>;
  /** Ends a probe: closes the breaker when healthy, else opens it again. True when this changed it. */
  endProbe(probe: Probe, input: { readonly healthy: boolean; readonly nowMs: number; readonly openSeconds: number }): Promise<boolean>;
  /** Pauses the destination. Returns the state before. */
  pause(reason: PauseReason, nowMs: number): Promise<CircuitState>;
  /** Closes the breaker, whatever its state (a person decided). Returns the state before. */
  resume(nowMs: number): Promise<CircuitState>;
}

const NAMES = { '#s': 'state' };
const n = (value: number): AttributeValue => ({ N: String(value) });
const s = (value: string): AttributeValue => ({ S: value });

function numberOf(item: Record<string, AttributeValue>, name: string): number {
  const value = Number(item[name]?.N);
  return Number.isFinite(value) ? value : 0;
}

/** The state an item holds; a missing or unreadable item is a closed breaker. */
export function circuitStateOf(item: Record<string, AttributeValue> | undefined): CircuitState {
  const failures = item === undefined ? 0 : numberOf(item, 'failures');
  switch (item?.state?.S) {
    case 'open':
      return { state: 'open', failures, openUntil: numberOf(item, 'openUntil') };
    case 'half-open':
      return { state: 'half-open', failures, probeUntil: numberOf(item, 'probeUntil') };
    case 'paused': {
      const since = item.changedAt?.S;
      return { state: 'paused', failures, reason: item.reason?.S === 'gone' ? 'gone' : 'manual', ...(since === undefined ? {} : { since }) };
    }
    default:
      return { state: 'closed', failures };
  }
}

/** Creates the breaker store of one destination. */
export function createCircuitStore(table: CircuitTable, ref: DestinationRef): CircuitStore {
  const { pk, sk } = circuitKey(ref.source, ref.destination);
  const Key = { pk: s(pk), sk: s(sk) };

  /** One conditional update; false when its condition did not hold. */
  async function update(input: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>): Promise<Record<string, AttributeValue> | false> {
    try {
      const out = await table.client.send(new UpdateItemCommand({ TableName: table.tableName, Key, ...input }));
      return out.Attributes ?? {};
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw new CircuitStoreError({ cause: err });
    }
  }

  async function read(): Promise<CircuitState> {
    try {
      const out = await table.client.send(new GetItemCommand({ TableName: table.tableName, Key, ConsistentRead: true }));
      return circuitStateOf(out.Item);
    } catch (err) {
      throw new CircuitStoreError({ cause: err });
    }
  }

  async function open(nowMs: number, failureThreshold: number, openSeconds: number): Promise<boolean> {
    const opened = await update({
      UpdateExpression: 'SET #s = :open, openUntil = :until, changedAt = :at',
      ConditionExpression: '#s = :closed AND failures >= :threshold',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':open': s('open'), ':closed': s('closed'), ':until': n(nowMs + openSeconds * 1000), ':at': s(new Date(nowMs).toISOString()), ':threshold': n(failureThreshold) },
    });
    return opened !== false;
  }

  return {
    read,

    async recordFailure({ nowMs, failureThreshold, openSeconds }) {
      const counted = await update({
        UpdateExpression: 'SET #s = :closed, failures = if_not_exists(failures, :zero) + :one',
        ConditionExpression: 'attribute_not_exists(#s) OR #s = :closed',
        ExpressionAttributeNames: NAMES,
        ExpressionAttributeValues: { ':closed': s('closed'), ':zero': n(0), ':one': n(1) },
        ReturnValues: 'ALL_NEW',
      });
      // Not closed (opened by a concurrent failure, paused, probing): nothing to count.
      if (counted === false) return { opened: false, state: await read() };
      const failures = numberOf(counted, 'failures');
      if (failures < failureThreshold) return { opened: false, state: { state: 'closed', failures } };
      // Of the failures that reach the threshold concurrently, the one whose open holds wins.
      const opened = await open(nowMs, failureThreshold, openSeconds);
      return { opened, state: opened ? { state: 'open', failures, openUntil: nowMs + openSeconds * 1000 } : await read() };
    },

    async recordSuccess() {
      await update({
        UpdateExpression: 'SET failures = :zero',
        ConditionExpression: '#s = :closed AND failures > :zero',
        ExpressionAttributeNames: NAMES,
        ExpressionAttributeValues: { ':closed': s('closed'), ':zero': n(0) },
      });
    },

    async claimProbe({ nowMs, leaseMs }) {
      const token = randomUUID();
      const claimed = await update({
        UpdateExpression: 'SET #s = :half, probeUntil = :lease, probeToken = :token',
        ConditionExpression: '(#s = :open AND openUntil <= :now) OR (#s = :half AND probeUntil <= :now)',
        ExpressionAttributeNames: NAMES,
        ExpressionAttributeValues: { ':open': s('open'), ':half': s('half-open'), ':now': n(nowMs), ':lease': n(nowMs + leaseMs), ':token': s(token) },
      });
      return claimed === false ? undefined : { token };
    },

    async endProbe(probe, { healthy, nowMs, openSeconds }) {
      const at = s(new Date(nowMs).toISOString());
      const ended = await update({
        UpdateExpression: healthy
          ? 'SET #s = :closed, failures = :zero, changedAt = :at REMOVE openUntil, probeUntil, probeToken'
          : 'SET #s = :open, openUntil = :until, changedAt = :at, failures = if_not_exists(failures, :zero) + :one REMOVE probeUntil, probeToken',
        ConditionExpression: '#s = :half AND probeToken = :token',
        ExpressionAttributeNames: NAMES,
        ExpressionAttributeValues: {
          ':half': s('half-open'),
          ':token': s(probe.token),
          ':at': at,
          ...(healthy ? { ':closed': s('closed'), ':zero': n(0) } : { ':open': s('open'), ':until': n(nowMs + openSeconds * 1000), ':zero': n(0), ':one': n(1) }),
        },
      });
      return ended !== false;
    },

    async pause(reason, nowMs) {
      const before = await update({
        UpdateExpression: 'SET #s = :paused, reason = :reason, changedAt = :at, failures = if_not_exists(failures, :zero) REMOVE openUntil, probeUntil, probeToken',
        ExpressionAttributeNames: NAMES,
        ExpressionAttributeValues: { ':paused': s('paused'), ':reason': s(reason), ':at': s(new Date(nowMs).toISOString()), ':zero': n(0) },
        ReturnValues: 'ALL_OLD',
      });
      return circuitStateOf(before === false ? undefined : before);
    },

    async resume(nowMs) {
      const before = await update({
        UpdateExpression: 'SET #s = :closed, failures = :zero, changedAt = :at REMOVE reason, openUntil, probeUntil, probeToken',
        ExpressionAttributeNames: NAMES,
        ExpressionAttributeValues: { ':closed': s('closed'), ':zero': n(0), ':at': s(new Date(nowMs).toISOString()) },
        ReturnValues: 'ALL_OLD',
      });
      return circuitStateOf(before === false || Object.keys(before).length === 0 ? undefined : before);
    },
  };
}

/** The breaker state of a destination (for the `hookgate` command). Throws CircuitStoreError. */
export function readCircuit(table: CircuitTable, ref: DestinationRef): Promise<CircuitState> {
  return createCircuitStore(table, ref).read();
}

/**
 * Pauses a destination: its messages wait in its queue, unattempted, until
 * {@link resumeDestination}. Returns the state before. Throws CircuitStoreError.
 */
export function pauseDestination(table: CircuitTable, ref: DestinationRef, options: { readonly reason?: PauseReason; readonly now?: Date } = {}): Promise<CircuitState> {
  return createCircuitStore(table, ref).pause(options.reason ?? 'manual', (options.now ?? new Date()).getTime());
}

/**
 * Resumes a destination: closes its breaker whatever its state (paused, open), with no failures
 * counted; waiting messages are attempted on their next receive. Returns the state before.
 * Throws CircuitStoreError.
 */
export function resumeDestination(table: CircuitTable, ref: DestinationRef, options: { readonly now?: Date } = {}): Promise<CircuitState> {
  return createCircuitStore(table, ref).resume((options.now ?? new Date()).getTime());
}
