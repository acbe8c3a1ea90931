/**
 * What the cost model needs to know about the stack, read from the synthesized template of the
 * reference environment (config/prod.json) rather than copied by hand, so the model follows
 * lib/: another memory size, alarm, WAF rule, endpoint, retention or log setting changes the
 * model's figures. Synthesized in-process without bundling (the functions' code is not a fact
 * the model needs), which takes a few seconds.
 */
import { join } from 'node:path';
import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { loadConfig } from '../lib/config-file';
import { METRICS } from '../lambda/runtime/telemetry';
import { newHookgateApp, stackName } from '../lib/app';
import { HookgateStack } from '../lib/hookgate-stack';

/** The environment whose template the model reads: its config is the fullest shipped one. */
export const REFERENCE_ENVIRONMENT = 'prod';
/** The source bench/e2e loads: the per-source facts are this source's. */
export const MEASURED_SOURCE = 'github';

/** An X-Ray sampling rule: a reservoir of requests per second, then a share of the rest. */
export interface Sampling {
  readonly reservoirPerSecond: number;
  readonly rate: number;
}

export interface StackFacts {
  /** Where the facts come from, e.g. `config/prod.json, source github`. */
  readonly from: string;
  readonly sources: number;
  readonly verifierMemoryMb: number;
  readonly processorMemoryMb: number;
  /** `arm64` or `x86_64`: Lambda's price per GB-second differs. */
  readonly architecture: string;
  /** Lambda's START/END/REPORT lines reach the logs (text format, or JSON at INFO or DEBUG). */
  readonly platformLogLines: boolean;
  /** Longest retention of the log groups an event writes to (verifier, processor, access log). */
  readonly logRetentionDays: number;
  /** The API stage writes one access log line per request. */
  readonly accessLog: boolean;
  /** The API stage's execution log level: `OFF`, `ERROR` or `INFO`. */
  readonly executionLogLevel: string;
  /** WAF logging writes allowed requests (no logging, or a filter that drops them: false). */
  readonly wafLogsAllowed: boolean;
  /** The API stage is traced by X-Ray. */
  readonly tracing: boolean;
  /** The stage's own sampling rule; undefined: X-Ray's default rule applies. */
  readonly sampling: Sampling | undefined;
  /** Alarms every source has (the reference source's, without its optional silence alarm). */
  readonly alarmsPerSource: number;
  /** Optional source alarms: a silence alarm per source with expectEventEvery. */
  readonly optionalSourceAlarms: number;
  /** Alarms outside the source cells (API and WAF). */
  readonly edgeAlarms: number;
  readonly wafRules: readonly string[];
  readonly dashboards: number;
  readonly kmsKeys: number;
  readonly interfaceEndpoints: number;
  /** Availability zones (subnets) of each interface endpoint. */
  readonly endpointAzs: number;
  /** EMF metric names the functions emit per source (lambda/runtime/telemetry.ts). */
  readonly metricsPerSource: number;
  /** What sets the archive's cost. */
  readonly archive: ArchiveFacts;
}

