import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Template } from 'aws-cdk-lib/assertions';
import type { SQSRecord } from 'aws-lambda';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { findArchived, listArchived, readArchived } from '../../lambda/archive/reader';
import { archiveBatch } from '../../lambda/archive/writer';
import type { EnvironmentConfigInput } from '../../lambda/config/schema';
import { CONTEXT_PURPOSE, CONTEXT_SOURCE, PURPOSE } from '../../lambda/ingest/envelope';
import { newHookgateApp } from '../../lib/app';
import { HookgateStack } from '../../lib/hookgate-stack';
import { RESOURCES_OUTPUT, SOURCE_OUTPUT_PREFIX } from '../../lib/stack-outputs';
import { type Emulator, localClients, startFauxqs } from '../../local/emulators';
import { countCalls, recordOf, type S3Call } from '../archive/rig';
import { decide, type Policies, resourcePolicies, rolePolicy } from '../shipped/authorization';
import type { AuthorizationRequest, Decision } from '../shipped/policy';
import { type CfnResource, type JsonObject, ofType, Resolver, type Synthesized } from '../shipped/template';
import { asArray, logicalId, resources, type Statement } from './helpers';

// The hookgate command's side of the stack: the audit log group, the viewer and operator
// policies, and the outputs the command discovers the stack from. Template assertions, and the
// two policies evaluated as IAM would (the last part of this file).

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const STACK = 'hookgate-staging';

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
const stack = new HookgateStack(app, STACK, { environmentName: 'staging', config: CONFIG, env: { account: ACCOUNT, region: REGION } });
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

  it('the viewer may not receive or send messages, or write anything', () => {
    const actions = statementsOf(viewerId).flatMap(actionsOf);
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) {
      expect(action).not.toMatch(/^s3:(PutObject|Delete)/);
      expect(action).not.toMatch(/^sqs:(SendMessage|ReceiveMessage|DeleteMessage|StartMessageMoveTask)/);
      expect(action).not.toMatch(/^dynamodb:(PutItem|UpdateItem|DeleteItem)/);
      expect(action).not.toMatch(/^logs:(PutLogEvents|CreateLogStream|Delete)/);
      expect(action).not.toMatch(/^kms:(Encrypt|GenerateDataKey|ReEncrypt)/);
    }
    expect(actions).toEqual(expect.arrayContaining(['sqs:GetQueueAttributes', 'dynamodb:GetItem', 'dynamodb:Query', 'logs:FilterLogEvents', 'cloudformation:DescribeStacks']));
  });

  it('the viewer reads the archive only under index/: ListBucket with an index/ prefix, GetObject of index/*, Decrypt only through S3 for the archive bucket', () => {
    const archiveArn = { 'Fn::GetAtt': [logicalId(stack, stack.hookgate.archive.bucket), 'Arn'] };
    const onArchive = statementsOf(viewerId).filter((s) => flat(s.Resource).includes(logicalId(stack, stack.hookgate.archive.bucket)));
    expect(onArchive.map((s) => [actionsOf(s), s.Resource, s.Condition])).toEqual([
      [['s3:ListBucket'], archiveArn, { StringLike: { 's3:prefix': ['index/*'] } }],
      [['s3:GetObject'], { 'Fn::Join': ['', [archiveArn, '/index/*']] }, undefined],
    ]);
    const decrypt = statementsOf(viewerId).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(decrypt.map((s) => [actionsOf(s), s.Resource, s.Condition])).toEqual([
      [['kms:Decrypt'], { 'Fn::GetAtt': [logicalId(stack, stack.key.key), 'Arn'] }, { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': archiveArn } }],
    ]);
    // Nothing of the payload bucket, whose objects are bodies.
    expect(flat(statementsOf(viewerId))).not.toContain(logicalId(stack, stack.payloads.bucket));
  });

  it('the operator holds every viewer statement', () => {
    const operator = statementsOf(operatorId).map(flat);
    for (const s of statementsOf(viewerId)) expect(operator).toContain(flat(s));
  });

  it("the operator opens envelopes only under hookgate's encryption context, and uses the key otherwise only through SQS and S3", () => {
    const kmsStatements = statementsOf(operatorId).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    // Its own two, and the viewer's Decrypt of index objects through S3.
    expect(kmsStatements.map((s) => s.Sid).sort()).toEqual(['ArchiveIndexDecryption', 'OpenEnvelopes', 'StorageEncryption']);
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

// What the viewer and operator policies let a person do, decided by IAM's rules (the shipped
// suite's evaluator, test/shipped/policy.ts) over this template: each policy as if attached to a
// role, with the key, bucket and queue policies it meets, intrinsics resolved to physical names.
// The archive calls are the reader's own, recorded on fauxqs's S3 (the archive bucket's physical
// name is the emulator's bucket); the other calls of `events list` and `events show` (the stack's
// outputs, the delivery attempts) and the calls a viewer must never make are written out.

const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK}/0f0e0d0c-0b0a-4999-8888-777766665555`;
const ARCHIVE = 'hookgate-staging-archive';
const SOURCE = 'stripe';

const synth: Synthesized = { stackName: STACK, outdir: '', resources: template.toJSON().Resources as Record<string, CfnResource> };
const archiveId = logicalId(stack, stack.hookgate.archive.bucket);

/** Physical names for the resources the policies name, as CloudFormation would give them (the archive bucket: the emulator's). */
function resolver(): Resolver {
  const r = new Resolver({ partition: 'aws', region: REGION, account: ACCOUNT, stackName: STACK });
  const name = (id: string): string => `${STACK}-${id}`.toLowerCase().slice(0, 63);
  for (const id of ofType(synth, 'AWS::S3::Bucket')) {
    const bucket = id === archiveId ? ARCHIVE : name(id);
    r.set(id, { ref: bucket, attributes: { Arn: `arn:aws:s3:::${bucket}` } });
  }
  for (const id of ofType(synth, 'AWS::KMS::Key')) r.set(id, { ref: id, attributes: { Arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}` } });
  for (const id of ofType(synth, 'AWS::DynamoDB::Table')) r.set(id, { ref: name(id), attributes: { Arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name(id)}` } });
  for (const id of ofType(synth, 'AWS::SQS::Queue')) r.set(id, { ref: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name(id)}`, attributes: { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name(id)}`, QueueName: name(id) } });
  for (const id of ofType(synth, 'AWS::Logs::LogGroup')) r.set(id, { ref: name(id), attributes: { Arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name(id)}:*` } });
  r.set('AWS::StackId', { ref: STACK_ID, attributes: {} });
  return r;
}

