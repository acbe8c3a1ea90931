import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CIRCUIT_KEY_PREFIX } from '../../lambda/delivery/circuit';
import { CONTEXT_PURPOSE, PURPOSE } from '../../lambda/ingest/envelope';
import { acknowledge } from '../nag';

/** A queue and its dead-letter queue. */
export interface OperatorQueues {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
}

/** Props of {@link OperatorPolicies}. */
export interface OperatorPoliciesProps {
  readonly key: kms.IKey;
  /** Every work queue (+DLQ) and destination queue (+DLQ) of the stack. */
  readonly queues: readonly OperatorQueues[];
  /** Circuit state and delivery attempts, when a source has destinations. */
  readonly deliveryTable?: dynamodb.ITable;
  readonly auditLog: logs.ILogGroup;
  readonly payloadBucket: s3.IBucket;
  /** The archive, once the stack has one. */
  readonly archiveBucket?: s3.IBucket;
}

/**
 * The two managed policies of the people who run the `hookgate` command (docs/deploy.md says how
 * to attach them). Neither is attached to anything by the stack.
 *
 * - viewer: metadata only. The stack's outputs, queue and DLQ depths, the delivery table (circuit
 *   states, attempt records: no body), the metrics, the audit log, and the archive's object
 *   names. No `kms:Decrypt` of any kind and no `s3:GetObject`: every stored body is behind the
 *   stack key (SSE-KMS on the archive and payload buckets, SSE on the queues), so a GetObject
 *   or ReceiveMessage without Decrypt is refused anyway, and with a storage-level Decrypt it
 *   would hand out every sealed envelope. The viewer therefore cannot read DLQ messages or
 *   archive indexes (`dlq list`, `events list`): those are operator commands.
 * - operator: everything the viewer has, plus opening envelopes (`kms:Decrypt` only under
 *   hookgate's envelope encryption context), reading and writing stored objects and queue
 *   messages through S3 and SQS (`kms:ViaService`), sending to work and destination queues
 *   (replay), moving DLQ messages back (redrive), pausing and resuming destinations (UpdateItem
 *   on circuit items only), and appending to the audit log (CreateLogStream and PutLogEvents:
 *   never DeleteLogStream, DeleteLogGroup or PutRetentionPolicy).
 */
