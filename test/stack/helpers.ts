import { join } from 'node:path';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { EnvironmentConfig, EnvironmentConfigInput } from '../../lambda/config/schema';
import { loadConfig } from '../../lib/config-file';
import { addCompliancePacks, addHookgateStacks, newHookgateApp } from '../../lib/app';
import { HookgateStack } from '../../lib/hookgate-stack';

export const ROOT = join(__dirname, '..', '..');
export const CONFIG_DIR = join(ROOT, 'config');

/** A CloudFormation resource as found in a template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly DependsOn?: string[];
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Sid?: string;
  readonly Condition?: unknown;
}

/** The shipped config of an environment. */
export function shippedConfig(env: string): EnvironmentConfig {
  return loadConfig(join(CONFIG_DIR, `${env}.json`), env);
}

/** Synthesis options of the helpers below. */
export interface SynthOptions {
  /**
   * Bundle the functions with esbuild (slow). Template assertions on IAM, WAF and alarms do not
   * need the code; CDK then stages a placeholder asset.
   * @default true
   */
  readonly bundle?: boolean;
}

/** App context that turns bundling off for every stack. */
function appContext(options: SynthOptions): Record<string, unknown> {
  return options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {};
}

/** Synthesizes the shipped dev and prod stacks in one app, with the compliance packs on. */
export function synthShipped(options: SynthOptions = {}): { stacks: Record<string, HookgateStack>; templates: Record<string, Template> } {
  const app = newHookgateApp({ context: appContext(options) });
  const built = addHookgateStacks(app, { configDir: CONFIG_DIR });
  addCompliancePacks(app);
  const stacks = Object.fromEntries(built.map((s) => [s.node.id.replace(/^hookgate-/, ''), s]));
  const templates = Object.fromEntries(Object.entries(stacks).map(([env, s]) => [env, Template.fromStack(s)]));
  return { stacks, templates };
}

/** Builds a stack from an in-memory config (same app settings, no compliance packs). */
export function synthConfig(environmentName: string, config: EnvironmentConfigInput, options: SynthOptions = {}): { stack: HookgateStack; template: Template } {
  const app = newHookgateApp({ context: appContext(options) });
  const stack = new HookgateStack(app, `hookgate-${environmentName}`, { environmentName, config });
  return { stack, template: Template.fromStack(stack) };
}

export function resources(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

export function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Every statement of every identity policy (AWS::IAM::Policy, ManagedPolicy, Role inline). */
export function identityStatements(template: Template): { policy: string; roles: string[]; statement: Statement }[] {
  const out: { policy: string; roles: string[]; statement: Statement }[] = [];
  for (const [id, r] of Object.entries({ ...resources(template, 'AWS::IAM::Policy'), ...resources(template, 'AWS::IAM::ManagedPolicy') })) {
    const doc = r.Properties?.PolicyDocument as { Statement: Statement[] };
    const roles = asArray(r.Properties?.Roles as unknown[]).map((ref) => (ref as { Ref: string }).Ref);
    for (const statement of doc.Statement) out.push({ policy: id, roles, statement });
  }
  for (const [id, r] of Object.entries(resources(template, 'AWS::IAM::Role'))) {
    for (const p of asArray(r.Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[])) {
      for (const statement of p.PolicyDocument.Statement) out.push({ policy: id, roles: [id], statement });
    }
  }
  return out;
}

/** The logical id CloudFormation gives a construct's default resource. */
export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** Statements of one role's policies (by the role's logical id). */
export function roleStatements(template: Template, roleId: string): Statement[] {
  return identityStatements(template)
    .filter(({ roles }) => roles.includes(roleId))
    .map(({ statement }) => statement);
}

/** True when an IAM `StringLike` pattern (`*` any run, `?` one character) matches the value. */
export function iamLike(pattern: string, value: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 's').test(value);
}
