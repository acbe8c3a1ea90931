import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { type EncryptedTableProps, encryptedTable } from './encrypted-table';

/** Props of {@link DedupeTable}. */
export type DedupeTableProps = Pick<EncryptedTableProps, 'encryptionKey' | 'retain'>;

/**
 * The dedupe records of every source: partition key `id` (the dedupe key), expired by DynamoDB
 * TTL on `expiration`. On demand, point-in-time recovery on, encrypted with the stack key.
 */
export class DedupeTable extends Construct {
  /** Name of the partition key attribute. */
  static readonly PARTITION_KEY = 'id';
  /** Name of the TTL attribute (epoch seconds). */
  static readonly TTL_ATTRIBUTE = 'expiration';

  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DedupeTableProps) {
    super(scope, id);
    this.table = encryptedTable(this, {
      ...props,
      partitionKey: DedupeTable.PARTITION_KEY,
      timeToLiveAttribute: DedupeTable.TTL_ATTRIBUTE,
      noBackupPlanReason:
        'Dedupe records are short-lived (TTL) markers, not a system of record: losing them only lets a retry be enqueued again, which processors tolerate. Point-in-time recovery is on.',
    });
  }
}
