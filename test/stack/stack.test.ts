import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { namedSources } from '../../lambda/config/schema';
import { ENV } from '../../lambda/runtime/env';
import { METRICS } from '../../lambda/runtime/telemetry';
import { MIN_PAYLOAD_EXPIRATION_DAYS } from '../../lib/constructs/payload-bucket';
import { REFUSED_LABEL, SIGNATURE_HEADERS } from '../../lib/constructs/webhook-firewall';
import type { HookgateStack } from '../../lib/hookgate-stack';
import { RUNBOOK } from '../../lib/runbook';
import {
  ROOT,
  asArray,
  identityStatements,
  logicalId,
  resources,
  shippedConfig,
  synthConfig,
  synthShipped,
  type CfnResource,
  type Statement,
} from './helpers';

let stacks: Record<string, HookgateStack>;
let templates: Record<string, Template>;

beforeAll(() => {
  ({ stacks, templates } = synthShipped());
}, 120_000);

const ENVS = ['dev', 'prod'] as const;
const keyArn = (env: string): unknown => ({ 'Fn::GetAtt': [logicalId(stacks[env], stacks[env].key.key), 'Arn'] });
const actionsOf = (s: Statement): string[] => asArray(s.Action);

describe.each(ENVS)('%s: queues', (env) => {
  it('work queues and DLQs are encrypted with the stack key', () => {
    const queues = Object.values(resources(templates[env], 'AWS::SQS::Queue'));
    expect(queues).toHaveLength(2 * namedSources(shippedConfig(env)).length);
    for (const q of queues) expect(q.Properties?.KmsMasterKeyId).toEqual(keyArn(env));
  });

  it('queues deny non-TLS access', () => {
    const stack = stacks[env];
    const policies = Object.values(resources(templates[env], 'AWS::SQS::QueuePolicy'));
    for (const cell of stack.cells) {
      for (const queue of [cell.queues.queue, cell.queues.deadLetterQueue]) {
        const ref = { Ref: logicalId(stack, queue) };
        const policy = policies.find((p) => asArray(p.Properties?.Queues as unknown[]).some((q) => JSON.stringify(q) === JSON.stringify(ref)));
        const statements = (policy?.Properties?.PolicyDocument as { Statement: Statement[] }).Statement;
        expect(statements).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        );
      }
    }
  });

  it('queues accept 1 MiB messages and the DLQ keeps messages 14 days', () => {
    for (const cell of stacks[env].cells) {
      const queue = resources(templates[env], 'AWS::SQS::Queue')[logicalId(stacks[env], cell.queues.queue)];
      const dlq = resources(templates[env], 'AWS::SQS::Queue')[logicalId(stacks[env], cell.queues.deadLetterQueue)];
      expect(queue.Properties?.MaximumMessageSize).toBe(1_048_576);
      expect(dlq.Properties?.MaximumMessageSize).toBe(1_048_576);
      expect(dlq.Properties?.MessageRetentionPeriod).toBe(14 * 86_400);
    }
  });

  it('messages move to the DLQ after maxReceiveCount (default 5)', () => {
    const sources = Object.fromEntries(namedSources(shippedConfig(env)).map((s) => [s.name, s]));
    for (const cell of stacks[env].cells) {
      const queue = resources(templates[env], 'AWS::SQS::Queue')[logicalId(stacks[env], cell.queues.queue)];
      expect(queue.Properties?.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stacks[env], cell.queues.deadLetterQueue), 'Arn'] },
        maxReceiveCount: sources[cell.sourceName].maxReceiveCount ?? 5,
      });
    }
  });

  it('visibility timeout is at least 6x the processor timeout', () => {
    const functions = resources(templates[env], 'AWS::Lambda::Function');
    for (const cell of stacks[env].cells) {
      const queue = resources(templates[env], 'AWS::SQS::Queue')[logicalId(stacks[env], cell.queues.queue)];
      const processor = functions[logicalId(stacks[env], cell.processor.function)];
      expect(queue.Properties?.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * (processor.Properties?.Timeout as number));
    }
  });
});

describe.each(ENVS)('%s: processors', (env) => {
  it('every processor reports batch item failures, with concurrency from config and the archive\'s batch (a handlers\' processor\'s own batchSize when set) filled within its window', () => {
    const config = shippedConfig(env);
    const sources = Object.fromEntries(namedSources(config).map((s) => [s.name, s]));
    const batchOf = (name: string): number => {
      const source = sources[name];
      return Object.keys(source.destinations ?? {}).length > 0 ? config.archive.batchSize : (source.batchSize ?? config.archive.batchSize);
    };
    const mappings = Object.values(resources(templates[env], 'AWS::Lambda::EventSourceMapping'));
    for (const cell of stacks[env].cells) {
      const mapping = mappings.find(
        (m) => JSON.stringify(m.Properties?.FunctionName) === JSON.stringify({ Ref: logicalId(stacks[env], cell.processor.function) }),
      );
      expect(mapping?.Properties).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: batchOf(cell.sourceName),
        MaximumBatchingWindowInSeconds: config.archive.batchWindowSeconds,
        ScalingConfig: { MaximumConcurrency: sources[cell.sourceName].maxConcurrency ?? 5 },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stacks[env], cell.queues.queue), 'Arn'] },
      });
    }
  });
});

