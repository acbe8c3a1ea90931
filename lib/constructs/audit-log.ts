import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Props of {@link AuditLog}. */
export interface AuditLogProps {
  /** The stack key: the records name keys and reasons, so they are encrypted like every log. */
  readonly encryptionKey: kms.IKey;
  /** Days the records are kept (the config's `audit.retentionDays`, six years by default). */
  readonly retention: logs.RetentionDays;
}

/**
 * The audit log of the `hookgate` command: one JSON event per body shown, replay, redrive, pause
 * or resume, written before the action. Apart from the operational logs, with its own (long)
 * retention, and always retained on stack deletion whatever the config's `retain` says: a
 * compliance review needs it after a teardown. Append-only for the operator policy, which may
 * only create streams and put events (see OperatorPolicies).
 */
export class AuditLog extends Construct {
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AuditLogProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      encryptionKey: props.encryptionKey,
      retention: props.retention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
