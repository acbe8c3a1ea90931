/**
 * What the stack tells the `hookgate` command about itself, in CloudFormation outputs with fixed
 * keys (logical ids), as small JSON documents: {@link RESOURCES_OUTPUT} once, and one
 * `<SOURCE_OUTPUT_PREFIX><n>` per source. Names only, never a secret. Kept free of CDK imports:
 * the command reads it without loading aws-cdk-lib.
 */

/** Output key of the stack-wide {@link StackResources}. */
export const RESOURCES_OUTPUT = 'HookgateResources';
/** Output keys of each source's {@link SourceResources} start with this. */
export const SOURCE_OUTPUT_PREFIX = 'HookgateSource';

/** A queue and its dead-letter queue, by URL. */
export interface QueuePair {
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

/** Stack-wide resources (the `HookgateResources` output). */
export interface StackResources {
  /** The environment's name (metrics namespace `Hookgate/<name>`). */
  readonly environment: string;
  /** The audit log group's name. */
  readonly auditLogGroup: string;
  /** The delivery table (circuit state, attempts), when a source has destinations. */
  readonly deliveryTable?: string;
  /** The payload bucket (bodies too large for SQS). */
  readonly payloadBucket: string;
  /** The archive bucket, once the stack has one. */
  readonly archiveBucket?: string;
  /** The stack key's ARN: the command opens archived envelopes with it (`events show --body`). */
  readonly keyArn?: string;
}

/** A destination's queues and, when it has one, its event filter (replay applies it). */
export interface DestinationResources extends QueuePair {
  /** The destination's `events` patterns (lambda/config/destinations.ts `matchesEvents`); absent: every event. */
  readonly events?: readonly string[];
}

/** One source's resources (a `HookgateSource<n>` output). */
export interface SourceResources extends QueuePair {
  readonly source: string;
  /** Each destination's queue and DLQ (and filter), by destination name. */
  readonly destinations: Readonly<Record<string, DestinationResources>>;
}
