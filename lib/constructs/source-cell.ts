import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { NamedSource } from '../../lambda/config/schema';
import { ENV } from '../../lambda/runtime/env';
import { METRICS } from '../../lambda/runtime/telemetry';
import { acknowledge } from '../nag';
import { EncryptedQueue } from './encrypted-queue';
import type { OnCallTopic } from './on-call-topic';
import { SourceAlarms } from './source-alarms';
import { WebhookFunction } from './webhook-function';

const LAMBDA_DIR = join(__dirname, '..', '..', 'lambda');

/** Visibility timeout = this x processor timeout (AWS's advice for Lambda consumers). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Props of {@link SourceCell}. */
export interface SourceCellProps {
  /** The source, from a parsed config (defaults applied; secretName, never secret values). */
  readonly source: NamedSource;
  /** `Hookgate/<environment>`: POWERTOOLS_METRICS_NAMESPACE and the alarms' namespace. */
  readonly metricsNamespace: string;
  readonly encryptionKey: kms.IKey;
  readonly dedupeTable: dynamodb.ITable;
  readonly payloadBucket: s3.IBucket;
  readonly onCall: OnCallTopic;
  /** Days a dedupe record lives (the config's dedupeTtlDays). */
  readonly dedupeTtlDays: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Applies to the queues and log groups. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Run both functions in this VPC's isolated subnets. @default no VPC */
  readonly vpc?: ec2.IVpc;
  /** Security groups of the functions in the VPC. @default one per function */
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
  /** Verifier or processor errors per 5 minutes before on-call hears (the config's alarms.functionErrorCount). */
  readonly functionErrorCount: number;
  /** Oldest message age alarm, seconds (the config's alarms.queueAgeSeconds). */
  readonly queueAgeSeconds: number;
  /** Verifier entry point. @default lambda/verifier/index.ts */
  readonly verifierEntry?: string;
  /** Processor entry point. @default lambda/processor/index.ts */
  readonly processorEntry?: string;
}

/**
 * Everything one webhook source owns: its verifier, work queue and DLQ, processor, the
 * reference to its Secrets Manager secret and its alarms. Each function gets exactly the
 * actions its path needs, on this source's resources only.
 */
export class SourceCell extends Construct {
  /** The source's name: its URL path segment and metric dimension. */
  public readonly sourceName: string;
  public readonly verifier: WebhookFunction;
  public readonly processor: WebhookFunction;
  public readonly queues: EncryptedQueue;
  public readonly secret: secretsmanager.ISecret;
  public readonly alarms: SourceAlarms;

