import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { CONTEXT_PURPOSE, CONTEXT_SOURCE, PURPOSE } from '../../lambda/ingest/envelope';

/** Props of {@link StackKey}. */
export interface StackKeyProps {
  /** What happens to the key when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The customer-managed key of one environment: it encrypts the queues, the dedupe table, the
 * payload bucket, the alarm topic and the log groups, and wraps the envelope data keys.
 *
 * The key policy keeps CDK's account-root statement (it delegates to IAM, so each function's
 * role carries exactly the actions it needs) and adds only the two AWS services that encrypt
 * with it on their own behalf: CloudWatch Logs (encrypted log groups) and CloudWatch alarms
 * (publishing to the encrypted SNS topic).
 */
export class StackKey extends Construct {
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: StackKeyProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `hookgate ${stack.stackName}: queues, dedupe table, payloads, topic, logs`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts log groups with the key; the context condition limits it to this
    // account's log groups in this region.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: ['*'], // in a key policy, '*' means this key
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          },
        },
      }),
    );
    // CloudWatch alarms publish to the KMS-encrypted on-call topic.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'], // in a key policy, '*' means this key
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
  }
}

/** Stack key actions a function may need: sealing (data keys) and opening. */
export type KeyAction = 'kms:GenerateDataKey' | 'kms:Decrypt' | 'kms:Encrypt';

/** AWS services that encrypt with the stack key on a function's behalf. */
export type KeyService = 'sqs' | 's3' | 'dynamodb';

/**
 * The Encryption SDK's use of the key for one source's envelopes: only under that source's
 * encryption context (`hookgate:source`, `hookgate:purpose`, see lambda/ingest/envelope.ts), so
 * one source's function can neither seal for nor open another source's bodies.
 */
export function envelopeKeyUse(key: kms.IKey, sid: string, source: string, actions: readonly KeyAction[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: [...actions],
    resources: [key.keyArn],
    conditions: {
      StringEquals: {
        [`kms:EncryptionContext:${CONTEXT_SOURCE}`]: source,
        [`kms:EncryptionContext:${CONTEXT_PURPOSE}`]: PURPOSE,
      },
    },
  });
}

/**
 * A service's use of the key on a function's behalf (SQS and S3 server-side encryption, DynamoDB
 * encryption at rest): only through that service in this region. These calls carry the
 * service's own encryption context, never hookgate's, so they need their own statement.
 */
export function serviceKeyUse(key: kms.IKey, sid: string, service: KeyService, actions: readonly KeyAction[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: [...actions],
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `${service}.${Stack.of(key).region}.amazonaws.com` } },
  });
}