describe.each(ENVS)('%s: functions', (env) => {
  it('functions run arm64 on Node.js 24 with active tracing and an explicit log group', () => {
    const functions = Object.values(resources(templates[env], 'AWS::Lambda::Function'));
    expect(functions).toHaveLength(2 * stacks[env].cells.length);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Architectures: ['arm64'],
        Runtime: 'nodejs24.x',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      });
    }
  });

  it('functions log JSON and keep Lambda platform lines only from WARN up (no START/END/REPORT per invocation)', () => {
    for (const fn of Object.values(resources(templates[env], 'AWS::Lambda::Function'))) {
      expect(fn.Properties?.LoggingConfig).toMatchObject({ LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'INFO' });
    }
  });

  it('log groups keep logs for the configured days and are encrypted with the stack key (the audit log: see operator-roles.test.ts)', () => {
    const days = shippedConfig(env).logRetentionDays;
    for (const group of operationalLogGroups(stacks[env], templates[env])) {
      expect(group.Properties?.RetentionInDays).toBe(days);
      expect(group.Properties?.KmsKeyId).toEqual(keyArn(env));
    }
  });

  it('functions have no secret values in environment', () => {
    const allowed = new Set<string>([...Object.values(ENV), 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'NODE_OPTIONS', 'AWS_NODEJS_CONNECTION_REUSE_ENABLED']);
    for (const fn of Object.values(resources(templates[env], 'AWS::Lambda::Function'))) {
      const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const name of Object.keys(variables)) expect(allowed).toContain(name);
      const source = JSON.parse(variables[ENV.source] as string) as Record<string, unknown>;
      expect(source).not.toHaveProperty('secrets');
      expect(source).not.toHaveProperty('verifyToken');
      expect(source.secretName).toMatch(new RegExp(`^hookgate/${env}/`));
    }
  });

  it('functions emit metrics to Hookgate/<env> as service hookgate', () => {
    for (const fn of Object.values(resources(templates[env], 'AWS::Lambda::Function'))) {
      expect((fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        POWERTOOLS_METRICS_NAMESPACE: `Hookgate/${env}`,
        POWERTOOLS_SERVICE_NAME: 'hookgate',
      });
    }
  });
});

