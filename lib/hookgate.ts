import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type EnvironmentConfig, type EnvironmentConfigInput, namedSources } from '../lambda/config/schema';
import { METRICS } from '../lambda/runtime/telemetry';
import { loadConfig } from './config-file';
import { ArchiveBucket } from './constructs/archive-bucket';
import { AuditLog } from './constructs/audit-log';
import { DedupeTable } from './constructs/dedupe-table';
import { EdgeAlarms } from './constructs/edge-alarms';
import { handlersEntry } from './constructs/handlers-entry';
import { HookgateDashboard } from './constructs/hookgate-dashboard';
import { IngressApi, WEBHOOKS_PATH } from './constructs/ingress-api';
import { OnCallTopic } from './constructs/on-call-topic';
import { OperatorPolicies } from './constructs/operator-policies';
import { PayloadBucket } from './constructs/payload-bucket';
import { type ExistingNetwork, type FunctionNetwork, functionNetwork, type PrivateNetwork } from './constructs/private-network';
import { DeliveryTable } from './constructs/delivery-table';
import { destinationNetworkNeeds, destinationsOf, payloadExpirationDays } from './constructs/destination-cell';
import { SourceCell } from './constructs/source-cell';
import { StackKey } from './constructs/stack-key';
import { firewallSource, WebhookFirewall } from './constructs/webhook-firewall';
import { HookgateStackError, validateStackInput } from './stack-props';
import { RESOURCES_OUTPUT, SOURCE_OUTPUT_PREFIX, type SourceResources, type StackResources } from './stack-outputs';

/** Props of {@link Hookgate}. */
export interface HookgateProps {
  /** The environment's name (`dev`, `prod`...): metrics namespace `Hookgate/<name>`. */
  readonly environmentName: string;
  /**
   * The environment's config: an object as `config/<env>.json` would say it, or the path of such
   * a file (read with {@link loadConfig}). Validated and completed here; an invalid config throws
   * an error listing every problem.
   */
  readonly config: EnvironmentConfigInput | string;
  /**
   * Where relative paths in the config resolve (a `lambda` destination's `entry`).
   * @default for a config file, its project: the nearest folder above it holding a
   *   package.json (the file's own folder if none); for an object, the working directory
   */
  readonly configBaseDir?: string;
  /**
   * The team's processor code for every source: a module exporting `handlers`, made with
   * `defineHandlers` (from `hookgate/runtime`). hookgate bundles it into each source's processor.
   * A relative path resolves from the working directory.
   * @default hookgate's own table (lambda/processor/routes.ts), which logs metadata only
   */
  readonly processorEntry?: string;
  /** A handlers module per source name, over {@link processorEntry}. @default processorEntry for every source */
  readonly processorEntries?: Readonly<Record<string, string>>;
  /** The verifier's Lambda entry point (a module exporting `handler`). @default lambda/verifier/index.ts */
  readonly verifierEntry?: string;
  /**
   * Run every function in this VPC (a team's VPC, where its internal services live), with a
   * security group hookgate creates (outbound HTTPS only). Overrides the config's `vpc` and
   * `network`: the VPC's own routing and endpoints decide what the functions reach.
   * @default the config's `vpc`: hookgate's own isolated VPC, or none
   */
  readonly vpc?: ec2.IVpc;
  /** With {@link vpc}: the subnets the functions run in. @default the VPC's private subnets (with egress if it has any, else isolated) */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Delivery function entry point (destinations). @default lambda/delivery/index.ts */
  readonly deliveryEntry?: string;
}


/**
 * hookgate as a construct: one environment's webhook ingestion, in any stack of a team's CDK app.
 *
 * provider → WAF → API Gateway → verifier (per source) → SQS (+DLQ) → processor (per source),
 * with the dedupe table, the payload bucket, the archive of every accepted event (written by the
 * processors before any work) and one customer-managed key shared by all sources, alarms to the
 * on-call topic, a dashboard, and the `WebhooksUrl`, `AlarmTopicArn` and `ArchiveBucketName` outputs.
 *
 * @example
 * ```ts
 * const webhooks = new Hookgate(this, 'Webhooks', {
 *   environmentName: 'prod',
 *   config: 'config/prod.json',
 *   processorEntry: 'processors/index.ts',
 * });
 * webhooks.grantProcessors(new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [table.tableArn] }));
 * ```
 */
