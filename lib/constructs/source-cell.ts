import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { processorBatch } from '../../lambda/config/processor-batch';
import { configSchema, durationSeconds, type NamedSource } from '../../lambda/config/schema';
import { ENV } from '../../lambda/runtime/env';
import { ARCHIVE_PREFIX, INDEX_PREFIX } from '../../lambda/archive/format';
import { METRICS } from '../../lambda/runtime/telemetry';
import { acknowledge } from '../nag';
import { DestinationCell, destinationsOf } from './destination-cell';
import { EncryptedQueue, VISIBILITY_TIMEOUT_FACTOR } from './encrypted-queue';
import { lambdaEntry } from './lambda-entry';
import type { OnCallTopic } from './on-call-topic';
import type { FunctionPlacement } from './private-network';
import { SourceAlarms } from './source-alarms';
import { envelopeKeyUse, serviceKeyUse } from './stack-key';
import { WebhookFunction } from './webhook-function';

export { VISIBILITY_TIMEOUT_FACTOR } from './encrypted-queue';

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
  /** Subnets of the VPC the verifier and processor run in. @default the VPC's private isolated subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Where the destinations' functions run. @default where the verifier and processor run */
  readonly deliveryPlacement?: FunctionPlacement;
  /** Circuit-breaker state and delivery attempts (DeliveryTable): required when the source has destinations. @default none */
  readonly deliveryTable?: dynamodb.ITable;
  /** Days a delivery attempt record lives (the config's deliveryHistoryDays). @default the config's default */
  readonly deliveryHistoryDays?: number;
  /** Folder a `lambda` destination's `entry` is relative to. @default process.cwd() */
  readonly projectRoot?: string;
  /** Delivery function entry point. @default lambda/delivery/index.ts */
  readonly deliveryEntry?: string;
  /** Verifier or processor errors per 5 minutes before on-call hears (the config's alarms.functionErrorCount). */
  readonly functionErrorCount: number;
  /** Oldest message age alarm, seconds (the config's alarms.queueAgeSeconds). */
  readonly queueAgeSeconds: number;
  /** Verifier entry point. @default lambda/verifier/index.ts */
  readonly verifierEntry?: string;
  /** Processor entry point. @default lambda/processor/index.ts */
  readonly processorEntry?: string;
  /** The archive the processor writes every batch to, before any work. @default no archive */
  readonly archive?: SourceArchive;
}

/** The archive as a source cell uses it. */
export interface SourceArchive {
  /** The archive bucket (ArchiveBucket): the processor may put objects under `archive/<source>/` only. */
  readonly bucket: s3.IBucket;
  /** The processor's SQS batch size (the config's archive.batchSize; a source without destinations may set a smaller `batchSize`). */
  readonly batchSize: number;
  /** The processor's batching window, seconds (the config's archive.batchWindowSeconds). */
  readonly batchWindowSeconds: number;
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
  /** One cell per destination; the processor fans each event out to their queues. Empty without destinations. */
  public readonly destinations: readonly DestinationCell[];

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
    // The processor archives each batch in one write before any work: larger batches, filled for
    // the window, make fewer writes (lambda/config/processor-batch.ts says who gets which).
    const batch = processorBatch(source, props.archive);
    const batchingWindow = batch.batchWindowSeconds;

    this.queues = new EncryptedQueue(this, 'Queues', {
      encryptionKey: props.encryptionKey,
      // Lambda's advice: six times the function timeout, plus the batching window.
      visibilityTimeout: Duration.seconds(processorTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR + batchingWindow),
      maxReceiveCount: source.maxReceiveCount,
      removalPolicy,
    });
    this.secret = secretsmanager.Secret.fromSecretNameV2(this, 'Secret', source.secretName);

    const common = {
      logEncryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      logRemovalPolicy: removalPolicy,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
    };
    const sourceJson = JSON.stringify(publicSource(source));
    const powertools = {
      POWERTOOLS_SERVICE_NAME: METRICS.service,
      POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
    };
    this.destinations = this.destinationCells(props, sourceJson, removalPolicy);

