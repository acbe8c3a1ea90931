import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INDEX_PREFIX } from '../../lambda/archive/format';
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
 *   states, attempt records: no body), the metrics, the audit log, and the archive's index
 *   objects (`events list`, `events show` without `--body`): ListBucket only with an `index/`
 *   prefix, GetObject only under `index/`, and `kms:Decrypt` of the stack key only when S3 asks
 *   for it (`kms:ViaService`) for the archive bucket (its ARN is the encryption context S3 gives
 *   with a bucket key). So no archive object (S3 refuses the GET), no sealed envelope (a direct
 *   Decrypt has no ViaService, and its context is hookgate's, not the bucket's), nothing in the
 *   payload bucket or a queue (another context, and no GetObject or ReceiveMessage): the viewer
 *   cannot read DLQ messages (`dlq list` is an operator command).
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
      description: 'hookgate command, viewer: status, attempts, audit records, archive indexes; no body, no envelope',
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
    if (props.archiveBucket !== undefined) {
      const bucketId = stack.getLogicalId(props.archiveBucket.node.defaultChild as s3.CfnBucket);
      findings.push([`AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${INDEX_PREFIX}*]`, 'Index objects are written per batch; the grant is limited to the metadata under index/ (no ciphertext is stored there).']);
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
  if (props.archiveBucket !== undefined) statements.push(...archiveIndexStatements(props.archiveBucket, props.key));
  return statements;
}

/** Reading the archive's index objects (lambda/archive/format.ts `index/`) and nothing else of it. */
function archiveIndexStatements(bucket: s3.IBucket, key: kms.IKey): iam.PolicyStatement[] {
  const region = Stack.of(key).region;
  return [
    new iam.PolicyStatement({ sid: 'ArchiveIndexNames', actions: ['s3:ListBucket'], resources: [bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [`${INDEX_PREFIX}*`] } } }),
    new iam.PolicyStatement({ sid: 'ArchiveIndexes', actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${INDEX_PREFIX}*`)] }),
    new iam.PolicyStatement({
      sid: 'ArchiveIndexDecryption',
      actions: ['kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': bucket.bucketArn } },
    }),
  ];
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
