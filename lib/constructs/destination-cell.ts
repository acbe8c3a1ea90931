import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type DestinationConfig, type NamedDestination, publicDestination } from '../../lambda/config/destinations';
import type { NamedSource } from '../../lambda/config/schema';
import { ENV } from '../../lambda/runtime/env';
import { METRICS } from '../../lambda/runtime/telemetry';
import { acknowledge } from '../nag';
import { circuitKey } from '../../lambda/delivery/circuit';
import { DestinationAlarms, type DestinationConsumer } from './destination-alarms';
import { DEAD_LETTER_RETENTION, EncryptedQueue, VISIBILITY_TIMEOUT_FACTOR } from './encrypted-queue';
import type { OnCallTopic } from './on-call-topic';
import { MIN_PAYLOAD_EXPIRATION_DAYS } from './payload-bucket';
import type { DestinationService, FunctionPlacement } from './private-network';
import { handlersEntry } from './handlers-entry';
import { lambdaEntry } from './lambda-entry';
import { envelopeKeyUse, serviceKeyUse } from './stack-key';
import { WebhookFunction } from './webhook-function';

/** Memory of a delivery function (http, lambda functionArn, eventbridge), MB. */
export const DELIVERY_MEMORY_MB = 256;

/** Seconds a delivery invocation gets beyond its attempts (state reads and writes, the DLQ). */
export const DELIVERY_MARGIN_SECONDS = 10;

/** Lambda's longest timeout. */
const MAX_FUNCTION_TIMEOUT_SECONDS = 900;

/**
 * Receives before SQS moves a delivery message to the DLQ on its own: a safety net for a function
 * that crashes on every receive. The engine moves an event to the DLQ itself when its retry
 * window ends, long before this.
 */
export const DELIVERY_MAX_RECEIVE_COUNT = 1000;

/** Props of {@link DestinationCell}. */
export interface DestinationCellProps {
  /** The destination's source (defaults applied). */
  readonly source: NamedSource;
  /** `ENV.source` of a bundled handler: the source as its processor sees it (no secret values). */
  readonly sourceJson: string;
  /** The destination's name in `source.destinations`. */
  readonly destinationName: string;
  /** The destination, from a parsed config (defaults applied; secretName, never secret values). */
  readonly destination: DestinationConfig;
  /** `Hookgate/<environment>`: POWERTOOLS_METRICS_NAMESPACE and the alarms' namespace. */
  readonly metricsNamespace: string;
  readonly encryptionKey: kms.IKey;
  readonly payloadBucket: s3.IBucket;
  /** Circuit-breaker state and delivery attempts (DeliveryTable). */
  readonly deliveryTable: dynamodb.ITable;
  /** Days a delivery attempt record lives (the config's deliveryHistoryDays). */
  readonly deliveryHistoryDays: number;
  readonly onCall: OnCallTopic;
  /** Function errors per 5 minutes before on-call hears (the config's alarms.functionErrorCount). */
  readonly functionErrorCount: number;
  /** Oldest message age alarm, seconds (the config's alarms.queueAgeSeconds). */
  readonly queueAgeSeconds: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Applies to the queues and log group. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Where the destination's function runs. @default no VPC */
  readonly placement?: FunctionPlacement;
  /** Folder a `lambda` destination's `entry` is relative to. @default process.cwd() */
  readonly projectRoot?: string;
  /** Delivery function entry point. @default lambda/delivery/index.ts */
  readonly deliveryEntry?: string;
}

/**
 * Everything one destination of a source owns: its queue and DLQ (14 days each: the queue
 * outlives the longest retry window), the function that reads the queue and its alarms.
 *
 * The function is the delivery engine (lambda/delivery/index.ts) for `http`, a `lambda` function
 * ARN and `eventbridge`; for a `lambda` destination with `entry`, it is the team's handler module
 * bundled as a processor (lambda/processor/entry.ts). Its role reaches only this destination's
 * queues, this source's envelopes and payloads, this destination's state and history, and the
 * one thing it delivers to (its signing secret, function or bus).
 */
