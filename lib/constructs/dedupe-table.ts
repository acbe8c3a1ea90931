import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

/** Props of {@link DedupeTable}. */
export interface DedupeTableProps {
  /** Key that encrypts the table (customer managed). */
  readonly encryptionKey: kms.IKey;
  /** Keep the table (and protect it from deletion) when the stack is deleted (the config's retain). */
  readonly retain: boolean;
}

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
    const { retain } = props;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: DedupeTable.PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: DedupeTable.TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.table,
      'HIPAA.Security-DynamoDBInBackupPlan',
      'Dedupe records are short-lived (TTL) markers, not a system of record: losing them only lets a retry be enqueued again, which processors tolerate. Point-in-time recovery is on.',
    );
  }
}
