import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { EnvironmentConfigInput } from '../../lambda/config/schema';
import { newHookgateApp } from '../../lib/app';
import { bundlingPaths, commonFolder } from '../../lib/constructs/bundling';
import { GENERATED_ENTRIES } from '../../lib/constructs/handlers-entry';
import { lambdaEntry } from '../../lib/constructs/lambda-entry';
import { Hookgate, type HookgateProps, projectRootOf } from '../../lib/hookgate';
import { HookgateStack } from '../../lib/hookgate-stack';
import { HookgateStackError } from '../../lib/stack-props';
import { ROOT, resources, roleStatements } from '../stack/helpers';

/**
 * The Hookgate construct, built in this repository (the packed package is package.test.ts):
 * the reference stack keeps its logical ids, config from an object or a file, a team's
 * processor code, its VPC and its grants. Bundling is off: templates only.
 */

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookgate-construct-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG: EnvironmentConfigInput = {
  sources: {
    stripe: { provider: 'stripe', secretName: 'team/prod/stripe' },
    orders: { provider: 'token', secretName: 'team/prod/orders', header: 'x-webhook-token' },
  },
  alarms: { email: 'oncall@example.com' },
};

/** A team's stack holding one Hookgate. */
function teamStack(props: Partial<HookgateProps> = {}): { stack: Stack; webhooks: Hookgate } {
  const app = newHookgateApp({ outdir: mkdtempSync(join(dir, 'cdk.out-')), context: NO_BUNDLING });
  const stack = new Stack(app, 'team', { env: { account: '111111111111', region: 'us-east-1' } });
  const webhooks = new Hookgate(stack, 'Webhooks', { environmentName: 'prod', config: CONFIG, ...props });
  return { stack, webhooks };
}

/** The Lambda function of a construct, as the template holds it. */
function functionProps(stack: Stack, fn: { node: { defaultChild?: unknown } }): Record<string, unknown> {
  const id = stack.getLogicalId(fn.node.defaultChild as ec2.CfnVPC);
  return resources(Template.fromStack(stack), 'AWS::Lambda::Function')[id]?.Properties ?? {};
}

