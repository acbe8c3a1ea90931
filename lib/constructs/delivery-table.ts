import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

/** Props of {@link DeliveryTable}. */
export interface DeliveryTableProps {
  /** Key that encrypts the table (customer managed). */
  readonly encryptionKey: kms.IKey;
  /** Keep the table (and protect it from deletion) when the stack is deleted (the config's retain). */
  readonly retain: boolean;
}

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
    const { retain } = props;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: DeliveryTable.PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: DeliveryTable.SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: DeliveryTable.TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.table,
      'HIPAA.Security-DynamoDBInBackupPlan',
      'Circuit-breaker state and delivery attempt records expire by TTL (deliveryHistoryDays); they describe deliveries, they hold no event body. Point-in-time recovery is on.',
    );
  }
}

/** The partition key of a destination's circuit-breaker item. */
export function circuitKey(sourceName: string, destinationName: string): string {
  return `circuit#${sourceName}/${destinationName}`;
}