describe.each(ENVS)('%s: least privilege', (env) => {
  it('function roles carry one customer-managed policy each and no inline or AWS managed policy', () => {
    const inline = Object.values(resources(templates[env], 'AWS::IAM::Policy')).flatMap((p) => asArray(p.Properties?.Roles as { Ref: string }[]).map((r) => r.Ref));
    const managed = Object.values(resources(templates[env], 'AWS::IAM::ManagedPolicy')).flatMap((p) => asArray(p.Properties?.Roles as { Ref: string }[]).map((r) => r.Ref));
    for (const cell of stacks[env].cells) {
      for (const role of [cell.verifier.role, cell.processor.role]) {
        const id = logicalId(stacks[env], role);
        expect(inline).not.toContain(id);
        expect(managed.filter((r) => r === id)).toHaveLength(1);
        expect(resources(templates[env], 'AWS::IAM::Role')[id].Properties?.ManagedPolicyArns).toBeUndefined();
      }
    }
  });

  it('no IAM statement grants a wildcard action', () => {
    const statements = identityStatements(templates[env]);
    expect(statements.length).toBeGreaterThan(0);
    for (const { statement } of statements) {
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/\*/);
    }
  });

  it('no data-plane statement (DynamoDB, SQS, KMS, Secrets Manager, S3) applies to every resource', () => {
    for (const { statement } of identityStatements(templates[env])) {
      if (actionsOf(statement).some((a) => /^(dynamodb|sqs|kms|secretsmanager|s3):/.test(a))) {
        expect(asArray(statement.Resource)).not.toContain('*');
      }
    }
  });

  it('verifier may read only its own secret, and processors read no secret', () => {
    const statements = identityStatements(templates[env]);
    for (const cell of stacks[env].cells) {
      const verifierRole = logicalId(stacks[env], cell.verifier.role);
      const processorRole = logicalId(stacks[env], cell.processor.role);
      const secretReads = statements.filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith('secretsmanager:')));
      const mine = secretReads.filter(({ roles }) => roles.includes(verifierRole));
      expect(mine).toHaveLength(1);
      expect(actionsOf(mine[0].statement)).toEqual(['secretsmanager:GetSecretValue']);
      expect(JSON.stringify(mine[0].statement.Resource)).toContain(`:secret:hookgate/${env}/${cell.sourceName}-??????`);
      for (const { roles, statement } of secretReads) {
        if (!roles.includes(verifierRole)) expect(JSON.stringify(statement.Resource)).not.toContain(`/${cell.sourceName}-??????`);
      }
      expect(secretReads.filter(({ roles }) => roles.includes(processorRole))).toHaveLength(0);
    }
  });

  it('a source\'s functions reach only their own queues: the verifier sends, the processor consumes and sends only to its DLQ', () => {
    const statements = identityStatements(templates[env]);
    for (const cell of stacks[env].cells) {
      const ownQueue = JSON.stringify({ 'Fn::GetAtt': [logicalId(stacks[env], cell.queues.queue), 'Arn'] });
      const ownDlq = JSON.stringify({ 'Fn::GetAtt': [logicalId(stacks[env], cell.queues.deadLetterQueue), 'Arn'] });
      const sqsOf = (role: string): Statement[] =>
        statements.filter(({ roles, statement }) => roles.includes(role) && actionsOf(statement).some((a) => a.startsWith('sqs:'))).map(({ statement }) => statement);
      const verifier = sqsOf(logicalId(stacks[env], cell.verifier.role));
      const processor = sqsOf(logicalId(stacks[env], cell.processor.role));
      const [consume, deadLetter] = [processor.filter((s) => !actionsOf(s).includes('sqs:SendMessage')), processor.filter((s) => actionsOf(s).includes('sqs:SendMessage'))];
      expect(verifier.flatMap(actionsOf)).toEqual(['sqs:SendMessage']);
      expect(consume.flatMap(actionsOf)).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
      expect(deadLetter.map((s) => [actionsOf(s), JSON.stringify(s.Resource)])).toEqual([[['sqs:SendMessage'], ownDlq]]);
      for (const s of [...verifier, ...consume]) expect(JSON.stringify(s.Resource)).toBe(ownQueue);
    }
  });

  it('each processor is told its own DLQ, where it moves records that can never open', () => {
    for (const cell of stacks[env].cells) {
      const fn = resources(templates[env], 'AWS::Lambda::Function')[logicalId(stacks[env], cell.processor.function)];
      const variables = (fn?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables[ENV.deadLetterQueueUrl]).toEqual({ Ref: logicalId(stacks[env], cell.queues.deadLetterQueue) });
    }
  });

  it('verifiers may generate data keys; processors decrypt, and generate data keys only through SQS (copies to their DLQ) and S3 (the archive)', () => {
    const statements = identityStatements(templates[env]);
    const kmsOf = (role: string): Statement[] =>
      statements.filter(({ roles, statement }) => roles.includes(role) && actionsOf(statement).some((a) => a.startsWith('kms:'))).map(({ statement }) => statement);
    const actions = (list: Statement[]): string[] => [...new Set(list.flatMap(actionsOf).filter((a) => a.startsWith('kms:')))].sort();
    for (const cell of stacks[env].cells) {
      const processor = kmsOf(logicalId(stacks[env], cell.processor.role));
      const generate = processor.filter((s) => actionsOf(s).includes('kms:GenerateDataKey'));
      expect(actions(kmsOf(logicalId(stacks[env], cell.verifier.role)))).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
      expect(actions(processor)).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      expect(generate).toHaveLength(2);
      for (const [index, service] of ['sqs', 's3'].entries()) {
        expect(actionsOf(generate[index] as Statement)).toEqual(['kms:GenerateDataKey']);
        expect(JSON.stringify(generate[index]?.Condition)).toMatch(new RegExp(`"kms:ViaService":\\{"Fn::Join":\\["",\\["${service}\\.",\\{"Ref":"AWS::Region"\\},"\\.amazonaws\\.com"\\]\\]\\}|"kms:ViaService":"${service}\\.[a-z0-9-]+\\.amazonaws\\.com"`));
      }
    }
  });

  it('payload objects are reachable only under the source\'s own prefix', () => {
    const statements = identityStatements(templates[env]);
    const payloads = logicalId(stacks[env], stacks[env].hookgate.payloads.bucket);
    for (const cell of stacks[env].cells) {
      for (const role of [cell.verifier.role, cell.processor.role]) {
        const s3 = statements.filter(({ roles, statement }) => roles.includes(logicalId(stacks[env], role)) && actionsOf(statement).some((a) => a.startsWith('s3:')) && JSON.stringify(statement.Resource).includes(payloads));
        expect(s3).toHaveLength(1);
        expect(JSON.stringify(s3[0].statement.Resource)).toContain(`"/${cell.sourceName}/*"`);
      }
    }
  });

  it('the key policy gives kms:* only to the account root and nothing to other principals but the log and alarm services', () => {
    const key = Object.values(resources(templates[env], 'AWS::KMS::Key'))[0];
    expect(key.Properties?.EnableKeyRotation).toBe(true);
    const statements = (key.Properties?.KeyPolicy as { Statement: Statement[] }).Statement;
    for (const s of statements) {
      if (actionsOf(s).includes('kms:*')) expect(JSON.stringify(s.Principal)).toMatch(/:root"/);
      else expect(JSON.stringify(s.Principal)).toMatch(/"Service":.*(logs\.|cloudwatch\.amazonaws\.com)/);
    }
  });
});

