/**
 * What the destinations cost model needs to know about the stack, read from a synthesized
 * template. The reference environment (config/prod.json) has no destinations, so this
 * synthesizes a variant of it: the measured source with `http` destinations to an internet
 * host, and `network.egress: nat` (prod runs in a VPC, where an internet destination needs
 * NAT). Another memory size, alarm, retention or network resource in lib/ changes the figures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { newHookgateApp, stackName } from '../lib/app';
import { parseConfig } from '../lib/config-file';
import { HookgateStack } from '../lib/hookgate-stack';
import { MEASURED_SOURCE, REFERENCE_ENVIRONMENT } from './stack-facts';

/** The facts of one `http` destination of the variant. */
export interface DestinationFacts {
  /** Where they come from, e.g. `config/prod.json + 3 http destinations on github, network.egress nat`. */
  readonly from: string;
  readonly memoryMb: number;
  /** `arm64` or `x86_64`. */
  readonly architecture: string;
  /** Lambda's START/END/REPORT lines reach the delivery function's log group. */
  readonly platformLogLines: boolean;
  /** The delivery function logs INFO lines (a line per delivered attempt); false when POWERTOOLS_LOG_LEVEL keeps only warnings and errors. */
  readonly infoLogLines: boolean;
  readonly logRetentionDays: number;
  /** Alarms of one `http` destination. */
  readonly alarms: number;
  /** Messages per delivery invocation and the event source mapping's maxConcurrency (defaults). */
  readonly batchSize: number;
  readonly maxInFlight: number;
  /** Secrets Manager secrets per `http` destination (its signing secret, referenced by name). */
  readonly secrets: number;
  /** NAT gateways the variant adds to the reference stack (0 without a VPC). */
  readonly natGateways: number;
  /** Interface endpoints the variant adds to the reference stack. */
  readonly extraInterfaceEndpoints: number;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The reference config with `count` http destinations on the measured source (raw JSON, before parsing). */
export function withDestinations(raw: Record<string, unknown>, count: number, sourceName: string = MEASURED_SOURCE): Record<string, unknown> {
  const sources = isRecord(raw.sources) ? raw.sources : {};
  const source = sources[sourceName];
  if (!isRecord(source)) throw new Error(`destination facts: the reference config has no source ${sourceName}`);
  const destinations = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`dest${i + 1}`, { type: 'http', url: `https://receiver${i + 1}.example.com/hooks`, secretName: `hookgate/bench/dest${i + 1}` }]),
  );
  const network = raw.vpc === true ? { network: { ...(isRecord(raw.network) ? raw.network : {}), egress: 'nat' } } : {};
  return { ...raw, ...network, sources: { ...sources, [sourceName]: { ...source, destinations } } };
}

/** The resources of a synthesized template, by logical id. */
export function resourcesOf(template: Template): Record<string, CfnResource> {
  const json: unknown = template.toJSON();
  const out: Record<string, CfnResource> = {};
  for (const [id, r] of Object.entries(isRecord(json) && isRecord(json.Resources) ? json.Resources : {})) {
    if (isRecord(r) && typeof r.Type === 'string') out[id] = { Type: r.Type, ...(isRecord(r.Properties) ? { Properties: r.Properties } : {}) };
  }
  return out;
}

/** The variant of the reference stack, built without bundling and not yet synthesized; `natAdded`: the variant turned NAT on. */
export function buildVariant(destinations = 1, environment: string = REFERENCE_ENVIRONMENT): { readonly stack: HookgateStack; readonly natAdded: boolean; readonly from: string } {
  const raw = JSON.parse(readFileSync(join(__dirname, '..', 'config', `${environment}.json`), 'utf8')) as Record<string, unknown>;
  const app = newHookgateApp({ context: { [BUNDLING_STACKS]: [] } });
  const stack = new HookgateStack(app, stackName(environment), { environmentName: environment, config: parseConfig(withDestinations(raw, destinations), environment) });
  // The variant turns NAT on only where the reference ran without egress: then its gateways are the destinations'.
  const natAdded = raw.vpc === true && !(isRecord(raw.network) && raw.network.egress === 'nat');
  return { stack, natAdded, from: `config/${environment}.json + ${destinations} http destination(s) on ${MEASURED_SOURCE}${natAdded ? ', network.egress nat' : ''}` };
}