    this.verifier = new WebhookFunction(this, 'Verifier', {
      ...common,
      entry: props.verifierEntry ?? lambdaEntry('verifier', 'index'),
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
    // Only items whose key starts with `<source>:` (every dedupe key does, lambda/signatures/
    // dedupe-key.ts; Powertools writes the key as the partition key `id`, no sort key): a
    // compromised verifier cannot mark another source's event as done and suppress it.
    this.verifier.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DedupeOwnKeys',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [props.dedupeTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [dedupeKeyPattern(source.name)] } },
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
    // The stack key: envelopes only under this source's encryption context; SQS (a producer
    // needs GenerateDataKey and Decrypt), S3 and DynamoDB encryption only through the service.
    const key = props.encryptionKey;
    this.verifier.addToRolePolicy(envelopeKeyUse(key, 'SealOwnSource', source.name, ['kms:GenerateDataKey']));
    this.verifier.addToRolePolicy(serviceKeyUse(key, 'QueueEncryption', 'sqs', ['kms:GenerateDataKey', 'kms:Decrypt']));
    this.verifier.addToRolePolicy(serviceKeyUse(key, 'PayloadEncryption', 's3', ['kms:GenerateDataKey', 'kms:Decrypt']));
    this.verifier.addToRolePolicy(serviceKeyUse(key, 'DedupeTableEncryption', 'dynamodb', ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey']));

    this.processor = new WebhookFunction(this, 'Processor', {
      ...common,
      entry: props.processorEntry ?? lambdaEntry('processor', 'index'),
      description: `hookgate ${source.name}: decrypt and process`,
      timeout: processorTimeout,
      environment: {
        ...powertools,
        [ENV.source]: sourceJson,
        [ENV.payloadBucket]: props.payloadBucket.bucketName,
        [ENV.keyArn]: keyArn,
        [ENV.deadLetterQueueUrl]: this.queues.deadLetterQueue.queueUrl,
        ...(props.archive === undefined ? {} : { [ENV.archiveBucket]: props.archive.bucket.bucketName }),
        ...this.fanOutEnvironment(),
      },
    });
    // What SqsEventSource does (the same mapping id, so a deployed mapping is kept: Lambda allows
    // one mapping per queue and function) without its grant on the encrypted queue, which would
    // add an unconditioned kms:Decrypt; the key is granted below, through SQS only.
    const queue = this.queues.queue;
    const mapping = this.processor.function.addEventSourceMapping(
      `SqsEventSource:${Names.nodeUniqueId(queue.node)}`,
      {
        eventSourceArn: queue.queueArn,
        batchSize: batch.batchSize,
        ...(batchingWindow > 0 ? { maxBatchingWindow: Duration.seconds(batchingWindow) } : {}),
        maxConcurrency: source.maxConcurrency,
        reportBatchItemFailures: true,
      },
    );
    // Lambda checks the role can receive when it creates the mapping.
    queue.grant(this.processor.role, 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes').applyBefore(mapping);
    // A fan-out processor leaves payload objects to its destinations, which read them later
    // (the bucket's lifecycle removes them); only a processor that handles events deletes them.
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadLargePayloads',
        actions: this.destinations.length > 0 ? ['s3:GetObject'] : ['s3:GetObject', 's3:DeleteObject'],
        resources: [prefixArn],
      }),
    );
    this.processor.addToRolePolicy(envelopeKeyUse(key, 'OpenOwnSource', source.name, ['kms:Decrypt']));
    this.processor.addToRolePolicy(serviceKeyUse(key, 'QueueDecryption', 'sqs', ['kms:Decrypt']));
    this.processor.addToRolePolicy(serviceKeyUse(key, 'PayloadDecryption', 's3', ['kms:Decrypt']));
    // Records that can never open go straight to the DLQ; SQS encrypts them with the stack key.
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'MoveUnreadableToDeadLetterQueue',
        actions: ['sqs:SendMessage'],
        resources: [this.queues.deadLetterQueue.queueArn],
      }),
    );
    // Also covers the fan-out's copies to the destination queues, which SQS encrypts the same way.
    this.processor.addToRolePolicy(serviceKeyUse(key, 'EncryptDeadLetterCopies', 'sqs', ['kms:GenerateDataKey']));
    if (this.destinations.length > 0) {
      this.processor.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'FanOutToDestinations',
          actions: ['sqs:SendMessage'],
          resources: this.destinations.map((d) => d.queues.queue.queueArn),
        }),
      );
    }

    if (props.archive !== undefined) this.grantArchive(props.archive.bucket, key);

    // Object keys are per event, so the grant can only be scoped to the source's prefix.
    const bucketId = Stack.of(this).getLogicalId(props.payloadBucket.node.defaultChild as s3.CfnBucket);
    const prefixFinding = `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${source.name}/*]`;
    const prefixReason = `Object keys are generated per event; the grant is limited to this source's prefix ${source.name}/ in the payload bucket.`;
    acknowledge(this.verifier.role, prefixFinding, prefixReason);
    acknowledge(this.processor.role, prefixFinding, prefixReason);

    this.verifier.acknowledgeFindings(props.vpc !== undefined, [
      'The verifier is invoked synchronously by API Gateway: a failure is a 5xx the provider retries, there is no asynchronous event to dead-letter.',
      'Verifier concurrency is bounded upstream by the stage throttling and the WAF rate limit; reserving concurrency per source would fail deployment in accounts with the default concurrency quota.',
    ]);
    this.processor.acknowledgeFindings(props.vpc !== undefined, [
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
      expectEventEverySeconds: source.expectEventEvery === undefined ? undefined : durationSeconds(source.expectEventEvery),
    });
  }

  /**
   * The processor may add objects under `archive/<source>/` and their indexes under
   * `index/<source>/` of the archive bucket, encrypted by S3 with the stack key; nothing else.
   */
  private grantArchive(bucket: s3.IBucket, key: kms.IKey): void {
    const name = this.sourceName;
    const prefixes = [ARCHIVE_PREFIX, INDEX_PREFIX].map((root) => `${root}${name}/`);
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveOwnSource',
        actions: ['s3:PutObject'],
        resources: prefixes.map((prefix) => `${bucket.bucketArn}/${prefix}*`),
      }),
    );
    this.processor.addToRolePolicy(serviceKeyUse(key, 'ArchiveEncryption', 's3', ['kms:GenerateDataKey']));
    const bucketId = Stack.of(this).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    for (const prefix of prefixes) {
      acknowledge(
        this.processor.role,
        `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
        `Archive object and index keys are generated per batch; the grant is limited to adding objects under this source's prefix ${prefix} in the archive bucket.`,
      );
    }
  }

  private destinationCells(props: SourceCellProps, sourceJson: string, removalPolicy: RemovalPolicy): DestinationCell[] {
    const destinations = destinationsOf([props.source]);
    if (destinations.length === 0) return [];
    const deliveryTable = props.deliveryTable;
    if (deliveryTable === undefined) throw new Error(`source ${props.source.name}: destinations need a delivery table`);
    // Without a placement of their own, destinations run where the verifier and processor do.
    const ownPlacement = props.vpc === undefined ? undefined : { vpc: props.vpc, subnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, securityGroups: props.securityGroups };
    const placement = props.deliveryPlacement ?? ownPlacement;
    return destinations.map(
      ({ name, destination }) =>
        new DestinationCell(this, `Destination-${name}`, {
          source: props.source,
          sourceJson,
          destinationName: name,
          destination,
          metricsNamespace: props.metricsNamespace,
          encryptionKey: props.encryptionKey,
          payloadBucket: props.payloadBucket,
          deliveryTable,
          deliveryHistoryDays: props.deliveryHistoryDays ?? configSchema.shape.deliveryHistoryDays.parse(undefined),
          onCall: props.onCall,
          functionErrorCount: props.functionErrorCount,
          queueAgeSeconds: props.queueAgeSeconds,
          logRetention: props.logRetention,
          removalPolicy,
          placement,
          projectRoot: props.projectRoot,
          deliveryEntry: props.deliveryEntry,
        }),
    );
  }

  /** The processor's fan-out list (`[{ name, events?, queueUrl }]`), when the source has destinations. */
  private fanOutEnvironment(): Record<string, string> {
    if (this.destinations.length === 0) return {};
    const queues = this.destinations.map((d) => ({ name: d.destinationName, events: d.destination.events, queueUrl: d.queues.queue.queueUrl }));
    return { [ENV.destinationQueues]: Stack.of(this).toJsonString(queues) };
  }
}

/**
 * The `dynamodb:LeadingKeys` pattern of a source's dedupe keys: `<source>:*`. Source names are
 * lowercase letters, digits and '-' (no IAM wildcard, no ':'), so no source's pattern matches
 * another's keys.
 */
export function dedupeKeyPattern(sourceName: string): string {
  return `${sourceName}:*`;
}

/**
 * The source as the functions see it: every field except secret values, and without its
 * destinations (each destination's function is told its own, without secret values; the
 * processor gets their queues).
 */
export function publicSource(source: NamedSource): NamedSource {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- dropped on purpose: secret values, and destinations (which may hold some in local configs)
  const { secrets, destinations, ...rest } = source;
  if (rest.provider !== 'meta') return rest;
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- dropped on purpose: a secret value
  const { verifyToken, ...withoutToken } = rest;
  return withoutToken;
}