describe.each(ENVS)('%s: ingress', (env) => {
  it('the API is regional, passes bodies as bytes and routes POST per source (GET only for meta)', () => {
    const api = Object.values(resources(templates[env], 'AWS::ApiGateway::RestApi'))[0];
    expect(api.Properties).toMatchObject({ EndpointConfiguration: { Types: ['REGIONAL'] }, BinaryMediaTypes: ['*/*'] });
    const paths = Object.values(resources(templates[env], 'AWS::ApiGateway::Resource')).map((r) => r.Properties?.PathPart);
    expect(paths).not.toContainEqual(expect.stringMatching(/[{+]/));
    const methods = Object.values(resources(templates[env], 'AWS::ApiGateway::Method'));
    const sources = namedSources(shippedConfig(env));
    expect(methods.filter((m) => m.Properties?.HttpMethod === 'POST')).toHaveLength(sources.length);
    expect(methods.filter((m) => m.Properties?.HttpMethod === 'GET')).toHaveLength(sources.filter((s) => s.provider === 'meta').length);
    for (const m of methods) expect(m.Properties?.Integration).toMatchObject({ Type: 'AWS_PROXY' });
  });

  it('the stage logs JSON access logs without bodies, ERROR execution logs without data trace, traces, and throttles from config', () => {
    const stage = Object.values(resources(templates[env], 'AWS::ApiGateway::Stage'))[0];
    const format = (stage.Properties?.AccessLogSetting as { Format: string }).Format;
    expect(() => JSON.parse(format) as unknown).not.toThrow();
    expect(format).not.toMatch(/body|requestOverride|authorizer/i);
    const throttling = shippedConfig(env).throttling;
    expect(stage.Properties).toMatchObject({
      TracingEnabled: true,
      MethodSettings: [
        expect.objectContaining({
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          ThrottlingRateLimit: throttling?.rateLimit,
          ThrottlingBurstLimit: throttling?.burstLimit,
        }),
      ],
    });
  });

  it('WAF counts SizeRestrictions_BODY instead of blocking and has no Bot Control', () => {
    const acl = Object.values(resources(templates[env], 'AWS::WAFv2::WebACL'))[0];
    const rules = acl.Properties?.Rules as { Name: string; Statement: { ManagedRuleGroupStatement?: { Name: string; RuleActionOverrides?: unknown[] } } }[];
    const common = rules.find((r) => r.Statement.ManagedRuleGroupStatement?.Name === 'AWSManagedRulesCommonRuleSet');
    expect(common?.Statement.ManagedRuleGroupStatement?.RuleActionOverrides).toContainEqual({ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } });
    const groups = rules.map((r) => r.Statement.ManagedRuleGroupStatement?.Name).filter(Boolean);
    expect(groups).toEqual(expect.arrayContaining(['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesKnownBadInputsRuleSet']));
    expect(groups).not.toContain('AWSManagedRulesBotControlRuleSet');
  });

  it('WAF limits each client IP to the configured rate (refused through RefuseSigned/RefuseUnsigned)', () => {
    const rate = shippedConfig(env).rateLimit;
    templates[env].hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({
          Action: { Count: {} },
          RuleLabels: [{ Name: REFUSED_LABEL }],
          Statement: { RateBasedStatement: { Limit: rate?.limit, EvaluationWindowSec: rate?.windowSeconds, AggregateKeyType: 'IP' } },
        }),
      ]),
    });
  });

  it('WAF protects the API stage', () => {
    templates[env].hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
      WebACLArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('WebAcl'), 'Arn'] },
    });
    const association = Object.values(resources(templates[env], 'AWS::WAFv2::WebACLAssociation'))[0];
    expect(JSON.stringify(association.Properties?.ResourceArn)).toContain(logicalId(stacks[env], stacks[env].ingress.api));
    expect(JSON.stringify(association.Properties?.ResourceArn)).toContain('/stages/');
  });

  it('WAF logs to an aws-waf-logs- group with signature and token headers redacted', () => {
    const group = resources(templates[env], 'AWS::Logs::LogGroup')[logicalId(stacks[env], stacks[env].firewall.logGroup)];
    expect(group.Properties?.LogGroupName).toMatch(/^aws-waf-logs-/);
    const logging = Object.values(resources(templates[env], 'AWS::WAFv2::LoggingConfiguration'))[0];
    const redacted = (logging.Properties?.RedactedFields as { SingleHeader?: { Name: string } }[]).flatMap((f) => (f.SingleHeader === undefined ? [] : [f.SingleHeader.Name]));
    expect(redacted).toEqual(expect.arrayContaining([...SIGNATURE_HEADERS, 'x-webhook-token']));
  });

  it('WAF logs only the requests it blocked and those a managed rule counted instead of blocking, not every signed delivery', () => {
    const logging = Object.values(resources(templates[env], 'AWS::WAFv2::LoggingConfiguration'))[0];
    expect(logging.Properties?.LoggingFilter).toEqual({
      DefaultBehavior: 'DROP',
      Filters: [{ Behavior: 'KEEP', Requirement: 'MEETS_ANY', Conditions: [{ ActionCondition: { Action: 'BLOCK' } }, { ActionCondition: { Action: 'EXCLUDED_AS_COUNT' } }] }],
    });
  });

  it('X-Ray samples 1 % of this stage\'s requests, with no reservoir that would trace every request of a quiet source', () => {
    const rules = Object.values(resources(templates[env], 'AWS::XRay::SamplingRule')).map((r) => r.Properties?.SamplingRule as Record<string, unknown>);
    const sampled = rules.filter((r) => r.FixedRate !== 0);
    expect(sampled).toHaveLength(1);
    const rule = sampled[0] as Record<string, unknown>;
    expect(rule).toMatchObject({ FixedRate: 0.01, ReservoirSize: 0, ServiceType: 'AWS::ApiGateway::Stage', URLPath: '*' });
    expect(JSON.stringify(rule.ResourceARN)).toContain(logicalId(stacks[env], stacks[env].ingress.api));
    for (const r of rules) expect(String(r.RuleName).length).toBeLessThanOrEqual(32);
  });

  it('X-Ray never traces a request whose query carries a credential (Meta\'s hub.verify_token, a query token), since traces record the full URL', () => {
    const rules = Object.values(resources(templates[env], 'AWS::XRay::SamplingRule')).map((r) => r.Properties?.SamplingRule as Record<string, unknown>);
    const base = rules.find((r) => r.URLPath === '*');
    const untraced = rules.filter((r) => r.FixedRate === 0);
    const expected = namedSources(shippedConfig(env)).flatMap((s) =>
      s.provider === 'meta' ? [[`*/webhooks/${s.name}*`, 'GET']] : s.provider === 'token' && s.query !== undefined ? [[`*/webhooks/${s.name}*`, '*']] : [],
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(untraced.map((r) => [r.URLPath, r.HTTPMethod]).sort()).toEqual(expected.sort());
    for (const r of untraced) {
      expect(r).toMatchObject({ ReservoirSize: 0, ServiceType: 'AWS::ApiGateway::Stage', ResourceARN: base?.ResourceARN });
      expect(Number(r.Priority)).toBeLessThan(Number(base?.Priority));
    }
  });
});

