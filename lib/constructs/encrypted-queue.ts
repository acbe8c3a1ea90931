import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** SQS's largest message (1 MiB), allowed by aws-cdk-lib's validation since SQS raised it. */
export const MAX_MESSAGE_SIZE_BYTES = 1_048_576;

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
}

/**
 * A work queue and its dead-letter queue, both encrypted with the stack key, TLS only, with the
 * largest message size. The DLQ keeps messages 14 days (SQS's maximum), longer than the work
 * queue's 4, because a moved message keeps its original enqueue time.
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
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