export class Hookgate extends Construct {
  /** The environment's config, every default applied. */
  public readonly config: EnvironmentConfig;
  /** Where the config's relative paths resolve: see {@link resolveEntry}. */
  public readonly configBaseDir: string;
  public readonly key: StackKey;
  public readonly onCall: OnCallTopic;
  /** hookgate's own VPC (the config's `vpc: true`), unless {@link HookgateProps.vpc} was given. */
  public readonly network?: PrivateNetwork | ExistingNetwork;
  /** The VPC the functions run in, if any. */
  public readonly vpc?: ec2.IVpc;
  public readonly dedupe: DedupeTable;
  /** Circuit-breaker state and delivery attempts, when a source has destinations. */
  public readonly deliveries?: DeliveryTable;
  public readonly payloads: PayloadBucket;
  /** The archive of every accepted event, written by the processors (output `ArchiveBucketName`). */
  public readonly archive: ArchiveBucket;
  /** One cell per source, in config order. */
  public readonly cells: readonly SourceCell[];
  /** The cells by source name: each processor's role and function, for grants and environment. */
  public readonly sources: ReadonlyMap<string, SourceCell>;
  public readonly ingress: IngressApi;
  public readonly firewall: WebhookFirewall;
  public readonly edgeAlarms: EdgeAlarms;
  public readonly dashboard: HookgateDashboard;
  /** The `hookgate` command's audit log. */
  public readonly audit: AuditLog;
  /** The viewer and operator managed policies of the `hookgate` command (attach them to people's roles). */
  public readonly operatorPolicies: OperatorPolicies;