describe('prod: per-source IP allow-list', () => {
  it('WAF refuses the orders path unless the client is in its allow-list', () => {
    const ipSet = Object.entries(resources(templates.prod, 'AWS::WAFv2::IPSet'));
    expect(ipSet).toHaveLength(1);
    expect(ipSet[0][1].Properties).toMatchObject({ Addresses: ['198.51.100.0/24'], IPAddressVersion: 'IPV4' });
    templates.prod.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({
          Action: { Count: {} },
          RuleLabels: [{ Name: REFUSED_LABEL }],
          Statement: {
            AndStatement: {
              Statements: [
                Match.objectLike({ RegexMatchStatement: Match.objectLike({ RegexString: '/webhooks/orders/?$' }) }),
                { NotStatement: { Statement: { IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': [ipSet[0][0], 'Arn'] } } } } },
              ],
            },
          },
        }),
      ]),
    });
  });
});

describe.each(ENVS)('%s: naming', (env) => {
  it('no hard-coded physical names except the two the services dictate', () => {
    const nameProps = /^(TableName|QueueName|BucketName|FunctionName|TopicName|RoleName|ManagedPolicyName|LogGroupName|Name|DashboardName|AlarmName|KeyAlias)$/;
    const named: string[] = [];
    for (const [id, r] of Object.entries(templates[env].toJSON().Resources as Record<string, CfnResource>)) {
      for (const [prop, value] of Object.entries(r.Properties ?? {})) {
        // A literal (string or Fn::Join of literals) names the resource; a Ref/GetAtt only points at one.
        const literal = typeof value === 'string' || (typeof value === 'object' && value !== null && 'Fn::Join' in value);
        if (literal && nameProps.test(prop) && !(r.Type === 'AWS::ApiGateway::RestApi' && prop === 'Name')) named.push(`${r.Type} ${id} ${prop}`);
      }
    }
    expect(named.sort()).toEqual(
      [
        `AWS::Logs::LogGroup ${logicalId(stacks[env], stacks[env].firewall.logGroup)} LogGroupName`,
        `AWS::Logs::LogGroup ${logicalId(stacks[env], stacks[env].ingress.executionLogGroup)} LogGroupName`,
      ].sort(),
    );
  });

  it('an unknown source gets a 404, not API Gateway\'s 403', () => {
    templates[env].hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'MISSING_AUTHENTICATION_TOKEN', StatusCode: '404' });
  });
});