  constructor(scope: Construct, id: string, props: SourceCellProps) {
    super(scope, id);
    const { source } = props;
    this.sourceName = source.name;
    if (source.secretName === undefined) {
      throw new Error(`source ${source.name}: a deployed source needs secretName`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const processorTimeout = Duration.seconds(source.processorTimeoutSeconds);
    const keyArn = props.encryptionKey.keyArn;
    const prefixArn = `${props.payloadBucket.bucketArn}/${source.name}/*`;

    this.queues = new EncryptedQueue(this, 'Queues', {
      encryptionKey: props.encryptionKey,
      visibilityTimeout: Duration.seconds(processorTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      maxReceiveCount: source.maxReceiveCount,
      removalPolicy,
    });
    this.secret = secretsmanager.Secret.fromSecretNameV2(this, 'Secret', source.secretName);

    const common = {
      logEncryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      logRemovalPolicy: removalPolicy,
      vpc: props.vpc,
      securityGroups: props.securityGroups,
    };
    const sourceJson = JSON.stringify(publicSource(source));
    const powertools = {
      POWERTOOLS_SERVICE_NAME: METRICS.service,
      POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
    };

    this.verifier = new WebhookFunction(this, 'Verifier', {
      ...common,
      entry: props.verifierEntry ?? join(LAMBDA_DIR, 'verifier', 'index.ts'),
      description: `hookgate ${source.name}: verify, dedupe, encrypt, enqueue`,
      // API Gateway gives up after 29 s; answer well before so the provider sees our 503.
      timeout: Duration.seconds(15),
      environment: {
        ...powertools,
        [ENV.source]: sourceJson,
        [ENV.table]: props.dedupeTable.tableName,
        [ENV.queueUrl]: this.queues.queue.queueUrl,
        [ENV.payloadBucket]: props.payloadBucket.bucketName,
        [ENV.keyArn]: keyArn,
        [ENV.dedupeTtlDays]: String(props.dedupeTtlDays),
      },
    });
    this.verifier.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnSecret',
        actions: ['secretsmanager:GetSecretValue'],
        // A secret's ARN ends with six random characters.
        resources: [`${this.secret.secretArn}-??????`],
      }),
    );
    this.verifier.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'Dedupe',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [props.dedupeTable.tableArn],
      }),
    );
    this.verifier.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'Enqueue',
        actions: ['sqs:SendMessage'],
        resources: [this.queues.queue.queueArn],
      }),
    );
    this.verifier.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StoreLargePayloads',
        actions: ['s3:PutObject'],
        resources: [prefixArn],
      }),
    );
    // GenerateDataKey: envelope encryption, SQS SSE and S3 SSE-KMS. Decrypt: SQS SSE reuses
    // cached data keys. Encrypt: DynamoDB with a customer-managed key.
    this.verifier.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EncryptWithStackKey',
        actions: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt'],
        resources: [keyArn],
      }),
    );

    this.processor = new WebhookFunction(this, 'Processor', {
      ...common,
      entry: props.processorEntry ?? join(LAMBDA_DIR, 'processor', 'index.ts'),
      description: `hookgate ${source.name}: decrypt and process`,
      timeout: processorTimeout,
      environment: {
        ...powertools,
        [ENV.source]: sourceJson,
        [ENV.payloadBucket]: props.payloadBucket.bucketName,
        [ENV.keyArn]: keyArn,
      },
    });
    // Adds sqs:ReceiveMessage/DeleteMessage/ChangeMessageVisibility/GetQueue* on this queue and
    // kms:Decrypt on the key, nothing broader.
    this.processor.function.addEventSource(
      new eventSources.SqsEventSource(this.queues.queue, {
        batchSize: source.batchSize,
        maxConcurrency: source.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadLargePayloads',
        actions: ['s3:GetObject', 's3:DeleteObject'],
        resources: [prefixArn],
      }),
    );

    // Object keys are per event, so the grant can only be scoped to the source's prefix.
    const bucketId = Stack.of(this).getLogicalId(props.payloadBucket.node.defaultChild as s3.CfnBucket);
    const prefixFinding = `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${source.name}/*]`;
    const prefixReason = `Object keys are generated per event; the grant is limited to this source's prefix ${source.name}/ in the payload bucket.`;
    acknowledge(this.verifier.role, prefixFinding, prefixReason);
    acknowledge(this.processor.role, prefixFinding, prefixReason);

    acknowledgeFunctionFindings(this.verifier, props.vpc !== undefined, [
      'The verifier is invoked synchronously by API Gateway: a failure is a 5xx the provider retries, there is no asynchronous event to dead-letter.',
      'Verifier concurrency is bounded upstream by the stage throttling and the WAF rate limit; reserving concurrency per source would fail deployment in accounts with the default concurrency quota.',
    ]);
    acknowledgeFunctionFindings(this.processor, props.vpc !== undefined, [
      'The processor is invoked by an SQS event source mapping: failed records go to the queue\'s DLQ (maxReceiveCount); a function-level DLQ only applies to asynchronous invocations.',
      'Processor concurrency is bounded by the event source mapping\'s maxConcurrency, which is the supported way for SQS consumers.',
    ]);

    this.alarms = new SourceAlarms(this, 'Alarms', {
      sourceName: source.name,
      metricsNamespace: props.metricsNamespace,
      verifier: this.verifier.function,
      processor: this.processor.function,
      queue: this.queues.queue,
      deadLetterQueue: this.queues.deadLetterQueue,
      onCall: props.onCall,
      signatureFailureThreshold: source.signatureFailureThreshold,
      functionErrorCount: props.functionErrorCount,
      queueAgeSeconds: props.queueAgeSeconds,
    });
  }
}

/** The source as the functions see it: every field except secret values. */
export function publicSource(source: NamedSource): NamedSource {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- dropped on purpose: secret values
  const { secrets, ...rest } = source;
  if (rest.provider !== 'meta') return rest;
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- dropped on purpose: a secret value
  const { verifyToken, ...withoutToken } = rest;
  return withoutToken;
}

function acknowledgeFunctionFindings(fn: WebhookFunction, inVpc: boolean, [dlq, concurrency]: readonly [string, string]): void {
  acknowledge(fn.function, 'HIPAA.Security-LambdaDLQ', dlq);
  acknowledge(fn.function, 'HIPAA.Security-LambdaConcurrency', concurrency);
  if (!inVpc) {
    acknowledge(
      fn.function,
      'HIPAA.Security-LambdaInsideVPC',
      'This environment sets vpc: false (a development choice in config); the function only calls AWS APIs over TLS with IAM. Environments that carry production PHI set vpc: true.',
    );
  }
}
