import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { type EnvironmentConfigInput, namedSources } from '../lambda/config/schema';
import { METRICS } from '../lambda/runtime/telemetry';
import { DedupeTable } from './constructs/dedupe-table';
import { DeliveryTable } from './constructs/delivery-table';
import { destinationNetworkNeeds, destinationsOf, payloadExpirationDays } from './constructs/destination-cell';
import { EdgeAlarms } from './constructs/edge-alarms';
import { HookgateDashboard } from './constructs/hookgate-dashboard';
import { IngressApi, WEBHOOKS_PATH } from './constructs/ingress-api';
import { OnCallTopic } from './constructs/on-call-topic';
import { PayloadBucket } from './constructs/payload-bucket';
import { type FunctionNetwork, functionNetwork } from './constructs/private-network';
import { SourceCell } from './constructs/source-cell';
import { StackKey } from './constructs/stack-key';
import { firewallSource, WebhookFirewall } from './constructs/webhook-firewall';
import { validateStackInput } from './stack-props';

/** Props of {@link HookgateStack}. */
export interface HookgateStackProps extends StackProps {
  /** The environment's name (`dev`, `prod`...): metrics namespace `Hookgate/<name>`. */
  readonly environmentName: string;
  /** The environment's config, as `config/<name>.json` says it (validated and completed here). */
  readonly config: EnvironmentConfigInput;
  /** Verifier entry point. @default lambda/verifier/index.ts */
  readonly verifierEntry?: string;
  /** Processor entry point. @default lambda/processor/index.ts */
  readonly processorEntry?: string;
  /** Delivery function entry point. @default lambda/delivery/index.ts */
  readonly deliveryEntry?: string;
  /** Folder a `lambda` destination's `entry` is relative to. @default process.cwd() */
  readonly projectRoot?: string;
}

/**
 * One deployable hookgate environment:
 *
 * provider → WAF → API Gateway → verifier (per source) → SQS (+DLQ) → processor (per source),
 * with the dedupe table, the payload bucket and one customer-managed key shared by all sources,
 * alarms to the on-call topic and a dashboard.
 */
export class HookgateStack extends Stack {
  public readonly key: StackKey;
  public readonly onCall: OnCallTopic;
  public readonly network?: FunctionNetwork;
  public readonly dedupe: DedupeTable;
  /** Circuit-breaker state and delivery attempts, when a source has destinations. */
  public readonly deliveries?: DeliveryTable;
  public readonly payloads: PayloadBucket;
  public readonly cells: readonly SourceCell[];
  public readonly ingress: IngressApi;
  public readonly firewall: WebhookFirewall;
  public readonly edgeAlarms: EdgeAlarms;
  public readonly dashboard: HookgateDashboard;

  constructor(scope: Construct, id: string, props: HookgateStackProps) {
    // Every default applied: from here on the config is complete.
    const config = validateStackInput(props.environmentName, props.config);
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the input config is replaced by the parsed one above
    const { environmentName, config: _input, verifierEntry, processorEntry, deliveryEntry, projectRoot, ...stackProps } = props;
    super(scope, id, { description: `hookgate ${environmentName}: webhook ingestion`, ...stackProps });
    const retain = config.retain;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    // Every period the schema allows is a RetentionDays member, so the compiler checks the conversion.
    const logRetention: logs.RetentionDays = config.logRetentionDays;
    const metricsNamespace = `${METRICS.namespacePrefix}/${environmentName}`;
    const sources = namedSources(config);

    // Shared by every source: the key, on-call, the network, the dedupe table, the payload bucket.
    this.key = new StackKey(this, 'Key', { removalPolicy });
    const key = this.key.key;
    // Every log group: encrypted with the stack key, the config's retention, removed with the stack or not.
    const withKey = { logEncryptionKey: key, logRetention, logRemovalPolicy: removalPolicy };
    this.onCall = new OnCallTopic(this, 'OnCall', { encryptionKey: key, email: config.alarms.email });
    this.network = config.vpc ? functionNetwork(this, 'Network', { ...withKey, network: config.network, ...destinationNetworkNeeds(sources) }) : undefined;
    this.dedupe = new DedupeTable(this, 'Dedupe', { encryptionKey: key, retain });
    this.deliveries = destinationsOf(sources).length > 0 ? new DeliveryTable(this, 'Deliveries', { encryptionKey: key, retain }) : undefined;
    this.payloads = new PayloadBucket(this, 'Payloads', {
      encryptionKey: key,
      expirationDays: payloadExpirationDays(sources),
      accessLogRetentionDays: config.logRetentionDays,
      removalPolicy,
    });

    // The front door: WAF in front of the REST API stage.
    this.ingress = new IngressApi(this, 'Ingress', {
      ...withKey,
      throttlingRateLimit: config.throttling.rateLimit,
      throttlingBurstLimit: config.throttling.burstLimit,
      untracedRoutes: sources
        .map(firewallSource)
        .filter((s) => (s.credentialQueryArguments ?? []).length > 0)
        .map((s) => ({ sourceName: s.sourceName, method: s.handshake === true ? 'GET' : '*' })),
    });
    this.firewall = new WebhookFirewall(this, 'Firewall', {
      ...withKey,
      stageArn: this.ingress.stage.stageArn,
      rateLimit: config.rateLimit.limit,
      rateLimitWindowSeconds: config.rateLimit.windowSeconds,
      sources: sources.map(firewallSource),
    });

    // One cell per source behind its route: verifier → queue (+DLQ) → processor, and its alarms.
    this.cells = sources.map((source) => {
      const cell = new SourceCell(this, `Source-${source.name}`, {
        source,
        metricsNamespace,
        encryptionKey: key,
        dedupeTable: this.dedupe.table,
        payloadBucket: this.payloads.bucket,
        onCall: this.onCall,
        dedupeTtlDays: config.dedupeTtlDays,
        logRetention,
        removalPolicy,
        vpc: this.network?.vpc,
        vpcSubnets: this.network?.functions.subnets,
        securityGroups: this.network?.functions.securityGroups,
        deliveryPlacement: this.network?.deliveries,
        deliveryTable: this.deliveries?.table,
        deliveryHistoryDays: config.deliveryHistoryDays,
        projectRoot,
        deliveryEntry,
        functionErrorCount: config.alarms.functionErrorCount,
        queueAgeSeconds: config.alarms.queueAgeSeconds,
        verifierEntry,
        processorEntry,
      });
      this.ingress.addRoute({ sourceName: source.name, verifier: cell.verifier.function, handshake: source.provider === 'meta', allowedIps: source.allowedIps });
      return cell;
    });

    // Observability: API and WAF alarms, and the dashboard.
    this.edgeAlarms = new EdgeAlarms(this, 'EdgeAlarms', {
      stage: this.ingress.stage,
      webAclName: this.firewall.webAclName,
      onCall: this.onCall,
      api5xxCount: config.alarms.api5xxCount,
      apiLatencyP99Ms: config.alarms.apiLatencyP99Ms,
      wafBlockedCount: config.alarms.wafBlockedCount,
    });

    this.dashboard = new HookgateDashboard(this, 'Dashboard', {
      cells: this.cells,
      stage: this.ingress.stage,
      webAclName: this.firewall.webAclName,
      metricsNamespace,
    });

    new CfnOutput(this, 'WebhooksUrl', {
      description: 'Base URL of the webhooks; a source listens on <this>/<source name>',
      value: this.ingress.api.urlForPath(`/${WEBHOOKS_PATH}`),
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.onCall.topic.topicArn });
  }
}