describe.each(ENVS)('%s: shared resources', (env) => {
  it('the dedupe table is keyed on id, on demand, expires on expiration, has PITR and the stack key', () => {
    templates[env].hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn(env) },
    });
  });

  it('the payload bucket is KMS-encrypted with the stack key, private, TLS-only, logged and expires objects only after a DLQ redrive', () => {
    const bucketId = logicalId(stacks[env], stacks[env].payloads.bucket);
    const bucket = resources(templates[env], 'AWS::S3::Bucket')[bucketId];
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn(env) } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(stacks[env], stacks[env].payloads.accessLogsBucket) } },
      LifecycleConfiguration: { Rules: expect.arrayContaining([expect.objectContaining({ ExpirationInDays: MIN_PAYLOAD_EXPIRATION_DAYS, Status: 'Enabled' })]) },
    });
    templates[env].hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('the on-call topic is encrypted with the stack key, TLS-only and mails the configured address', () => {
    const topicId = logicalId(stacks[env], stacks[env].onCall.topic);
    templates[env].hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn(env) });
    templates[env].hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    templates[env].hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: shippedConfig(env).alarms?.email, TopicArn: { Ref: topicId } });
  });

  it('the dashboard shows every source', () => {
    const dashboard = Object.values(resources(templates[env], 'AWS::CloudWatch::Dashboard'))[0];
    const body = JSON.stringify(dashboard.Properties?.DashboardBody);
    for (const cell of stacks[env].cells) expect(body).toContain(`\\"source\\",\\"${cell.sourceName}\\"`);
    for (const title of ['Accepted by source', 'Duplicates by source', 'Rejected by source', 'Signature failures by source', 'Queue depth', 'Oldest message age', 'DLQ depth', 'WAF blocked requests']) {
      expect(body).toContain(title);
    }
  });
});

describe('retention', () => {
  const stateful = ['AWS::DynamoDB::Table', 'AWS::KMS::Key', 'AWS::SQS::Queue', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup'];

  it('prod retains the table and dev destroys it', () => {
    templates.prod.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ DeletionProtectionEnabled: true }) });
    templates.dev.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ DeletionProtectionEnabled: false }) });
  });

  it.each(stateful)('prod retains every %s and dev deletes it', (type) => {
    for (const r of Object.values(resources(templates.prod, type))) expect(r.DeletionPolicy).toBe('Retain');
    // The audit log is retained whatever the config says (operator-roles.test.ts).
    const audit = logicalId(stacks.dev, stacks.dev.hookgate.audit.logGroup);
    const dev = Object.entries(resources(templates.dev, type)).filter(([id]) => id !== audit);
    expect(dev.length).toBeGreaterThan(0);
    for (const [, r] of dev) expect(r.DeletionPolicy).toBe('Delete');
  });
});

describe('network', () => {
  it('prod functions run in isolated subnets reaching AWS through endpoints, with no NAT or internet gateway', () => {
    const prod = templates.prod;
    prod.resourceCountIs('AWS::EC2::NatGateway', 0);
    prod.resourceCountIs('AWS::EC2::InternetGateway', 0);
    for (const fn of Object.values(resources(prod, 'AWS::Lambda::Function'))) {
      expect(fn.Properties?.VpcConfig).toMatchObject({ SubnetIds: expect.any(Array), SecurityGroupIds: expect.any(Array) });
    }
    const endpoints = Object.values(resources(prod, 'AWS::EC2::VPCEndpoint')).map((e) => JSON.stringify(e.Properties?.ServiceName));
    for (const service of ['dynamodb', 's3', 'sqs', 'kms', 'secretsmanager', 'logs', 'monitoring', 'xray']) {
      expect(endpoints).toContainEqual(expect.stringContaining(`.${service}`));
    }
    prod.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', ResourceType: 'VPC' });
  });

  it('dev (vpc: false) creates no VPC', () => {
    templates.dev.resourceCountIs('AWS::EC2::VPC', 0);
  });
});