  constructor(scope: Construct, id: string, props: HookgateProps) {
    super(scope, id);
    const { environmentName } = props;
    // Every default applied: from here on the config is complete.
    const { config, baseDir } = resolveHookgateConfig(props);
    this.config = config;
    this.configBaseDir = baseDir;
    const retain = config.retain;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    // Every period the schema allows is a RetentionDays member, so the compiler checks the conversion.
    const logRetention: logs.RetentionDays = config.logRetentionDays;
    const metricsNamespace = `${METRICS.namespacePrefix}/${environmentName}`;
    const sources = namedSources(config);
    const processorEntries = processorEntriesOf(props, sources.map((s) => s.name));

    // Shared by every source: the key, on-call, the network, the dedupe table, the payload bucket.
    this.key = new StackKey(this, 'Key', { removalPolicy });
    const key = this.key.key;
    // Every log group: encrypted with the stack key, the config's retention, removed with the stack or not.
    const withKey = { logEncryptionKey: key, logRetention, logRemovalPolicy: removalPolicy };
    this.onCall = new OnCallTopic(this, 'OnCall', { encryptionKey: key, email: config.alarms.email });
    this.network = props.vpc === undefined && config.vpc ? functionNetwork(this, 'Network', { ...withKey, network: config.network, ...destinationNetworkNeeds(sources) }) : undefined;
    const network = this.functionNetwork(props);
    this.vpc = network?.vpc;
    this.dedupe = new DedupeTable(this, 'Dedupe', { encryptionKey: key, retain });
    this.deliveries = destinationsOf(sources).length > 0 ? new DeliveryTable(this, 'Deliveries', { encryptionKey: key, retain }) : undefined;
    this.payloads = new PayloadBucket(this, 'Payloads', {
      encryptionKey: key,
      expirationDays: payloadExpirationDays(sources),
      accessLogRetentionDays: config.logRetentionDays,
      removalPolicy,
    });

    this.archive = new ArchiveBucket(this, 'Archive', {
      encryptionKey: key,
      days: config.archive.days,
      objectLock: config.archive.objectLock,
      accessLogsBucket: this.payloads.accessLogsBucket,
      removalPolicy,
    });
    const archive = { bucket: this.archive.bucket, batchSize: config.archive.batchSize, batchWindowSeconds: config.archive.batchWindowSeconds };

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
      const handlers = processorEntries.get(source.name);
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
        vpc: network?.vpc,
        vpcSubnets: network?.functions.subnets,
        securityGroups: network?.functions.securityGroups,
        deliveryPlacement: network?.deliveries,
        deliveryTable: this.deliveries?.table,
        deliveryHistoryDays: config.deliveryHistoryDays,
        projectRoot: this.configBaseDir,
        deliveryEntry: props.deliveryEntry,
        functionErrorCount: config.alarms.functionErrorCount,
        queueAgeSeconds: config.alarms.queueAgeSeconds,
        verifierEntry: props.verifierEntry,
        processorEntry: handlers === undefined ? undefined : handlersEntry(this, handlers),
        archive,
      });
      this.ingress.addRoute({ sourceName: source.name, verifier: cell.verifier.function, handshake: source.provider === 'meta', allowedIps: source.allowedIps });
      return cell;
    });
    this.sources = new Map(this.cells.map((cell) => [cell.sourceName, cell]));

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

    // The command's side: its audit log, its two policies, and where it finds everything.
    this.audit = new AuditLog(this, 'Audit', { encryptionKey: key, retention: config.audit.retentionDays });
    this.operatorPolicies = new OperatorPolicies(this, 'OperatorPolicies', {
      key,
      queues: this.cells.flatMap((cell) => [cell.queues, ...cell.destinations.map((d) => d.queues)]),
      deliveryTable: this.deliveries?.table,
      auditLog: this.audit.logGroup,
      payloadBucket: this.payloads.bucket,
      archiveBucket: this.archive.bucket,
    });
    this.commandOutputs(environmentName);

    new CfnOutput(this, 'WebhooksUrl', {
      description: 'Base URL of the webhooks; a source listens on <this>/<source name>',
      value: this.ingress.api.urlForPath(`/${WEBHOOKS_PATH}`),
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.onCall.topic.topicArn });
    new CfnOutput(this, 'ArchiveBucketName', { description: 'The archive of every accepted event (read by the hookgate command)', value: this.archive.bucket.bucketName });
  }

  /**
   * The outputs the `hookgate` command discovers the stack from (lib/stack-outputs.ts): fixed
   * keys, so one stack holds one Hookgate the command can drive. Small JSON documents of names.
   */
  private commandOutputs(environment: string): void {
    const resources: StackResources = {
      environment,
      auditLogGroup: this.audit.logGroup.logGroupName,
      payloadBucket: this.payloads.bucket.bucketName,
      archiveBucket: this.archive.bucket.bucketName,
      keyArn: this.key.key.keyArn,
      ...(this.deliveries === undefined ? {} : { deliveryTable: this.deliveries.table.tableName }),
    };
    const json = (value: unknown): string => Stack.of(this).toJsonString(value);
    new CfnOutput(this, RESOURCES_OUTPUT, { description: 'hookgate command: stack-wide resources (JSON)', value: json(resources) }).overrideLogicalId(RESOURCES_OUTPUT);
    this.cells.forEach((cell, i) => {
      const source: SourceResources = {
        source: cell.sourceName,
        queueUrl: cell.queues.queue.queueUrl,
        dlqUrl: cell.queues.deadLetterQueue.queueUrl,
        destinations: Object.fromEntries(
          cell.destinations.map((d) => [d.destinationName, { queueUrl: d.queues.queue.queueUrl, dlqUrl: d.queues.deadLetterQueue.queueUrl, ...(d.destination.events === undefined ? {} : { events: d.destination.events }) }]),
        ),
      };
      new CfnOutput(this, `${SOURCE_OUTPUT_PREFIX}${i}`, { description: `hookgate command: source ${cell.sourceName} (JSON)`, value: json(source) }).overrideLogicalId(`${SOURCE_OUTPUT_PREFIX}${i}`);
    });
  }

  /**
   * Grants every source's processor what the team's handlers need (a table, a bucket, an API):
   * each processor's role gets its own copy of each statement. One source only:
   * `sources.get(name).processor.addToRolePolicy(statement)`.
   */
  grantProcessors(...statements: iam.PolicyStatement[]): void {
    for (const cell of this.cells) {
      for (const statement of statements) cell.processor.addToRolePolicy(statement.copy());
    }
  }

  /**
   * The absolute path of a module the config names (a `lambda` destination's `entry`), for
   * NodejsFunction. The config itself keeps the path as written: it reaches the functions'
   * environment, which must not change with the folder a synth runs in.
   */
  resolveEntry(entry: string): string {
    return resolve(this.configBaseDir, entry);
  }

  /** The network of the functions: the given VPC with a security group of its own, hookgate's VPC, or none. */
  private functionNetwork(props: HookgateProps): FunctionNetwork | undefined {
    if (props.vpc !== undefined) {
      const group = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
        vpc: props.vpc,
        description: 'hookgate functions: outbound HTTPS only',
        allowAllOutbound: false,
      });
      group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS endpoints and destinations');
      const placement = { vpc: props.vpc, subnets: props.vpcSubnets ?? {}, securityGroups: [group] };
      return { vpc: props.vpc, functions: placement, deliveries: placement };
    }
    return this.network;
  }
}

