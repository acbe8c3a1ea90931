import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

/** Props of {@link PayloadBucket}. */
export interface PayloadBucketProps {
  /** Key that encrypts the payload objects. */
  readonly encryptionKey: kms.IKey;
  /** Days an encrypted payload object lives. Matches the DLQ retention. @default 14 */
  readonly expirationDays?: number;
  /** Days the server access logs are kept. @default 365 */
  readonly accessLogRetentionDays?: number;
  /** What happens to both buckets when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

const TRANSIENT_PAYLOADS =
  'Objects are transient, already envelope-encrypted bodies too large for an SQS message; they expire with the DLQ retention and are deleted once processed.';

/**
 * Encrypted bodies too large for an SQS message, under `<source>/`. KMS with the stack key,
 * TLS only, no public access, expired after the DLQ retention. Server access logs go to a
 * separate bucket so every read of a payload object is on record.
 */
export class PayloadBucket extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: PayloadBucketProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
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
        { expiration: Duration.days(props.expirationDays ?? 14), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
    acknowledge(this.bucket, 'HIPAA.Security-S3BucketVersioningEnabled', TRANSIENT_PAYLOADS);
    acknowledge(this.bucket, 'HIPAA.Security-S3BucketReplicationEnabled', TRANSIENT_PAYLOADS);
  }
}