const resolved = resolver();
const ROLE = 'PersonRole';

/** One managed policy of the stack as attached to a person's role, with the resource policies it meets. */
function policiesOf(policyId: string): Policies {
  const role: CfnResource = { Type: 'AWS::IAM::Role', Properties: { ManagedPolicyArns: [{ Ref: policyId }] } as JsonObject, Metadata: {} };
  const withRole: Synthesized = { ...synth, resources: { ...synth.resources, [ROLE]: role } };
  const policy = rolePolicy(withRole, resolved, ROLE);
  if (policy.unevaluable.length > 0) throw new Error(`cannot evaluate ${policyId}: ${policy.unevaluable.join('; ')}`);
  return { role: policy, roleArn: `arn:aws:iam::${ACCOUNT}:role/person`, resources: resourcePolicies(synth, resolved, ACCOUNT) };
}

const viewer = policiesOf(logicalId(stack, stack.hookgate.operatorPolicies.viewer));
const operator = policiesOf(logicalId(stack, stack.hookgate.operatorPolicies.operator));

const physical = (construct: { node: { defaultChild?: unknown } }, attribute?: string): string => {
  const got = resolved.get(logicalId(stack, construct));
  return (attribute === undefined ? got?.ref : got?.attributes[attribute]) as string;
};
const KEY = physical(stack.hookgate.key.key, 'Arn');
const PAYLOADS = physical(stack.payloads.bucket);
const TABLE = physical(stack.deliveries?.table as never, 'Arn');
const stripe = stack.hookgate.sources.get(SOURCE);
const WORK_QUEUE = physical(stripe?.queues.queue as never, 'Arn');
const DLQ = physical(stripe?.queues.deadLetterQueue as never, 'Arn');
const AUDIT = physical(stack.hookgate.audit.logGroup);

