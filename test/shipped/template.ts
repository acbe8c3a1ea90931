import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The synthesized template read as data: what CloudFormation would create, with its intrinsic
 * functions resolved against the resources the suite created in moto.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface CfnResource {
  readonly Type: string;
  readonly Properties: JsonObject;
  readonly Metadata: JsonObject;
}

export interface Synthesized {
  readonly stackName: string;
  /** The cloud assembly folder (`cdk.out`-like): templates and `asset.<hash>/` folders. */
  readonly outdir: string;
  readonly resources: Readonly<Record<string, CfnResource>>;
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: Json | undefined, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what}: expected an object`);
  return value;
}

export function asString(value: Json | undefined, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

export function asArray(value: Json | undefined): Json[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** Logical ids of the resources of one type. */
export function ofType(synth: Synthesized, type: string): string[] {
  return Object.entries(synth.resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id)
    .sort();
}

/** What CloudFormation would give for `Ref` and `Fn::GetAtt` of a resource. */
export interface Physical {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** A value that names a resource the suite did not create (a log group, the API...). */
export const UNRESOLVED = 'unresolved:';

/**
 * Resolves CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split) with pseudo parameters and the physical ids of created resources. A reference to a
 * resource that was not created resolves to `unresolved:<id>[.<attribute>]`, which matches no ARN.
 */
export class Resolver {
  private readonly physical = new Map<string, Physical>();

  constructor(
    private readonly pseudo: { readonly partition: string; readonly region: string; readonly account: string; readonly stackName: string },
  ) {}

  set(logicalId: string, physical: Physical): void {
    this.physical.set(logicalId, physical);
  }

  get(logicalId: string): Physical | undefined {
    return this.physical.get(logicalId);
  }

  private ref(name: string): string {
    switch (name) {
      case 'AWS::Partition':
        return this.pseudo.partition;
      case 'AWS::Region':
        return this.pseudo.region;
      case 'AWS::AccountId':
        return this.pseudo.account;
      case 'AWS::StackName':
        return this.pseudo.stackName;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      default:
        return this.physical.get(name)?.ref ?? `${UNRESOLVED}${name}`;
    }
  }

  private getAtt(id: string, attribute: string): string {
    return this.physical.get(id)?.attributes[attribute] ?? `${UNRESOLVED}${id}.${attribute}`;
  }

  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [fn] = keys as [string];
      const arg = value[fn] as Json;
      switch (fn) {
        case 'Ref':
          return this.ref(asString(arg, 'Ref'));
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg) ? arg : asString(arg, 'Fn::GetAtt').split('.');
          return this.getAtt(asString(id, 'Fn::GetAtt id'), asString(attribute, 'Fn::GetAtt attribute'));
        }
        case 'Fn::Join': {
          const [sep, parts] = Array.isArray(arg) ? arg : [];
          return asArray(parts)
            .map((p) => asString(this.resolve(p), 'Fn::Join part'))
            .join(asString(sep, 'Fn::Join separator'));
        }
        case 'Fn::Select': {
          const [index, list] = Array.isArray(arg) ? arg : [];
          const items = asArray(this.resolve(list ?? null));
          return items[Number(index)] ?? null;
        }
        case 'Fn::Split': {
          const [sep, text] = Array.isArray(arg) ? arg : [];
          return asString(this.resolve(text ?? null), 'Fn::Split').split(asString(sep, 'Fn::Split separator'));
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
          const bound = isObject(vars ?? null) ? (vars as JsonObject) : {};
          return asString(text, 'Fn::Sub').replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
            const own = bound[name];
            if (own !== undefined) return asString(this.resolve(own), `Fn::Sub ${name}`);
            const dot = name.indexOf('.');
            return dot > 0 && !name.startsWith('AWS::') ? this.getAtt(name.slice(0, dot), name.slice(dot + 1)) : this.ref(name);
          });
        }
        default:
          break;
      }
    }
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.resolve(v);
    return out;
  }

  resolveString(value: Json | undefined, what: string): string {
    return asString(this.resolve(value ?? null), what);
  }
}

/** One Lambda function of the template, as the Lambda service would run it. */
export interface ShippedFunction {
  readonly logicalId: string;
  /** `index.handler`: module `index`, export `handler`. */
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** Environment variables as the template writes them (intrinsics unresolved). */
  readonly environment: Readonly<Record<string, Json>>;
  readonly roleLogicalId: string;
  /** The bundle folder: the asset named by `aws:asset:path`. */
  readonly codeDir: string;
}

/** Every AWS::Lambda::Function of the template with its code asset. */
export function shippedFunctions(synth: Synthesized): ShippedFunction[] {
  return ofType(synth, 'AWS::Lambda::Function').map((logicalId) => {
    const r = synth.resources[logicalId] as CfnResource;
    const p = r.Properties;
    const assetPath = asString(r.Metadata['aws:asset:path'], `${logicalId} aws:asset:path`);
    const codeDir = join(synth.outdir, assetPath);
    if (!existsSync(codeDir)) throw new Error(`${logicalId}: asset ${assetPath} is not in ${synth.outdir}`);
    const role = asObject(p.Role, `${logicalId}.Role`);
    const [roleLogicalId] = asArray(role['Fn::GetAtt']);
    const variables = isObject(p.Environment) && isObject(p.Environment.Variables) ? p.Environment.Variables : {};
    return {
      logicalId,
      handler: asString(p.Handler, `${logicalId}.Handler`),
      runtime: asString(p.Runtime, `${logicalId}.Runtime`),
      timeoutSeconds: typeof p.Timeout === 'number' ? p.Timeout : 3,
      memorySize: typeof p.MemorySize === 'number' ? p.MemorySize : 128,
      environment: variables,
      roleLogicalId: asString(roleLogicalId, `${logicalId}.Role`),
      codeDir,
    };
  });
}

/** The id a `Ref` or `Fn::GetAtt` points at, if the value is one. */
export function referencedId(value: Json | undefined): string | undefined {
  if (!isObject(value)) return undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const att = value['Fn::GetAtt'];
  if (Array.isArray(att) && typeof att[0] === 'string') return att[0];
  return undefined;
}