describe.each(ENVS)('%s: alarms', (env) => {
  const alarmsOf = (): CfnResource[] => Object.values(resources(templates[env], 'AWS::CloudWatch::Alarm'));
  const topicRef = (): unknown => ({ Ref: logicalId(stacks[env], stacks[env].onCall.topic) });

  it('every alarm but the WAF volume one notifies on-call, and each names a runbook entry that exists', () => {
    const runbook = readFileSync(join(ROOT, 'docs', 'runbook.md'), 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    const volume = logicalId(stacks[env], stacks[env].edgeAlarms.wafBlocks);
    for (const [id, alarm] of Object.entries(resources(templates[env], 'AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties?.AlarmActions).toEqual(id === volume ? undefined : [topicRef()]);
      const entry = /Runbook: docs\/runbook\.md#([a-z0-9-]+)$/.exec(alarm.Properties?.AlarmDescription as string);
      expect(entry).not.toBeNull();
      expect(anchors).toContain(entry?.[1]);
    }
    for (const anchor of Object.values(RUNBOOK)) expect(anchors).toContain(anchor.split('#')[1]);
  });

  it('every source has a DLQ depth alarm wired to the on-call topic', () => {
    for (const cell of stacks[env].cells) {
      const dlq = cell.queues.deadLetterQueue;
      const alarm = alarmsOf().find((a) =>
        JSON.stringify(a.Properties?.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stacks[env], dlq), 'QueueName'] } }]),
      );
      expect(alarm?.Properties).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [topicRef()],
      });
    }
  });

  it('signature failure alarms watch exactly the namespace and dimensions the functions emit', () => {
    const sources = namedSources(shippedConfig(env));
    for (const source of sources) {
      templates[env].hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: `${METRICS.namespacePrefix}/${env}`,
        MetricName: METRICS.signatureFailures,
        Dimensions: [
          { Name: 'service', Value: METRICS.service },
          { Name: 'source', Value: source.name },
        ],
        Threshold: source.signatureFailureThreshold ?? 20,
        AlarmActions: [topicRef()],
      });
    }
  });

  it('each source pages on-call at the first secret configuration error, on the metric and dimensions the verifier emits', () => {
    for (const source of namedSources(shippedConfig(env))) {
      templates[env].hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: `${METRICS.namespacePrefix}/${env}`,
        MetricName: 'SecretConfigurationErrors',
        Dimensions: [
          { Name: 'service', Value: METRICS.service },
          { Name: 'source', Value: source.name },
        ],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [topicRef()],
        AlarmDescription: Match.stringLikeRegexp('Runbook: docs/runbook\\.md#secret-configuration$'),
      });
    }
  });

  it('each source alarms on verifier errors and throttles, processor failures and message age', () => {
    const config = shippedConfig(env);
    for (const cell of stacks[env].cells) {
      const a = cell.alarms;
      for (const alarm of a.all) expect(alarm.node.defaultChild).toBeDefined();
      const byId = (alarm: { node: { defaultChild?: unknown } }): CfnResource => resources(templates[env], 'AWS::CloudWatch::Alarm')[logicalId(stacks[env], alarm)];
      expect(byId(a.verifierErrors).Properties).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda' });
      expect(byId(a.verifierThrottles).Properties).toMatchObject({ MetricName: 'Throttles', Namespace: 'AWS/Lambda' });
      expect(JSON.stringify(byId(a.processorErrors).Properties?.Metrics)).toContain(METRICS.processingFailures);
      expect(byId(a.oldestMessageAge).Properties).toMatchObject({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Threshold: config.alarms?.queueAgeSeconds ?? 300,
      });
    }
  });

  it('the API alarms on 5XX and p99 latency, and WAF on blocked requests', () => {
    const config = shippedConfig(env);
    templates[env].hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5XXError', Namespace: 'AWS/ApiGateway', Threshold: config.alarms?.api5xxCount ?? 5 });
    templates[env].hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Latency', ExtendedStatistic: 'p99', Threshold: config.alarms?.apiLatencyP99Ms ?? 2000 });
    templates[env].hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'BlockedRequests', Namespace: 'AWS/WAFV2', Threshold: config.alarms?.wafBlockedCount ?? 500 });
  });
});

