import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { type EncryptedTableProps, encryptedTable } from './encrypted-table';

/** Props of {@link DeliveryTable}. */
export type DeliveryTableProps = Pick<EncryptedTableProps, 'encryptionKey' | 'retain'>;

/**
 * The delivery state of every destination: circuit-breaker items (partition key
 * `circuit#<source>/<destination>`) and one history item per delivery attempt (partition key
 * the event's dedupe key, `<source>:...`, so the replay tooling queries an event's attempts).
 * Items expire by DynamoDB TTL on `expiresAt`. On demand, point-in-time recovery on, encrypted
 * with the stack key.
 */
export class DeliveryTable extends Construct {
  /** Name of the partition key attribute. */
  static readonly PARTITION_KEY = 'pk';
  /** Name of the sort key attribute. */
  static readonly SORT_KEY = 'sk';
  /** Name of the TTL attribute (epoch seconds). */
  static readonly TTL_ATTRIBUTE = 'expiresAt';

  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DeliveryTableProps) {
    super(scope, id);
    this.table = encryptedTable(this, {
      ...props,
      partitionKey: DeliveryTable.PARTITION_KEY,
      sortKey: DeliveryTable.SORT_KEY,
      timeToLiveAttribute: DeliveryTable.TTL_ATTRIBUTE,
      noBackupPlanReason:
        'Circuit-breaker state and delivery attempt records expire by TTL (deliveryHistoryDays); they describe deliveries, they hold no event body. Point-in-time recovery is on.',
    });
  }
}