export class DestinationCell extends Construct {
  public readonly sourceName: string;
  public readonly destinationName: string;
  /** The destination as its function sees it (no secret values). */
  public readonly destination: NamedDestination;
  public readonly queues: EncryptedQueue;
  /** The function reading the queue: the delivery engine, or the bundled handler. */
  public readonly delivery: WebhookFunction;
  /** The Secrets Manager secret an `http` destination signs with. */
  public readonly signingSecret?: secretsmanager.ISecret;
  /** The generated entry point of a `lambda` destination with `entry` (the team's handlers behind hookgate's processor). */
  public readonly handlerEntry?: string;
  public readonly alarms: DestinationAlarms;
  private readonly payloadBucket: s3.IBucket;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: DestinationCellProps) {
    super(scope, id);
    const source = props.source.name;
    this.sourceName = source;
    this.destinationName = props.destinationName;
    this.destination = publicDestination({ ...props.destination, name: props.destinationName, source });
    this.payloadBucket = props.payloadBucket;
    this.encryptionKey = props.encryptionKey;
    const destination = this.destination;
    const where = `destination ${source}/${props.destinationName}`;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const bundled = destination.type === 'lambda' && destination.entry !== undefined;
    const timeout = Duration.seconds(deliveryTimeoutSeconds(destination));
    const key = props.encryptionKey;

    this.queues = new EncryptedQueue(this, 'Queues', {
      encryptionKey: key,
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      maxReceiveCount: destination.type === 'lambda' && bundled ? destination.maxReceiveCount : DELIVERY_MAX_RECEIVE_COUNT,
      retentionPeriod: DEAD_LETTER_RETENTION,
      removalPolicy,
    });

    const common = {
      logEncryptionKey: key,
      logRetention: props.logRetention,
      logRemovalPolicy: removalPolicy,
      vpc: props.placement?.vpc,
      vpcSubnets: props.placement?.subnets,
      securityGroups: props.placement?.securityGroups,
      timeout,
    };
    const shared = {
      POWERTOOLS_SERVICE_NAME: METRICS.service,
      POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
      [ENV.destination]: JSON.stringify(destination),
      [ENV.payloadBucket]: props.payloadBucket.bucketName,
      [ENV.keyArn]: key.keyArn,
      [ENV.deadLetterQueueUrl]: this.queues.deadLetterQueue.queueUrl,
    };
    if (destination.type === 'http') {
      if (destination.secretName === undefined) throw new Error(`${where}: a deployed http destination needs secretName`);
      this.signingSecret = secretsmanager.Secret.fromSecretNameV2(this, 'SigningSecret', destination.secretName);
    }

    if (destination.type === 'lambda' && destination.entry !== undefined) {
      const handlersModule = resolve(props.projectRoot ?? process.cwd(), destination.entry);
      if (!existsSync(handlersModule)) throw new Error(`${where}: entry ${handlersModule} does not exist`);
      this.handlerEntry = handlersEntry(this, handlersModule);
      this.delivery = new WebhookFunction(this, 'Handler', {
        ...common,
        entry: this.handlerEntry,
        description: `hookgate ${where}: the team's handler`,
        memorySize: destination.memorySize,
        environment: { ...shared, [ENV.source]: props.sourceJson },
      });
    } else {
      this.delivery = new WebhookFunction(this, 'Delivery', {
        ...common,
        entry: props.deliveryEntry ?? lambdaEntry('delivery', 'index'),
        description: `hookgate ${where}: deliver with retries`,
        // It mostly waits on the destination, billed by the millisecond: 256 MB is plenty for
        // one attempt at a time and halves that cost against the 512 MB default (docs/cost.md).
        memorySize: DELIVERY_MEMORY_MB,
        environment: {
          ...shared,
          // Every attempt is a record in the delivery table and a metric; logs carry failures only
          // (a line per delivered event cost $0.31 per million with a year's retention, docs/cost.md).
          POWERTOOLS_LOG_LEVEL: 'WARN',
          [ENV.deliveryTable]: props.deliveryTable.tableName,
          [ENV.deliveryHistoryDays]: String(props.deliveryHistoryDays),
          ...(this.signingSecret === undefined || destination.type !== 'http' ? {} : { [ENV.signingSecretName]: destination.secretName }),
        },
      });
    }

    this.consumeQueue(destination);
    this.grantPayloads(destination);
    if (!bundled) this.grantDeliveryState(props.deliveryTable, destination);
    this.grantTarget(destination);

    this.delivery.acknowledgeFindings(props.placement !== undefined, [
      'The function is invoked by an SQS event source mapping: events that cannot be delivered go to the destination\'s DLQ (the engine moves them, maxReceiveCount is the safety net); a function-level DLQ only applies to asynchronous invocations.',
      'Concurrency is bounded by the event source mapping\'s maxConcurrency (the destination\'s maxInFlight), the supported way for SQS consumers, so a backlog never floods the destination.',
    ]);

    this.alarms = new DestinationAlarms(this, 'Alarms', {
      sourceName: source,
      destinationName: props.destinationName,
      consumer: consumerOf(destination),
      metricsNamespace: props.metricsNamespace,
      function: this.delivery.function,
      queue: this.queues.queue,
      deadLetterQueue: this.queues.deadLetterQueue,
      onCall: props.onCall,
      functionErrorCount: props.functionErrorCount,
      queueAgeSeconds: props.queueAgeSeconds,
    });
  }

  /**
   * Lets `grantee` read the bodies an `eventbridge` destination sent by reference (events whose
   * body is too large for EventBridge point at an object under `<source>/refs/`): s3:GetObject
   * on those objects, and kms:Decrypt only under this source's envelope encryption context and
   * through S3. When the grantee is a construct, its cdk-nag finding on that prefix is
   * acknowledged with this reason.
   */
  grantReadEventBodies(grantee: iam.IGrantable): iam.Grant {
    if (this.destination.type !== 'eventbridge') throw new Error(`destination ${this.sourceName}/${this.destinationName} is not an eventbridge destination`);
    const open = envelopeKeyUse(this.encryptionKey, 'OpenEventBodies', this.sourceName, ['kms:Decrypt']);
    const objects = serviceKeyUse(this.encryptionKey, 'EventBodyObjects', 's3', ['kms:Decrypt']);
    const principal = grantee.grantPrincipal;
    if (Construct.isConstruct(principal)) {
      const bucketId = Stack.of(this).getLogicalId(this.payloadBucket.node.defaultChild as s3.CfnBucket);
      acknowledge(
        principal,
        `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${this.sourceName}/refs/*]`,
        `Bodies sent by reference get a key per event; the read is limited to the prefix ${this.sourceName}/refs/ of destination ${this.sourceName}/${this.destinationName}.`,
      );
    }
    return iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [this.refsArn()] })
      .combine(iam.Grant.addToPrincipal({ grantee, actions: open.actions, resourceArns: open.resources, conditions: open.conditions as Record<string, Record<string, unknown>> }))
      .combine(iam.Grant.addToPrincipal({ grantee, actions: objects.actions, resourceArns: objects.resources, conditions: objects.conditions as Record<string, Record<string, unknown>> }));
  }

  /** The event source mapping and what consuming the queue needs, plus moving events to the DLQ. */
  private consumeQueue(destination: NamedDestination): void {
    const queue = this.queues.queue;
    // What SqsEventSource does (the same mapping id), without its unconditioned kms:Decrypt grant
    // on the encrypted queue: the key is granted below, through SQS only.
    const mapping = this.delivery.function.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(queue.node)}`, {
      eventSourceArn: queue.queueArn,
      batchSize: destination.batchSize,
      maxConcurrency: destination.maxInFlight,
      reportBatchItemFailures: true,
    });
    // Lambda checks the role can receive when it creates the mapping.
    queue.grant(this.delivery.role, 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes').applyBefore(mapping);
    this.delivery.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'MoveToDeadLetterQueue', actions: ['sqs:SendMessage'], resources: [this.queues.deadLetterQueue.queueArn] }),
    );
    // Receiving decrypts through SQS; a copy to the DLQ generates a data key through SQS.
    this.delivery.addToRolePolicy(serviceKeyUse(this.encryptionKey, 'QueueEncryption', 'sqs', ['kms:Decrypt', 'kms:GenerateDataKey']));
    this.delivery.addToRolePolicy(envelopeKeyUse(this.encryptionKey, 'OpenOwnSource', this.sourceName, ['kms:Decrypt']));
  }

  /** Reading the source's large bodies; an eventbridge destination also stores bodies by reference. */
  private grantPayloads(destination: NamedDestination): void {
    const bucket = this.payloadBucket;
    const prefixArn = `${bucket.bucketArn}/${this.sourceName}/*`;
    const byReference = destination.type === 'eventbridge';
    this.delivery.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadLargePayloads', actions: ['s3:GetObject'], resources: [prefixArn] }));
    if (byReference) {
      this.delivery.addToRolePolicy(new iam.PolicyStatement({ sid: 'StoreEventBodies', actions: ['s3:PutObject'], resources: [this.refsArn()] }));
      // A body stored by reference is sealed again (lambda/delivery/body-ref.ts), under its own source's context only.
      this.delivery.addToRolePolicy(envelopeKeyUse(this.encryptionKey, 'SealEventBodies', this.sourceName, ['kms:GenerateDataKey']));
    }
    this.delivery.addToRolePolicy(serviceKeyUse(this.encryptionKey, 'PayloadEncryption', 's3', byReference ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt']));

    // Object keys are per event, so the grants can only be scoped to the source's prefixes.
    const bucketId = Stack.of(this).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    acknowledge(
      this.delivery.role,
      `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${this.sourceName}/*]`,
      `Object keys are generated per event; the read is limited to this source's prefix ${this.sourceName}/ in the payload bucket.`,
    );
    if (byReference) {
      acknowledge(
        this.delivery.role,
        `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${this.sourceName}/refs/*]`,
        `Bodies sent by reference get a key per event; the write is limited to this source's prefix ${this.sourceName}/refs/.`,
      );
    }
  }

  /**
   * The engine's circuit-breaker item and attempt history, and nothing else in the table: items
   * keyed `circuit#<source>/<destination>` and the source's dedupe keys (`<source>:...`).
   */
  private grantDeliveryState(table: dynamodb.ITable, destination: NamedDestination): void {
    this.delivery.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DeliveryState',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': deliveryStateKeys(this.sourceName, destination.name) } },
      }),
    );
    this.delivery.addToRolePolicy(serviceKeyUse(this.encryptionKey, 'DeliveryTableEncryption', 'dynamodb', ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey']));
  }

  /** The one thing the destination delivers to. */
  private grantTarget(destination: NamedDestination): void {
    if (destination.type === 'http' && this.signingSecret !== undefined) {
      // A secret's ARN ends with six random characters.
      this.delivery.addToRolePolicy(
        new iam.PolicyStatement({ sid: 'ReadOwnSigningSecret', actions: ['secretsmanager:GetSecretValue'], resources: [`${this.signingSecret.secretArn}-??????`] }),
      );
    } else if (destination.type === 'lambda' && destination.functionArn !== undefined) {
      this.delivery.addToRolePolicy(new iam.PolicyStatement({ sid: 'InvokeDestination', actions: ['lambda:InvokeFunction'], resources: [destination.functionArn] }));
    } else if (destination.type === 'eventbridge') {
      this.delivery.addToRolePolicy(new iam.PolicyStatement({ sid: 'PutEventsOnBus', actions: ['events:PutEvents'], resources: [busArn(this, destination.busName)] }));
    }
  }

  private refsArn(): string {
    return `${this.payloadBucket.bucketArn}/${this.sourceName}/refs/*`;
  }
}