/** A team's project on disk: package.json, a config file and a handlers module. */
function project(entry: string): string {
  const root = join(dir, `project-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(root, 'deploy', 'config'), { recursive: true });
  mkdirSync(join(root, 'processors'));
  writeFileSync(join(root, 'package.json'), '{}');
  writeFileSync(join(root, 'processors', 'ehr.ts'), 'export const handlers = {};\n');
  const config = { ...CONFIG, sources: { stripe: { provider: 'stripe', secretName: 'team/prod/stripe', destinations: { ehr: { type: 'lambda', entry } } } } };
  writeFileSync(join(root, 'deploy', 'config', 'prod.json'), JSON.stringify(config));
  return root;
}

describe('HookgateStack, one Hookgate under the hidden id', () => {
  it('keeps the logical ids deployed stacks hold: nothing stateful is replaced', () => {
    const app = newHookgateApp({ context: NO_BUNDLING });
    const stack = new HookgateStack(app, 'hookgate-dev', { environmentName: 'dev', config: CONFIG });
    const ids = Object.keys(Template.fromStack(stack).toJSON().Resources as object);
    // The ids of the stack that built its resources itself, before the construct existed.
    expect(ids).toEqual(expect.arrayContaining(['Key9BCD29C7', 'DedupeTable49DB3553', 'PayloadsBucket1715615A', 'IngressApiFA053807', 'SourcestripeQueuesQueueB8AC5F94', 'SourcestripeQueuesDeadLetterQueue39082C55']));
    expect(stack.cells).toBe(stack.hookgate.cells);
  });

  it('builds the same resources as a Hookgate in a team\'s own stack', () => {
    const app = newHookgateApp({ context: NO_BUNDLING });
    const reference = Template.fromStack(new HookgateStack(app, 'hookgate-prod', { environmentName: 'prod', config: CONFIG }));
    const { stack } = teamStack();
    const count = (template: Template): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const r of Object.values(template.toJSON().Resources as Record<string, { Type: string }>)) out[r.Type] = (out[r.Type] ?? 0) + 1;
      return out;
    };
    expect(count(Template.fromStack(stack))).toEqual(count(reference));
  });
});

describe('config as an object or a file', () => {
  it('reads a config file and resolves a lambda destination\'s entry from the file\'s project, keeping it as written', () => {
    const root = project('processors/ehr.ts');
    const { webhooks } = teamStack({ config: join(root, 'deploy', 'config', 'prod.json') });
    expect(webhooks.configBaseDir).toBe(root);
    expect(webhooks.resolveEntry('processors/ehr.ts')).toBe(join(root, 'processors', 'ehr.ts'));
    const destination = webhooks.config.sources.stripe?.destinations?.ehr;
    expect(destination).toMatchObject({ type: 'lambda', entry: 'processors/ehr.ts' });
  });

  it('refuses a lambda destination whose entry does not exist, naming the field and where it looked', () => {
    const root = project('processors/missing.ts');
    expect(() => teamStack({ config: join(root, 'deploy', 'config', 'prod.json') })).toThrow(HookgateStackError);
    expect(() => teamStack({ config: join(root, 'deploy', 'config', 'prod.json') })).toThrow(`sources.stripe.destinations.ehr.entry: ${join(root, 'processors', 'missing.ts')} does not exist (relative entries resolve from ${root})`);
  });

  it('resolves an object config\'s paths from configBaseDir, else the working directory', () => {
    expect(teamStack().webhooks.configBaseDir).toBe(process.cwd());
    expect(teamStack({ configBaseDir: dir }).webhooks.configBaseDir).toBe(dir);
  });

  it('validates the config as a deployed stack does: every problem at once', () => {
    const config = { sources: { stripe: { provider: 'stripe' } } } as EnvironmentConfigInput;
    expect(() => teamStack({ config })).toThrow(/sources\.stripe\.secretName is required[\s\S]*alarms\.email is required/);
  });

  it('finds a config file\'s project by its package.json', () => {
    const root = project('processors/ehr.ts');
    expect(projectRootOf(join(root, 'deploy', 'config', 'prod.json'))).toBe(root);
  });
});

describe('the team\'s processor code', () => {
  it('bundles a handlers module through one generated entry, written in the cloud assembly folder', () => {
    const root = project('processors/ehr.ts');
    const { stack } = teamStack({ processorEntries: { orders: join(root, 'processors', 'ehr.ts') } });
    const folder = join(stack.node.root instanceof Stage ? stack.node.root.outdir : '', GENERATED_ENTRIES);
    const files = readdirSync(folder);
    expect(files).toHaveLength(1);
    // The team's table handed to hookgate's processor factory, both by absolute path.
    const generated = readFileSync(join(folder, files[0] ?? ''), 'utf8');
    expect(generated).toContain(`import { createProcessorEntry } from ${JSON.stringify(lambdaEntry('processor', 'entry'))};`);
    expect(generated).toContain(`import { handlers } from ${JSON.stringify(join(root, 'processors', 'ehr.ts'))};`);
    expect(generated).toContain('export const handler = createProcessorEntry({ handlers });');
  });

  it('refuses processor code for a source the config does not have', () => {
    expect(() => teamStack({ processorEntries: { billing: 'processors/billing.ts' } })).toThrow('processorEntries.billing: no source of that name in the config');
  });

  it('refuses a handlers module that does not exist', () => {
    expect(() => teamStack({ processorEntry: join(dir, 'nowhere.ts') })).toThrow(`handlers module ${join(dir, 'nowhere.ts')} does not exist`);
  });
});

describe('the team\'s VPC and grants', () => {
  it('runs every function in a given VPC\'s subnets with a security group allowing HTTPS out only', () => {
    const app = newHookgateApp({ context: NO_BUNDLING });
    const stack = new Stack(app, 'team', { env: { account: '111111111111', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'TeamVpc', { maxAzs: 2, subnetConfiguration: [{ name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, { name: 'edge', subnetType: ec2.SubnetType.PUBLIC }] });
    const webhooks = new Hookgate(stack, 'Webhooks', { environmentName: 'prod', config: { ...CONFIG, vpc: true }, vpc });
    const template = Template.fromStack(stack);

    expect(webhooks.network).toBeUndefined();
    expect(webhooks.vpc).toBe(vpc);
    expect(Object.keys(resources(template, 'AWS::EC2::VPC'))).toHaveLength(1);
    const appSubnets = vpc.privateSubnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as ec2.CfnSubnet) }));
    const group = { 'Fn::GetAtt': [stack.getLogicalId(webhooks.node.findChild('FunctionSecurityGroup').node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] };
    for (const cell of webhooks.cells) {
      for (const fn of [cell.verifier, cell.processor]) {
        expect(functionProps(stack, fn.function).VpcConfig).toEqual({ SubnetIds: appSubnets, SecurityGroupIds: [group] });
      }
    }
    const egress = Object.values(resources(template, 'AWS::EC2::SecurityGroup')).find((g) => g.Properties?.GroupDescription === 'hookgate functions: outbound HTTPS only')?.Properties?.SecurityGroupEgress;
    expect(egress).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' })]);
  });

  it('grantProcessors gives each processor its own copy of the statements, and no verifier', () => {
    const { stack, webhooks } = teamStack();
    webhooks.grantProcessors(new iam.PolicyStatement({ sid: 'TeamTable', actions: ['dynamodb:PutItem'], resources: ['arn:aws:dynamodb:us-east-1:111111111111:table/appointments'] }));
    const template = Template.fromStack(stack);
    for (const cell of webhooks.cells) {
      const sids = (role: iam.IRole): (string | undefined)[] => roleStatements(template, stack.getLogicalId(role.node.defaultChild as iam.CfnRole)).map((s) => s.Sid);
      expect(sids(cell.processor.role)).toContain('TeamTable');
      expect(sids(cell.verifier.role)).not.toContain('TeamTable');
    }
  });
});

describe('bundling from wherever hookgate is installed', () => {
  it('keeps NodejsFunction\'s project for an entry inside it', () => {
    expect(bundlingPaths(lambdaEntry('verifier', 'index'))).toEqual({ depsLockFilePath: join(ROOT, 'package-lock.json'), projectRoot: ROOT });
  });

  it('widens the project to hold an entry outside it (a folder install, a generated entry in a cloud assembly elsewhere)', () => {
    expect(bundlingPaths(join(dir, 'cdk.out', 'entry.js')).projectRoot).toBe(commonFolder([ROOT, dir]));
  });

  it('finds the deepest folder holding every path', () => {
    expect(commonFolder(['/a/b/c/d.js', '/a/b/e'])).toBe('/a/b');
    expect(commonFolder(['/a/b', '/a/b/c'])).toBe('/a/b');
    expect(commonFolder(['/a/b', '/x/y'])).toBe('/');
  });
});