/** A Hookgate's config, validated and completed, and where its relative paths resolve. */
export interface ResolvedConfig {
  /** Every default applied; paths as the config says them. */
  readonly config: EnvironmentConfig;
  /** Where the config's relative paths resolve (absolute). */
  readonly baseDir: string;
}

/**
 * A Hookgate's config, validated as a deployable environment with every default applied (read
 * from its file when given a path), and its base folder ({@link HookgateProps.configBaseDir}).
 * Throws a HookgateStackError (or a ConfigError naming the file) listing every problem, a
 * `lambda` destination whose `entry` does not exist among them.
 */
export function resolveHookgateConfig(props: Pick<HookgateProps, 'environmentName' | 'config' | 'configBaseDir'>): ResolvedConfig {
  const { environmentName } = props;
  const file = typeof props.config === 'string' ? resolve(props.config) : undefined;
  const input = file === undefined ? (props.config as EnvironmentConfigInput) : loadConfig(file, environmentName);
  const config = validateStackInput(environmentName, input);
  const baseDir = resolve(props.configBaseDir ?? (file === undefined ? process.cwd() : projectRootOf(file)));
  const problems = missingEntries(config, baseDir);
  if (problems.length > 0) throw new HookgateStackError(environmentName, problems);
  return { config, baseDir };
}

/** The project a config file belongs to: the nearest folder above it with a package.json, else its own folder. */
export function projectRootOf(file: string): string {
  for (let dir = dirname(resolve(file)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return dirname(resolve(file));
  }
}

/** A problem per `lambda` destination whose `entry` module does not exist. */
function missingEntries(config: EnvironmentConfig, baseDir: string): string[] {
  const problems: string[] = [];
  for (const [name, source] of Object.entries(config.sources)) {
    for (const [destName, destination] of Object.entries(source.destinations ?? {})) {
      if (destination.type !== 'lambda' || destination.entry === undefined) continue;
      const entry = resolve(baseDir, destination.entry);
      if (!existsSync(entry)) problems.push(`sources.${name}.destinations.${destName}.entry: ${entry} does not exist (relative entries resolve from ${baseDir})`);
    }
  }
  return problems;
}

/** The handlers module of each source: its own, else the default; an unknown source name is a problem. */
function processorEntriesOf(props: HookgateProps, sourceNames: readonly string[]): Map<string, string> {
  const perSource = props.processorEntries ?? {};
  const unknown = Object.keys(perSource).filter((name) => !sourceNames.includes(name));
  if (unknown.length > 0) {
    throw new HookgateStackError(props.environmentName, unknown.map((name) => `processorEntries.${name}: no source of that name in the config`));
  }
  const entries = new Map<string, string>();
  for (const name of sourceNames) {
    const entry = Object.prototype.hasOwnProperty.call(perSource, name) ? perSource[name] : props.processorEntry;
    if (entry !== undefined) entries.set(name, entry);
  }
  return entries;
}
