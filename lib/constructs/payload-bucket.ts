import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';
import { DEAD_LETTER_RETENTION } from './encrypted-queue';

/**
 * Shortest life of a payload object, in days: as long as the message pointing at it can still
 * be read. A message keeps its first enqueue time in the DLQ, so it is gone after one DLQ
 * retention; but a redrive makes it a new message, which may fail again and sit a second full
 * retention in the DLQ. One day more covers its receives in the work queue between the two.
 * Processed objects are deleted by the processor long before.
 */
export const MIN_PAYLOAD_EXPIRATION_DAYS = 2 * DEAD_LETTER_RETENTION.toDays() + 1;

/** Props of {@link PayloadBucket}. */
export interface PayloadBucketProps {
  /** Key that encrypts the payload objects. */
  readonly encryptionKey: kms.IKey;
  /**
   * Days an encrypted payload object lives when the processor did not delete it (it does after
   * the handler succeeded). At least {@link MIN_PAYLOAD_EXPIRATION_DAYS}.
   * @default MIN_PAYLOAD_EXPIRATION_DAYS (29: the DLQ retention, once more after one redrive, and a day)
   */
  readonly expirationDays?: number;
  /** Days the server access logs are kept. @default 365 */
  readonly accessLogRetentionDays?: number;
  /** What happens to both buckets when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

const TRANSIENT_PAYLOADS =
  'Objects are transient, already envelope-encrypted bodies too large for an SQS message; they are deleted once processed and otherwise expire after the DLQ retention and a redrive.';

/**
 * Encrypted bodies too large for an SQS message, under `<source>/`. KMS with the stack key,
 * TLS only, no public access. The processor deletes an object once its handler succeeded; the
 * lifecycle rule removes the rest after the DLQ retention and a redrive. Server access logs go to
 * a separate bucket so every read of a payload object is on record.
 */
export class PayloadBucket extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: PayloadBucketProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const expirationDays = props.expirationDays ?? MIN_PAYLOAD_EXPIRATION_DAYS;
    if (!Number.isInteger(expirationDays) || expirationDays < MIN_PAYLOAD_EXPIRATION_DAYS) {
      throw new Error(`PayloadBucket expirationDays must be a whole number of at least ${MIN_PAYLOAD_EXPIRATION_DAYS}: a message redriven from the DLQ must still find its payload`);
    }
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access log delivery only writes to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogRetentionDays ?? 365) }],
      removalPolicy,
    });
    acknowledge(this.accessLogsBucket, 'HIPAA.Security-S3DefaultEncryptionKMS', 'S3 server access log delivery supports only SSE-S3 on the destination bucket; the logs hold request metadata, no payloads.');
    acknowledge(this.accessLogsBucket, 'HIPAA.Security-S3BucketVersioningEnabled', 'Access logs are written once by the S3 log delivery service and expire by lifecycle; versions would only add cost.');
    acknowledge(this.accessLogsBucket, 'HIPAA.Security-S3BucketReplicationEnabled', 'Access logs of transient payload objects; cross-region replication is not required for this audit trail.');

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: this.accessLogsBucket,
      lifecycleRules: [
        { expiration: Duration.days(expirationDays), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
    acknowledge(this.bucket, 'HIPAA.Security-S3BucketVersioningEnabled', TRANSIENT_PAYLOADS);
    acknowledge(this.bucket, 'HIPAA.Security-S3BucketReplicationEnabled', TRANSIENT_PAYLOADS);
  }
}