/**
 * The `dynamodb:LeadingKeys` patterns of a destination's delivery state: its circuit item and
 * its source's dedupe keys (history items). Source and destination names hold no IAM wildcard.
 */
export function deliveryStateKeys(sourceName: string, destinationName: string): string[] {
  return [circuitKey(sourceName, destinationName).pk, `${sourceName}:*`];
}

/** A delivery function's timeout: every attempt of a batch at its timeout, and a margin; at most 15 minutes. */
export function deliveryTimeoutSeconds(destination: { readonly batchSize: number; readonly timeoutSeconds: number }): number {
  return Math.min(MAX_FUNCTION_TIMEOUT_SECONDS, destination.batchSize * (destination.timeoutSeconds + 1) + DELIVERY_MARGIN_SECONDS);
}

/** The ARN of an event bus given by name (this stack's account and region) or by ARN. */
export function busArn(scope: Construct, busName: string): string {
  return busName.startsWith('arn:') ? busName : Stack.of(scope).formatArn({ service: 'events', resource: 'event-bus', resourceName: busName });
}

/** Every destination of the sources, with its source. */
export function destinationsOf(sources: readonly NamedSource[]): { readonly source: NamedSource; readonly name: string; readonly destination: DestinationConfig }[] {
  return sources.flatMap((source) => Object.entries(source.destinations ?? {}).map(([name, destination]) => ({ source, name, destination })));
}