/** The archive as the template has it: the batches its writers get, its retention, its encryption. */
export interface ArchiveFacts {
  /** Records per invocation of the measured source's processor (a source without destinations: it runs handlers), from its event source mapping. */
  readonly processorBatch: number;
  /** That mapping's batching window, seconds (0: none). */
  readonly processorWindowSeconds: number;
  /** That mapping's most concurrent invocations: the pollers a batch is spread over. */
  readonly processorConcurrency: number;
  /** Records per invocation of a fan-out (a source with destinations): the config's archive.batchSize. */
  readonly fanOutBatch: number;
  /** Its batching window, seconds (archive.batchWindowSeconds). */
  readonly fanOutWindowSeconds: number;
  /** Days until the bucket's lifecycle expires an archived object. */
  readonly days: number;
  /** SSE-KMS through an S3 bucket key (S3 calls KMS per bucket key, not per object). */
  readonly bucketKey: boolean;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** The reference stack, built in-process with the app's feature flags, without bundling; not yet synthesized. */
export function buildReferenceStack(environment: string = REFERENCE_ENVIRONMENT): HookgateStack {
  const app = newHookgateApp({ context: { [BUNDLING_STACKS]: [] } });
  const config = loadConfig(join(__dirname, '..', 'config', `${environment}.json`), environment);
  return new HookgateStack(app, stackName(environment), { environmentName: environment, config });
}

/** The facts of the reference stack: synthesizes it. */
export function stackFacts(environment: string = REFERENCE_ENVIRONMENT): StackFacts {
  const stack = buildReferenceStack(environment);
  return readStackFacts(stack, Template.fromStack(stack), `config/${environment}.json`);
}

// The template is JSON: each value is checked before use, so a changed shape fails loudly
// instead of feeding the model a wrong figure.
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
function num(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new Error(`stack facts: ${what} is not a number in the template`);
  return v;
}
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const prop = (r: CfnResource | undefined, ...path: string[]): unknown => path.reduce<unknown>((v, key) => (isRecord(v) ? v[key] : undefined), r?.Properties);

/** Reads the facts off a synthesized HookgateStack; `from` names the config in the cost doc. */
export function readStackFacts(stack: HookgateStack, template: Template, from: string, sourceName: string = MEASURED_SOURCE): StackFacts {
  const json: unknown = template.toJSON();
  const all: Record<string, CfnResource> = {};
  for (const [id, r] of Object.entries(isRecord(json) && isRecord(json.Resources) ? json.Resources : {})) {
    if (isRecord(r) && typeof r.Type === 'string') all[id] = { Type: r.Type, ...(isRecord(r.Properties) ? { Properties: r.Properties } : {}) };
  }
  const ofType = (type: string): [string, CfnResource][] => Object.entries(all).filter(([, r]) => r.Type === type);
  const idOf = (construct: IConstruct | undefined): string | undefined => (CfnElement.isCfnElement(construct) ? stack.getLogicalId(construct) : undefined);
  // `{ Ref: id }` or `{ 'Fn::GetAtt': [id, attribute] }`: the resource it points at.
  const targetOf = (v: unknown): string | undefined => {
    if (!isRecord(v)) return undefined;
    const target = typeof v.Ref === 'string' ? v.Ref : list(v['Fn::GetAtt'])[0];
    return typeof target === 'string' ? target : undefined;
  };

  const cell = stack.cells.find((c) => c.sourceName === sourceName);
  if (cell === undefined) throw new Error(`stack facts: ${from} has no source ${sourceName}`);
  const verifier = all[idOf(cell.verifier.function.node.defaultChild) ?? ''];
  const processor = all[idOf(cell.processor.function.node.defaultChild) ?? ''];
  if (verifier === undefined || processor === undefined) throw new Error(`stack facts: the functions of ${sourceName} are not in the template`);

  const logFormat = prop(verifier, 'LoggingConfig', 'LogFormat');
  const systemLevel = prop(verifier, 'LoggingConfig', 'SystemLogLevel');
  const platformLogLines = !(logFormat === 'JSON' && (systemLevel === 'WARN' || systemLevel === 'ERROR'));

  const stages = ofType('AWS::ApiGateway::Stage');
  if (stages.length !== 1) throw new Error(`stack facts: expected one API stage, found ${stages.length}`);
  const stage = stages[0]?.[1];
  const everyMethod = list(prop(stage, 'MethodSettings')).find((m) => isRecord(m) && m.HttpMethod === '*' && m.ResourcePath === '/*');
  const executionLogLevel = isRecord(everyMethod) && typeof everyMethod.LoggingLevel === 'string' ? everyMethod.LoggingLevel : 'OFF';
  // The functions' groups must be the stack's (Lambda's default group is kept forever); the access log is optional.
  const accessLogGroup = targetOf(prop(stage, 'AccessLogSetting', 'DestinationArn'));
  const eventLogGroups = [targetOf(prop(verifier, 'LoggingConfig', 'LogGroup')), targetOf(prop(processor, 'LoggingConfig', 'LogGroup')), ...(accessLogGroup === undefined ? [] : [accessLogGroup])];
  const retention = eventLogGroups.map((id) => {
    const days = prop(all[id ?? ''], 'RetentionInDays');
    // No retention: kept forever, which no per-event figure can price.
    if (days === undefined) throw new Error(`stack facts: log group ${id ?? '(unnamed)'} has no retention`);
    return num(days, `RetentionInDays of ${id ?? ''}`);
  });

  const wafLogging = ofType('AWS::WAFv2::LoggingConfiguration')[0]?.[1];
  const filter = prop(wafLogging, 'LoggingFilter');
  const keepsAllowed =
    !isRecord(filter) ||
    (filter.DefaultBehavior === 'KEEP' && !list(filter.Filters).some((f) => isRecord(f) && f.Behavior === 'DROP')) ||
    list(filter.Filters).some((f) => isRecord(f) && f.Behavior === 'KEEP' && list(f.Conditions).some((c) => isRecord(c) && isRecord(c.ActionCondition) && c.ActionCondition.Action === 'ALLOW'));

  const rule = ofType('AWS::XRay::SamplingRule')
    .map(([, r]) => prop(r, 'SamplingRule'))
    .find((r) => isRecord(r) && r.ServiceType === 'AWS::ApiGateway::Stage');
  const sampling = isRecord(rule) ? { reservoirPerSecond: num(rule.ReservoirSize, 'ReservoirSize'), rate: num(rule.FixedRate, 'FixedRate') } : undefined;

  const alarmIds = new Set(ofType('AWS::CloudWatch::Alarm').map(([id]) => id));
  const alarmsOf = (scope: IConstruct): number => scope.node.findAll().filter((c) => alarmIds.has(idOf(c) ?? '')).length;
  const inCells = stack.cells.reduce((sum, c) => sum + alarmsOf(c), 0);

  const webAcls = ofType('AWS::WAFv2::WebACL');
  const wafRules = list(prop(webAcls[0]?.[1], 'Rules')).map((r) => (isRecord(r) && typeof r.Name === 'string' ? r.Name : '?'));
  const interfaces = ofType('AWS::EC2::VPCEndpoint').filter(([, r]) => prop(r, 'VpcEndpointType') === 'Interface');

  const nonMetricKeys: ReadonlySet<string> = new Set(['namespacePrefix', 'service', 'sourceDimension']);
  const processorId = idOf(cell.processor.function.node.defaultChild);
  const mapping = ofType('AWS::Lambda::EventSourceMapping').find(([, r]) => targetOf(prop(r, 'FunctionName')) === processorId)?.[1];
  if (mapping === undefined) throw new Error(`stack facts: the processor of ${sourceName} has no event source mapping`);
  const bucket = all[idOf(stack.hookgate.archive.bucket.node.defaultChild) ?? ''];
  const expirations = list(prop(bucket, 'LifecycleConfiguration', 'Rules')).map((r) => (isRecord(r) ? r.ExpirationInDays : undefined)).filter((d) => d !== undefined);
  if (expirations.length !== 1) throw new Error(`stack facts: the archive bucket has ${expirations.length} expiration rules, not one`);
  const archiveConfig = stack.hookgate.config.archive;
  return {
    from: `${from}, source ${sourceName}`,
    sources: stack.cells.length,
    verifierMemoryMb: num(prop(verifier, 'MemorySize'), 'the verifier MemorySize'),
    processorMemoryMb: num(prop(processor, 'MemorySize'), 'the processor MemorySize'),
    architecture: String(list(prop(verifier, 'Architectures'))[0] ?? 'x86_64'),
    platformLogLines,
    logRetentionDays: Math.max(...retention),
    accessLog: prop(stage, 'AccessLogSetting') !== undefined,
    executionLogLevel,
    wafLogsAllowed: wafLogging !== undefined && keepsAllowed,
    tracing: prop(stage, 'TracingEnabled') === true,
    sampling,
    alarmsPerSource: alarmsOf(cell) - (cell.alarms.silence === undefined ? 0 : 1),
    optionalSourceAlarms: stack.cells.filter((c) => c.alarms.silence !== undefined).length,
    edgeAlarms: alarmIds.size - inCells,
    wafRules,
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    kmsKeys: ofType('AWS::KMS::Key').length,
    interfaceEndpoints: interfaces.length,
    endpointAzs: Math.max(0, ...interfaces.map(([, r]) => list(prop(r, 'SubnetIds')).length)),
    metricsPerSource: Object.keys(METRICS).filter((k) => !nonMetricKeys.has(k)).length,
    archive: {
      processorBatch: num(prop(mapping, 'BatchSize'), 'the processor mapping BatchSize'),
      processorWindowSeconds: num(prop(mapping, 'MaximumBatchingWindowInSeconds') ?? 0, 'the processor mapping MaximumBatchingWindowInSeconds'),
      processorConcurrency: num(prop(mapping, 'ScalingConfig', 'MaximumConcurrency'), 'the processor mapping MaximumConcurrency'),
      fanOutBatch: archiveConfig.batchSize,
      fanOutWindowSeconds: archiveConfig.batchWindowSeconds,
      days: num(expirations[0], 'the archive ExpirationInDays'),
      bucketKey: list(prop(bucket, 'BucketEncryption', 'ServerSideEncryptionConfiguration')).some((c) => isRecord(c) && c.BucketKeyEnabled === true),
    },
  };
}

