import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import type { EnvironmentConfigInput } from '../../lambda/config/schema';
import { CONTEXT_PURPOSE, PURPOSE } from '../../lambda/ingest/envelope';
import { newHookgateApp } from '../../lib/app';
import { HookgateStack } from '../../lib/hookgate-stack';
import { RESOURCES_OUTPUT, SOURCE_OUTPUT_PREFIX } from '../../lib/stack-outputs';
import { asArray, logicalId, resources, type Statement } from './helpers';

// The hookgate command's side of the stack: the audit log group, the viewer and operator
// policies, and the outputs the command discovers the stack from. Template assertions only.

const CONFIG: EnvironmentConfigInput = {
  sources: {
    stripe: {
      provider: 'stripe',
      secretName: 'hookgate/staging/stripe',
      destinations: { billing: { type: 'http', url: 'https://billing.example.com/hooks', secretName: 'hookgate/staging/out/billing', events: ['invoice.*'] } },
    },
    github: { provider: 'github', secretName: 'hookgate/staging/github' },
  },
  alarms: { email: 'oncall@example.com' },
  retain: false,
  audit: { retentionDays: 3653 },
};

const app = newHookgateApp({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HookgateStack(app, 'hookgate-staging', { environmentName: 'staging', config: CONFIG, env: { account: '123456789012', region: 'eu-west-1' } });
const template = Template.fromStack(stack);
const policies = resources(template, 'AWS::IAM::ManagedPolicy');
const viewerId = logicalId(stack, stack.hookgate.operatorPolicies.viewer);
const operatorId = logicalId(stack, stack.hookgate.operatorPolicies.operator);
const statementsOf = (id: string): Statement[] => (policies[id]?.Properties?.PolicyDocument as { Statement: Statement[] }).Statement;
const actionsOf = (s: Statement): string[] => asArray(s.Action);
const flat = (value: unknown): string => JSON.stringify(value);

describe('audit log group', () => {
  const groupId = logicalId(stack, stack.hookgate.audit.logGroup);
  const group = resources(template, 'AWS::Logs::LogGroup')[groupId];

  it('keeps records for audit.retentionDays, encrypted with the stack key', () => {
    expect(group?.Properties?.RetentionInDays).toBe(3653);
    expect(group?.Properties?.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.key.key), 'Arn'] });
  });

  it('is retained on stack deletion even when the config says retain: false', () => {
    expect(group?.DeletionPolicy).toBe('Retain');
    expect(group?.UpdateReplacePolicy).toBe('Retain');
  });

  it('defaults to six years (2192 days)', () => {
    const app2 = newHookgateApp({ context: { 'aws:cdk:bundling-stacks': [] } });
    const rest: EnvironmentConfigInput = { ...CONFIG };
    delete rest.audit;
    const other = new HookgateStack(app2, 'hookgate-other', { environmentName: 'other', config: rest });
    const t = Template.fromStack(other);
    expect(resources(t, 'AWS::Logs::LogGroup')[logicalId(other, other.hookgate.audit.logGroup)]?.Properties?.RetentionInDays).toBe(2192);
  });
});