const count = (all: Record<string, CfnResource>, test: (r: CfnResource) => boolean): number => Object.values(all).filter(test).length;
const isInterfaceEndpoint = (r: CfnResource): boolean => r.Type === 'AWS::EC2::VPCEndpoint' && r.Properties?.VpcEndpointType === 'Interface';

/**
 * Synthesizes the variant of the reference stack with `http` destinations and reads the first
 * destination's facts. `referenceInterfaceEndpoints`: the reference stack's count (StackFacts),
 * so the reference is not synthesized twice.
 */
export function destinationFacts(referenceInterfaceEndpoints: number, environment: string = REFERENCE_ENVIRONMENT, destinations = 1): DestinationFacts {
  const { stack, natAdded, from } = buildVariant(destinations, environment);
  return readDestinationFacts(stack, resourcesOf(Template.fromStack(stack)), { interfaceEndpoints: referenceInterfaceEndpoints, natGateways: natAdded ? 0 : undefined }, from);
}

/** Reads the facts of the first destination of `sourceName` off a synthesized variant, against the reference's resources. */
export function readDestinationFacts(
  stack: HookgateStack,
  all: Readonly<Record<string, CfnResource>>,
  /** The reference stack's interface endpoints, and NAT gateways (undefined: all of the variant's are the reference's). */
  reference: { readonly interfaceEndpoints: number; readonly natGateways: number | undefined },
  from: string,
  sourceName: string = MEASURED_SOURCE,
): DestinationFacts {
  const idOf = (construct: IConstruct | undefined): string => (CfnElement.isCfnElement(construct) ? stack.getLogicalId(construct) : '');
  const cell = stack.cells.find((c) => c.sourceName === sourceName)?.destinations[0];
  if (cell === undefined) throw new Error(`destination facts: ${from} has no destination on ${sourceName}`);
  const fn = all[idOf(cell.delivery.function.node.defaultChild)];
  const props = fn?.Properties ?? {};
  const logging = isRecord(props.LoggingConfig) ? props.LoggingConfig : {};
  const group = isRecord(logging.LogGroup) ? logging.LogGroup : {};
  const groupId = typeof group.Ref === 'string' ? group.Ref : (Array.isArray(group['Fn::GetAtt']) ? String(group['Fn::GetAtt'][0]) : '');
  const retention = all[groupId]?.Properties?.RetentionInDays;
  if (typeof props.MemorySize !== 'number') throw new Error('destination facts: the delivery function has no MemorySize in the template');
  if (typeof retention !== 'number') throw new Error('destination facts: the delivery function log group has no retention');
  const architectures = Array.isArray(props.Architectures) ? props.Architectures : [];
  return {
    from,
    memoryMb: props.MemorySize,
    architecture: String(architectures[0] ?? 'x86_64'),
    platformLogLines: !(logging.LogFormat === 'JSON' && (logging.SystemLogLevel === 'WARN' || logging.SystemLogLevel === 'ERROR')),
    logRetentionDays: retention,
    infoLogLines: !['WARN', 'ERROR', 'CRITICAL', 'SILENT'].includes(String(variablesOf(props).POWERTOOLS_LOG_LEVEL ?? 'INFO').toUpperCase()),
    alarms: cell.node.findAll().filter((c) => all[idOf(c)]?.Type === 'AWS::CloudWatch::Alarm').length,
    batchSize: cell.destination.batchSize,
    maxInFlight: cell.destination.maxInFlight,
    secrets: cell.signingSecret === undefined ? 0 : 1,
    natGateways: reference.natGateways === undefined ? 0 : count(all, (r) => r.Type === 'AWS::EC2::NatGateway') - reference.natGateways,
    extraInterfaceEndpoints: count(all, isInterfaceEndpoint) - reference.interfaceEndpoints,
  };
}

/** A function's environment variables as the template gives them. */
function variablesOf(props: Record<string, unknown>): Record<string, unknown> {
  const environment = isRecord(props.Environment) ? props.Environment : {};
  return isRecord(environment.Variables) ? environment.Variables : {};
}
