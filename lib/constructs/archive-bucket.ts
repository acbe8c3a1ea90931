import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

/** Object Lock modes of the archive (the config's `archive.objectLock`). */
export type ArchiveObjectLock = 'governance' | 'compliance';

/** Props of {@link ArchiveBucket}. */
export interface ArchiveBucketProps {
  /** Key that encrypts the archive objects (the stack key). */
  readonly encryptionKey: kms.IKey;
  /** Days an archived event is kept: the lifecycle expiration, and the Object Lock retention. */
  readonly days: number;
  /** Object Lock in this mode, default retention {@link days}. @default no Object Lock */
  readonly objectLock?: ArchiveObjectLock;
  /** Where the server access logs go (the payload bucket's access-log bucket), under `archive/`. */
  readonly accessLogsBucket: s3.IBucket;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** Prefix of the archive's server access logs in the access-log bucket. */
export const ARCHIVE_ACCESS_LOG_PREFIX = 'archive-bucket/';

/**
 * The archive of every accepted event (lambda/archive/): sealed envelopes as enqueued, under
 * `archive/<source>/`, and each object's index under `index/<source>/`, written by each source's
 * processor. KMS with the stack key (bucket key on, so S3 rarely calls KMS, and the encryption
 * context S3 gives KMS is the bucket's ARN, which the viewer policy's Decrypt names), TLS only, no
 * public access, server access logs, expiration after `days`. With `objectLock`, versioning and
 * Object Lock with that default retention: an archived object cannot be changed or deleted before
 * it expires (`compliance`: by no one). Expiration and Object Lock apply to the whole bucket, so
 * to archive objects and their indexes alike.
 */
export class ArchiveBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps) {
    super(scope, id);
    const { days, objectLock } = props;
    if (!Number.isInteger(days) || days < 1) throw new Error('ArchiveBucket days must be a whole number of at least 1');
    const retention = Duration.days(days);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: ARCHIVE_ACCESS_LOG_PREFIX,
      ...(objectLock === undefined
        ? {}
        : {
            versioned: true,
            objectLockEnabled: true,
            objectLockDefaultRetention: objectLock === 'compliance' ? s3.ObjectLockRetention.compliance(retention) : s3.ObjectLockRetention.governance(retention),
          }),
      lifecycleRules: [
        {
          // No prefix filter: it expires the objects under archive/ and their indexes under index/.
          expiration: retention,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          // Versions exist only with Object Lock: a retried batch's overwrite, and expired objects.
          ...(objectLock === undefined ? {} : { noncurrentVersionExpiration: Duration.days(1) }),
        },
      ],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    if (objectLock === undefined) {
      acknowledge(this.bucket, 'HIPAA.Security-S3BucketVersioningEnabled', 'Archive objects are written once per batch and never changed (a retried batch writes identical bytes); set archive.objectLock for versioned, tamper-evident storage.');
    }
    acknowledge(this.bucket, 'HIPAA.Security-S3BucketReplicationEnabled', 'The archive is a bounded-retention recovery copy (archive.days) of events already delivered; cross-region replication is left to teams that need it.');
  }
}