describe('viewer and operator policies', () => {
  it('are attached to nothing by the stack', () => {
    for (const id of [viewerId, operatorId]) {
      expect(policies[id]?.Properties?.Roles).toBeUndefined();
      expect(policies[id]?.Properties?.Users).toBeUndefined();
      expect(policies[id]?.Properties?.Groups).toBeUndefined();
    }
  });

  it('the viewer may not decrypt, read objects, receive or send messages, or write anything', () => {
    const actions = statementsOf(viewerId).flatMap(actionsOf);
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) {
      expect(action).not.toMatch(/^kms:/);
      expect(action).not.toMatch(/^s3:(GetObject|PutObject)/);
      expect(action).not.toMatch(/^sqs:(SendMessage|ReceiveMessage|DeleteMessage|StartMessageMoveTask)/);
      expect(action).not.toMatch(/^dynamodb:(PutItem|UpdateItem|DeleteItem)/);
      expect(action).not.toMatch(/^logs:(PutLogEvents|CreateLogStream|Delete)/);
    }
    expect(actions).toEqual(expect.arrayContaining(['sqs:GetQueueAttributes', 'dynamodb:GetItem', 'dynamodb:Query', 'logs:FilterLogEvents', 'cloudformation:DescribeStacks']));
  });

  it('the operator holds every viewer statement', () => {
    const operator = statementsOf(operatorId).map(flat);
    for (const s of statementsOf(viewerId)) expect(operator).toContain(flat(s));
  });

  it("the operator opens envelopes only under hookgate's encryption context, and uses the key otherwise only through SQS and S3", () => {
    const kmsStatements = statementsOf(operatorId).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kmsStatements).toHaveLength(2);
    const open = kmsStatements.find((s) => s.Sid === 'OpenEnvelopes');
    expect(actionsOf(open as Statement)).toEqual(['kms:Decrypt']);
    expect(open?.Condition).toEqual({ StringEquals: { [`kms:EncryptionContext:${CONTEXT_PURPOSE}`]: PURPOSE } });
    const storage = kmsStatements.find((s) => s.Sid === 'StorageEncryption');
    expect(storage?.Condition).toEqual({ StringEquals: { 'kms:ViaService': ['sqs.eu-west-1.amazonaws.com', 's3.eu-west-1.amazonaws.com'] } });
  });

  it('the operator appends to the audit log and can never delete or shorten it', () => {
    const logs = statementsOf(operatorId).flatMap(actionsOf).filter((a) => a.startsWith('logs:'));
    expect(logs).toEqual(expect.arrayContaining(['logs:CreateLogStream', 'logs:PutLogEvents']));
    for (const a of logs) expect(a).not.toMatch(/Delete|PutRetentionPolicy|DisassociateKmsKey|PutResourcePolicy/);
  });

  it('the operator pauses and resumes only circuit items, and sends only to work and destination queues', () => {
    const pause = statementsOf(operatorId).find((s) => s.Sid === 'PauseResume');
    expect(actionsOf(pause as Statement)).toEqual(['dynamodb:UpdateItem']);
    expect(pause?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['circuit#*'] } });
    const send = statementsOf(operatorId).find((s) => s.Sid === 'Replay');
    const queues = stack.cells.flatMap((c) => [c.queues, ...c.destinations.map((d) => d.queues)]);
    expect(asArray(send?.Resource)).toEqual(queues.map((q) => ({ 'Fn::GetAtt': [logicalId(stack, q.queue), 'Arn'] })));
    const dlqs = queues.map((q) => logicalId(stack, q.deadLetterQueue));
    expect(flat(send?.Resource)).not.toMatch(new RegExp(dlqs.join('|')));
  });

  it('no statement grants a wildcard action, and only GetMetricData applies to every resource', () => {
    for (const s of [...statementsOf(viewerId), ...statementsOf(operatorId)]) {
      for (const a of actionsOf(s)) expect(a).not.toMatch(/\*/);
      if (asArray(s.Resource).includes('*')) expect(actionsOf(s)).toEqual(['cloudwatch:GetMetricData']);
    }
  });

  it('cdk-nag AWS Solutions and HIPAA find nothing unacknowledged', () => {
    for (const pack of [new AwsSolutionsChecks(), new HIPAASecurityChecks()]) {
      const result = pack.validateScope(stack);
      expect(result.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    }
  });
});

describe('command outputs', () => {
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

  it('one stack-wide output and one per source, under fixed keys', () => {
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining([RESOURCES_OUTPUT, `${SOURCE_OUTPUT_PREFIX}0`, `${SOURCE_OUTPUT_PREFIX}1`]));
    expect(Object.keys(outputs).filter((k) => k.startsWith(SOURCE_OUTPUT_PREFIX))).toHaveLength(2);
  });

  it('name the audit group, the delivery table, the stack key, and each source and destination queue pair', () => {
    const resourcesJson = flat(outputs[RESOURCES_OUTPUT]?.Value);
    expect(resourcesJson).toContain(logicalId(stack, stack.hookgate.key.key));
    expect(resourcesJson).toContain(logicalId(stack, stack.hookgate.audit.logGroup));
    expect(resourcesJson).toContain(logicalId(stack, stack.deliveries?.table as never));
    expect(resourcesJson).toContain('\\"environment\\":\\"staging\\"');
    const stripe = flat(outputs[`${SOURCE_OUTPUT_PREFIX}0`]?.Value);
    const cell = stack.cells[0];
    for (const q of [cell?.queues.queue, cell?.queues.deadLetterQueue, cell?.destinations[0]?.queues.queue, cell?.destinations[0]?.queues.deadLetterQueue]) expect(stripe).toContain(logicalId(stack, q as never));
    expect(stripe).toContain('billing');
    // The destination's filter, which replay applies.
    expect(stripe).toContain('\\"events\\":[\\"invoice.*\\"]');
  });
});