export class OperatorPolicies extends Construct {
  public readonly viewer: iam.ManagedPolicy;
  public readonly operator: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPoliciesProps) {
    super(scope, id);
    const viewing = viewerStatements(props);
    this.viewer = new iam.ManagedPolicy(this, 'Viewer', {
      description: 'hookgate command, viewer: status, attempts, audit records, archive names; no decrypt',
      statements: viewing,
    });
    this.operator = new iam.ManagedPolicy(this, 'Operator', {
      description: 'hookgate command, operator: the viewer, plus bodies, replay, redrive, pause and resume (every one audited)',
      statements: [...viewing.map((s) => s.copy()), ...operatorStatements(props)],
    });
    // Each wildcard resource acknowledged by name: a new one fails the cdk-nag test.
    const stack = Stack.of(this);
    const groupId = stack.getLogicalId(props.auditLog.node.defaultChild as logs.CfnLogGroup);
    const findings: [string, string][] = [
      ['AwsSolutions-IAM5[Resource::*]', 'cloudwatch:GetMetricData has no resource-level permission.'],
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:${nagName(stack.region, 'AWS::Region')}:${nagName(stack.account, 'AWS::AccountId')}:log-group:<${groupId}>:log-stream:*]`, 'Audit streams are created per day and caller; the grant is limited to the streams of the one audit log group.'],
    ];
    for (const bucket of [props.payloadBucket, props.archiveBucket]) {
      if (bucket === undefined) continue;
      const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
      findings.push([`AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`, 'Objects are written per event or batch; the operator reads stored bodies of every source (its envelope Decrypt is the gate, audited by the command).']);
    }
    for (const policy of [this.viewer, this.operator]) {
      for (const [finding, reason] of findings) acknowledge(policy, finding, reason);
    }
  }
}

function viewerStatements(props: OperatorPoliciesProps): iam.PolicyStatement[] {
  const stack = Stack.of(props.key);
  const all = props.queues.flatMap((q) => [q.queue.queueArn, q.deadLetterQueue.queueArn]);
  const statements = [
    new iam.PolicyStatement({ sid: 'StackOutputs', actions: ['cloudformation:DescribeStacks'], resources: [stack.stackId] }),
    new iam.PolicyStatement({ sid: 'QueueDepths', actions: ['sqs:GetQueueAttributes', 'sqs:ListMessageMoveTasks'], resources: all }),
    new iam.PolicyStatement({ sid: 'Metrics', actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
    new iam.PolicyStatement({
      sid: 'AuditRead',
      actions: ['logs:FilterLogEvents', 'logs:GetLogEvents', 'logs:DescribeLogStreams'],
      resources: [props.auditLog.logGroupArn, auditStreams(props.auditLog)],
    }),
  ];
  if (props.deliveryTable !== undefined) {
    statements.push(new iam.PolicyStatement({ sid: 'DeliveryRead', actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [props.deliveryTable.tableArn] }));
  }
  if (props.archiveBucket !== undefined) {
    statements.push(new iam.PolicyStatement({ sid: 'ArchiveNames', actions: ['s3:ListBucket'], resources: [props.archiveBucket.bucketArn] }));
  }
  return statements;
}

function operatorStatements(props: OperatorPoliciesProps): iam.PolicyStatement[] {
  const region = Stack.of(props.key).region;
  const dlqs = props.queues.map((q) => q.deadLetterQueue.queueArn);
  const buckets = [props.payloadBucket, ...(props.archiveBucket === undefined ? [] : [props.archiveBucket])];
  const statements = [
    new iam.PolicyStatement({
      sid: 'OpenEnvelopes',
      actions: ['kms:Decrypt'],
      resources: [props.key.keyArn],
      conditions: { StringEquals: { [`kms:EncryptionContext:${CONTEXT_PURPOSE}`]: PURPOSE } },
    }),
    new iam.PolicyStatement({
      sid: 'StorageEncryption',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [props.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': [`sqs.${region}.amazonaws.com`, `s3.${region}.amazonaws.com`] } },
    }),
    new iam.PolicyStatement({ sid: 'StoredBodies', actions: ['s3:GetObject'], resources: buckets.map((b) => b.arnForObjects('*')) }),
    new iam.PolicyStatement({ sid: 'LargeReplays', actions: ['s3:PutObject'], resources: [props.payloadBucket.arnForObjects('*')] }),
    new iam.PolicyStatement({ sid: 'Replay', actions: ['sqs:SendMessage'], resources: props.queues.map((q) => q.queue.queueArn) }),
    new iam.PolicyStatement({
      sid: 'DeadLetters',
      actions: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:StartMessageMoveTask', 'sqs:CancelMessageMoveTask'],
      resources: dlqs,
    }),
    new iam.PolicyStatement({
      sid: 'AuditAppend',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [auditStreams(props.auditLog)],
    }),
  ];
  if (props.deliveryTable !== undefined) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'PauseResume',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.deliveryTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${CIRCUIT_KEY_PREFIX}*`] } },
      }),
    );
  }
  return statements;
}

/** Every stream of the audit log group (the group's own ARN attribute ends in `:*`, its streams'). */
function auditStreams(group: logs.ILogGroup): string {
  return Stack.of(group).formatArn({ service: 'logs', resource: 'log-group', resourceName: `${group.logGroupName}:log-stream:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/** How cdk-nag names a stack's region or account in a finding: the value, or `<AWS::...>` when env-agnostic. */
function nagName(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? `<${pseudo}>` : value;
}
