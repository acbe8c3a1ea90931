import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Log settings shared by every construct that owns a log group. */
export interface EncryptedLogProps {
  /** Key that encrypts the construct's log groups. */
  readonly logEncryptionKey: kms.IKey;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** What happens to the log groups when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A log group encrypted with the given key, with a finite retention, kept on stack deletion by
 * default: logs may hold dedupe keys and event ids that an audit needs after a teardown.
 * @param logGroupName only where the service dictates the name (WAF, API Gateway execution logs)
 */
export function encryptedLogGroup(scope: Construct, id: string, props: EncryptedLogProps, logGroupName?: string): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    encryptionKey: props.logEncryptionKey,
    retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    ...(logGroupName !== undefined ? { logGroupName } : {}),
  });
}
