import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { acknowledge } from '../nag';

/** Props of {@link encryptedTable}. */
export interface EncryptedTableProps {
  /** Key that encrypts the table (customer managed). */
  readonly encryptionKey: kms.IKey;
  /** Keep the table (and protect it from deletion) when the stack is deleted (the config's retain). */
  readonly retain: boolean;
  readonly partitionKey: string;
  /** @default no sort key */
  readonly sortKey?: string;
  /** TTL attribute (epoch seconds). */
  readonly timeToLiveAttribute: string;
  /** Why the table needs no AWS Backup plan (cdk-nag HIPAA.Security-DynamoDBInBackupPlan). */
  readonly noBackupPlanReason: string;
}

/**
 * A hookgate table (child id `Table` of `scope`): string keys, on demand, expired by DynamoDB
 * TTL, point-in-time recovery on, encrypted with the stack key, deletion-protected and retained
 * when the environment says retain.
 */
export function encryptedTable(scope: Construct, props: EncryptedTableProps): dynamodb.Table {
  const { retain } = props;
  const table = new dynamodb.Table(scope, 'Table', {
    partitionKey: { name: props.partitionKey, type: dynamodb.AttributeType.STRING },
    ...(props.sortKey === undefined ? {} : { sortKey: { name: props.sortKey, type: dynamodb.AttributeType.STRING } }),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: props.timeToLiveAttribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: props.encryptionKey,
    deletionProtection: retain,
    removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  acknowledge(table, 'HIPAA.Security-DynamoDBInBackupPlan', props.noBackupPlanReason);
  return table;
}
