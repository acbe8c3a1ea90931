import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** SQS's largest message (1 MiB), allowed by aws-cdk-lib's validation since SQS raised it. */
export const MAX_MESSAGE_SIZE_BYTES = 1_048_576;

/** How long the DLQ keeps a message (SQS's maximum), counted from its first enqueue. */
export const DEAD_LETTER_RETENTION = Duration.days(14);

/** Visibility timeout = this x the consumer's timeout (AWS's advice for Lambda consumers). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** How long the work queue keeps a message. */
export const WORK_QUEUE_RETENTION = Duration.days(4);

/** Props of {@link EncryptedQueue}. */
export interface EncryptedQueueProps {
  /** Key that encrypts both queues. */
  readonly encryptionKey: kms.IKey;
  /** How long a received message stays invisible; at least 6x the consumer's timeout. */
  readonly visibilityTimeout: Duration;
  /** Receives before a message moves to the DLQ (the source's maxReceiveCount in config). */
  readonly maxReceiveCount: number;
  /** What happens to both queues when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How long the work queue keeps a message: longer than anything that retries it there (a
   * destination's retry window). At most {@link DEAD_LETTER_RETENTION}.
   * @default WORK_QUEUE_RETENTION
   */
  readonly retentionPeriod?: Duration;
}

/**
 * A work queue and its dead-letter queue, both encrypted with the stack key, TLS only, with the
 * largest message size. The DLQ keeps messages {@link DEAD_LETTER_RETENTION} (SQS's maximum),
 * longer than the work queue's {@link WORK_QUEUE_RETENTION}, because a moved message keeps its
 * original enqueue time.
 */
export class EncryptedQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: EncryptedQueueProps) {
    super(scope, id);
    const common = {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      // Fewer KMS calls per message; the data key is still rotated every 5 minutes.
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...common,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      retentionPeriod: props.retentionPeriod ?? WORK_QUEUE_RETENTION,
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