describe.each(ENVS)('%s: compliance', (env) => {
  it.each([
    ['AWS Solutions', (): AwsSolutionsChecks => new AwsSolutionsChecks()],
    ['HIPAA Security', (): HIPAASecurityChecks => new HIPAASecurityChecks()],
  ])('cdk-nag %s finds nothing unacknowledged', (_name, pack) => {
    const result = pack().validateScope(stacks[env]);
    expect(result.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });
});

describe('template shape', () => {
  it('matches the reviewed resource inventory (normalized snapshot of dev)', () => {
    const shape = Object.entries(templates.dev.toJSON().Resources as Record<string, CfnResource>)
      .map(([id, r]) => `${r.Type} ${id.replace(/[0-9a-f]{32,}$/, '').replace(/[0-9A-F]{8}$/, '')}`) // hashes churn
      .sort();
    expect(shape).toMatchSnapshot();
  });
});

describe('config values reach the template', () => {
  let custom: { stack: HookgateStack; template: Template };

  beforeAll(() => {
    custom = synthConfig('staging', {
      sources: {
        partner: {
          provider: 'hmac',
          secretName: 'hookgate/staging/partner',
          hmac: { header: 'X-Partner-Signature' },
          maxReceiveCount: 3,
          batchSize: 4,
          maxConcurrency: 7,
          processorTimeoutSeconds: 120,
          signatureFailureThreshold: 50,
          allowedIps: ['192.0.2.0/24', '2001:db8::/32'],
        },
      },
      alarms: { email: 'oncall@example.com', functionErrorCount: 3, api5xxCount: 9, wafBlockedCount: 77 },
      logRetentionDays: 90,
      retain: false,
    });
  }, 60_000);

  it('per-source queue, batch and timeout settings come from config', () => {
    const { stack, template } = custom;
    const cell = stack.cells[0];
    const queue = resources(template, 'AWS::SQS::Queue')[logicalId(stack, cell.queues.queue)];
    // Six processor timeouts plus the archive's batching window (1 s).
    expect(queue.Properties).toMatchObject({ VisibilityTimeout: 6 * 120 + 1, RedrivePolicy: { maxReceiveCount: 3 } });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 4, ScalingConfig: { MaximumConcurrency: 7 } });
    const processor = resources(template, 'AWS::Lambda::Function')[logicalId(stack, cell.processor.function)];
    expect(processor.Properties?.Timeout).toBe(120);
  });

  it('alarm thresholds come from config', () => {
    const { stack, template } = custom;
    const alarm = (a: { node: { defaultChild?: unknown } }): CfnResource => resources(template, 'AWS::CloudWatch::Alarm')[logicalId(stack, a)];
    expect(alarm(stack.cells[0].alarms.signatureFailures).Properties?.Threshold).toBe(50);
    expect(alarm(stack.cells[0].alarms.verifierErrors).Properties?.Threshold).toBe(3);
    expect(alarm(stack.cells[0].alarms.processorErrors).Properties?.Threshold).toBe(3);
    expect(alarm(stack.edgeAlarms.api5xx).Properties?.Threshold).toBe(9);
    expect(alarm(stack.edgeAlarms.wafBlocks).Properties?.Threshold).toBe(77);
  });

  it('an allow-list with IPv4 and IPv6 ranges accepts either', () => {
    const { template } = custom;
    const sets = Object.entries(resources(template, 'AWS::WAFv2::IPSet'));
    expect(sets.map(([, s]) => s.Properties?.IPAddressVersion).sort()).toEqual(['IPV4', 'IPV6']);
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'AllowList-partner',
          Statement: {
            AndStatement: {
              Statements: Match.arrayWith([
                { NotStatement: { Statement: { OrStatement: { Statements: sets.map(([id]) => ({ IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': [id, 'Arn'] } } })) } } } },
              ]),
            },
          },
        }),
      ]),
    });
  });

  it('a custom HMAC header is redacted from WAF logs (lowercased)', () => {
    const logging = Object.values(resources(custom.template, 'AWS::WAFv2::LoggingConfiguration'))[0];
    expect(logging.Properties?.RedactedFields).toContainEqual({ SingleHeader: { Name: 'x-partner-signature' } });
  });

  it('log retention comes from config (the audit log has its own: audit.retentionDays)', () => {
    for (const group of operationalLogGroups(custom.stack, custom.template)) {
      expect(group.Properties?.RetentionInDays).toBe(90);
    }
  });
});

/** Every log group but the command's audit log (its retention and removal are its own). */
function operationalLogGroups(stack: HookgateStack, template: Template): CfnResource[] {
  const audit = logicalId(stack, stack.hookgate.audit.logGroup);
  return Object.entries(resources(template, 'AWS::Logs::LogGroup'))
    .filter(([id]) => id !== audit)
    .map(([, group]) => group);
}