/** Keys a request here never carries unless it says so: absent, as on AWS. Any other key cannot be decided. */
const KNOWN_ABSENT = ['kms:viaservice', 'kms:encryptioncontextkeys', 's3:prefix', 'aws:calledvia', 'aws:sourcevpce', 'dynamodb:leadingkeys'];

function request(action: string, resource: string, values: Record<string, string[]> = {}): AuthorizationRequest {
  return {
    action,
    resource,
    context: {
      values: { 'aws:SecureTransport': ['true'], 'aws:PrincipalAccount': [ACCOUNT], ...values },
      knowsAbsent: (key) => KNOWN_ABSENT.includes(key.toLowerCase()) || key.toLowerCase().startsWith('kms:encryptioncontext:'),
    },
  };
}

/** The Decrypt S3 makes for a caller reading an object of `bucket` (bucket key on: the context is the bucket's ARN). */
function s3Decrypt(bucket: string): AuthorizationRequest {
  return request('kms:Decrypt', KEY, {
    'kms:ViaService': [`s3.${REGION}.amazonaws.com`],
    'kms:CallerAccount': [ACCOUNT],
    'kms:EncryptionContext:aws:s3:arn': [`arn:aws:s3:::${bucket}`],
    'kms:EncryptionContextKeys': ['aws:s3:arn'],
  });
}

/** What IAM authorizes for one recorded S3 call of the reader. */
function authorizationsOf(call: S3Call): AuthorizationRequest[] {
  const bucket = call.bucket as string;
  switch (call.command) {
    case 'ListObjectsV2Command':
      return [request('s3:ListBucket', `arn:aws:s3:::${bucket}`, call.prefix === undefined ? {} : { 's3:prefix': [call.prefix] })];
    case 'GetObjectCommand':
      return [request('s3:GetObject', `arn:aws:s3:::${bucket}/${call.key as string}`), s3Decrypt(bucket)];
    default:
      throw new Error(`no mapping for ${call.command}`);
  }
}

const verdict = (policies: Policies, r: AuthorizationRequest): string => {
  const d: Decision = decide(policies, r);
  return d.decision === 'unknown' ? `unknown: ${d.reasons.join('; ')}` : d.decision;
};
const verdicts = (policies: Policies, requests: readonly AuthorizationRequest[]): Record<string, string> =>
  Object.fromEntries(requests.map((r) => [`${r.action} ${r.resource}${JSON.stringify(r.context.values['s3:prefix'] ?? r.context.values['kms:EncryptionContext:aws:s3:arn'] ?? '')}`, verdict(policies, r)]));

/** The calls of `events list` / `events show` besides the archive's: the stack's outputs and the delivery attempts. */
const commandCalls = (): AuthorizationRequest[] => [request('cloudformation:DescribeStacks', STACK_ID), request('dynamodb:Query', TABLE)];