/**
 * What the destinations need from a VPC: the TCP ports they connect to (443, and any other port
 * an `http` URL names) and the AWS APIs they call (Lambda, EventBridge). Empty without destinations.
 */
export function destinationNetworkNeeds(sources: readonly NamedSource[]): { readonly deliveryPorts?: number[]; readonly destinationServices?: DestinationService[] } {
  const destinations = destinationsOf(sources).map((d) => d.destination);
  if (destinations.length === 0) return {};
  const ports = destinations.flatMap((d) => (d.type === 'http' ? [Number(new URL(d.url).port || (new URL(d.url).protocol === 'http:' ? 80 : 443))] : []));
  const services: DestinationService[] = [];
  if (destinations.some((d) => d.type === 'lambda' && d.functionArn !== undefined)) services.push('lambda');
  if (destinations.some((d) => d.type === 'eventbridge')) services.push('events');
  return { deliveryPorts: [...new Set([443, ...ports])].sort((a, b) => a - b), destinationServices: services };
}

/**
 * Days a payload object must live when the sources have destinations: the source's own path
 * ({@link MIN_PAYLOAD_EXPIRATION_DAYS}), then the longest destination path: its retry window
 * (rounded up to days, plus a day for the last backoff) and its DLQ retention, twice for one
 * redrive. Undefined without destinations (the bucket's default).
 */
export function payloadExpirationDays(sources: readonly NamedSource[]): number | undefined {
  const destinations = destinationsOf(sources);
  if (destinations.length === 0) return undefined;
  const longestWindowDays = Math.max(...destinations.map(({ destination }) => Math.ceil(destination.retryWindowHours / 24)));
  return MIN_PAYLOAD_EXPIRATION_DAYS + 2 * (longestWindowDays + 1 + DEAD_LETTER_RETENTION.toDays());
}

function consumerOf(destination: NamedDestination): DestinationConsumer {
  if (destination.type === 'http') return 'http';
  return destination.type === 'lambda' && destination.entry !== undefined ? 'handler' : 'engine';
}