describe('the policies evaluated as IAM would, on the calls the command makes', () => {
  let fauxqs: Emulator;
  let s3: S3Client;
  let recorded: { list: S3Call[]; show: S3Call[]; body: S3Call[] };

  beforeAll(async () => {
    fauxqs = await startFauxqs();
    s3 = new S3Client(localClients({ dynamodb: '', sqs: fauxqs.endpoint, s3: fauxqs.endpoint }).s3);
    await s3.send(new CreateBucketCommand({ Bucket: ARCHIVE }));
    await s3.send(new CreateBucketCommand({ Bucket: 'hookgate-payloads' }));
    const records: SQSRecord[] = ['10:05', '10:40', '11:20'].map((t, i) =>
      recordOf({ source: SOURCE, dedupeKey: `${SOURCE}:evt_${i}`, eventId: `evt_${i}`, eventType: 'invoice.paid', receivedAt: `2026-12-01T${t}:00.000Z` }, randomBytes(64).toString('base64')),
    );
    await archiveBatch(records, { s3, bucket: ARCHIVE, payloadBucket: 'hookgate-payloads', source: SOURCE });
    const store = { s3, bucket: ARCHIVE, source: SOURCE };
    const calls = countCalls(s3);
    const listed = await listArchived({ ...store, since: new Date('2026-12-01T10:00:00Z'), until: new Date('2026-12-01T12:00:00Z') });
    const list = [...calls.calls];
    calls.clear();
    const found = await findArchived({ ...store, dedupeKey: `${SOURCE}:evt_1`, until: new Date('2026-12-01T12:00:00Z') });
    const show = [...calls.calls];
    calls.clear();
    await readArchived(store, found as never);
    recorded = { list, show, body: [...calls.calls] };
    expect(listed).toHaveLength(3);
    expect(found?.dedupeKey).toBe(`${SOURCE}:evt_1`);
  }, 30_000);
  afterAll(async () => {
    s3.destroy();
    await fauxqs.stop();
  });

  describe('the viewer policy, evaluated as IAM would', () => {
    it('allows every call of events list and events show without --body: index LISTs and GETs, the Decrypt S3 makes for them, the attempts, the outputs', () => {
      const archive = [...recorded.list, ...recorded.show];
      // The reader touched index objects only (the hours' prefixes and their index objects).
      expect(archive.length).toBeGreaterThan(0);
      expect(archive.every((c) => (c.prefix ?? c.key ?? '').startsWith('index/stripe/'))).toBe(true);
      const requests = [...archive.flatMap(authorizationsOf), ...commandCalls()];
      const decided = verdicts(viewer, requests);
      expect(Object.values(decided).length).toBeGreaterThan(3);
      for (const [call, decision] of Object.entries(decided)) expect(`${call}: ${decision}`).toBe(`${call}: allow`);
    });

    it('denies the archive object itself: the ranged GET of a body (events show --body, replay)', () => {
      expect(recorded.body.map((c) => c.key)).toEqual([expect.stringMatching(/^archive\/stripe\/.*\.hga$/)]);
      const [get] = authorizationsOf(recorded.body[0] as S3Call);
      expect(verdict(viewer, get as AuthorizationRequest)).toBe('deny');
    });

    it('denies listing outside index/, and any object of the payload bucket or its Decrypt through S3', () => {
      expect(verdict(viewer, request('s3:ListBucket', `arn:aws:s3:::${ARCHIVE}`, { 's3:prefix': ['archive/stripe/'] }))).toBe('deny');
      expect(verdict(viewer, request('s3:ListBucket', `arn:aws:s3:::${ARCHIVE}`))).toBe('deny');
      expect(verdict(viewer, request('s3:GetObject', `arn:aws:s3:::${ARCHIVE}/archive/stripe/2026/12/01/10/x.hga`))).toBe('deny');
      expect(verdict(viewer, request('s3:GetObject', `arn:aws:s3:::${PAYLOADS}/stripe/evt_1`))).toBe('deny');
      expect(verdict(viewer, s3Decrypt(PAYLOADS))).toBe('deny');
    });

    it("denies opening a sealed envelope: a direct Decrypt under hookgate's encryption context", () => {
      const envelope = { 'kms:CallerAccount': [ACCOUNT], [`kms:EncryptionContext:${CONTEXT_PURPOSE}`]: [PURPOSE], [`kms:EncryptionContext:${CONTEXT_SOURCE}`]: [SOURCE], 'kms:EncryptionContextKeys': [CONTEXT_PURPOSE, CONTEXT_SOURCE] };
      expect(verdict(viewer, request('kms:Decrypt', KEY, envelope))).toBe('deny');
      // The same call is the operator's (audited by the command): the denial is the policy's, not the request's.
      expect(verdict(operator, request('kms:Decrypt', KEY, envelope))).toBe('allow');
    });

    it('denies receiving or sending messages and writing the audit log', () => {
      for (const queue of [WORK_QUEUE, DLQ]) {
        expect(verdict(viewer, request('sqs:ReceiveMessage', queue))).toBe('deny');
        expect(verdict(viewer, request('sqs:SendMessage', queue))).toBe('deny');
      }
      expect(verdict(viewer, request('logs:PutLogEvents', `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${AUDIT}:log-stream:2026-12-01-viewer`))).toBe('deny');
    });
  });

  describe('the operator policy, evaluated as IAM would', () => {
    it('still allows every call the viewer makes, and the body GET the viewer may not', () => {
      const requests = [...[...recorded.list, ...recorded.show, ...recorded.body].flatMap(authorizationsOf), ...commandCalls()];
      for (const [call, decision] of Object.entries(verdicts(operator, requests))) expect(`${call}: ${decision}`).toBe(`${call}: allow`);
    });
  });
});
