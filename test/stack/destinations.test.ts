import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { type DestinationConfigInput, publicDestination } from '../../lambda/config/destinations';
import type { EnvironmentConfigInput, SourceConfigInput } from '../../lambda/config/schema';
import { CONTEXT_PURPOSE, CONTEXT_SOURCE, PURPOSE } from '../../lambda/ingest/envelope';
import { ENV } from '../../lambda/runtime/env';
import { METRICS } from '../../lambda/runtime/telemetry';
import { bodyKey, idKey } from '../../lambda/signatures/dedupe-key';
import { newHookgateApp } from '../../lib/app';
import { circuitKey as circuitItemKey } from '../../lambda/delivery/circuit';
import { FunctionRole } from '../../lib/constructs/function-role';
import { DELIVERY_MAX_RECEIVE_COUNT, DELIVERY_MEMORY_MB, type DestinationCell, deliveryTimeoutSeconds, payloadExpirationDays } from '../../lib/constructs/destination-cell';
import { MIN_PAYLOAD_EXPIRATION_DAYS } from '../../lib/constructs/payload-bucket';
import { lambdaEntry } from '../../lib/constructs/lambda-entry';
import { HookgateStack } from '../../lib/hookgate-stack';
import { namedSource } from '../../lambda/config/schema';
import { ROOT, asArray, iamLike, identityStatements, logicalId, resources, roleStatements, type CfnResource, type Statement } from './helpers';

// The CDK side of destinations: each destination's queue, DLQ, function, role, alarms; the
// source's fan-out; the network options. Template assertions only: the code is not bundled.

const FIXTURES = join(__dirname, 'fixtures');
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:their-handler`;

const BILLING: DestinationConfigInput = {
  type: 'http',
  url: 'https://billing.internal.example/hooks',
  secretName: 'hookgate/staging/out/billing',
  events: ['payment_intent.*'],
  allowPrivateNetwork: true,
};
const AUDIT: DestinationConfigInput = { type: 'http', url: 'https://audit.example.com:8443/in', secretName: 'hookgate/staging/out/audit', batchSize: 5, timeoutSeconds: 30, maxInFlight: 3 };
const stripe: SourceConfigInput = {
  provider: 'stripe',
  secretName: 'hookgate/staging/stripe',
  destinations: {
    billing: BILLING,
    audit: AUDIT,
    ehr: { type: 'lambda', entry: 'ehr-handlers.ts', maxReceiveCount: 7 },
    theirs: { type: 'lambda', functionArn: FUNCTION_ARN },
    bus: { type: 'eventbridge', busName: 'clinical-events' },
  },
};
const github: SourceConfigInput = { provider: 'github', secretName: 'hookgate/staging/github' };

function config(extra: Partial<EnvironmentConfigInput> = {}, sources: EnvironmentConfigInput['sources'] = { stripe, github }): EnvironmentConfigInput {
  return { sources, alarms: { email: 'oncall@example.com' }, retain: false, ...extra };
}

/** Synthesizes a staging stack (no bundling); `extend` adds to it before the template is made. */
function synth(input: EnvironmentConfigInput, extend: (stack: HookgateStack) => void = () => undefined): { stack: HookgateStack; template: Template } {
  const app = newHookgateApp({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new HookgateStack(app, 'hookgate-staging', { environmentName: 'staging', config: input, configBaseDir: FIXTURES, env: { account: ACCOUNT, region: REGION } });
  extend(stack);
  return { stack, template: Template.fromStack(stack) };
}

/** Builds a value on first use, then shares it (one synthesis per stack variant in this suite). */
function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

const BUS_ARN = `arn:aws:events:${REGION}:999999999999:event-bus/shared`;
const EXISTING_VPC = { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'] };

/** Outside a VPC, history kept 90 days, a bus by ARN, and a consumer of its by-reference bodies. */
const elsewhere = once(() => {
  let consumer: FunctionRole | undefined;
  const built = synth(
    config({ vpc: false, deliveryHistoryDays: 90 }, { stripe: { ...stripe, destinations: { bus: { type: 'eventbridge', busName: BUS_ARN }, hooks: { type: 'http', url: 'https://x.example.com/', secretName: 'n' } } } }),
    (stack) => {
      // A consumer function's role, as hookgate builds them (one managed policy, no inline one).
      consumer = new FunctionRole(stack, 'Consumer');
      stack.cells[0].destinations[0].grantReadEventBodies(consumer);
    },
  );
  if (consumer === undefined) throw new Error('consumer not created');
  return { ...built, consumer };
});
/** NAT egress, with only http and bundled destinations (no Lambda or EventBridge endpoint needed). */
const natted = once(() => synth(config({ vpc: true, network: { egress: 'nat' } }, { stripe: { ...stripe, destinations: { billing: BILLING, ehr: { type: 'lambda', entry: 'ehr-handlers.ts' } } }, github })));
/** A team's VPC, AZs known, hookgate's own security groups; one destination on port 8443. */
const existing = once(() =>
  synth(config({ vpc: true, network: { ...EXISTING_VPC, availabilityZones: ['eu-west-1a', 'eu-west-1b'] } }, { stripe: { ...stripe, destinations: { bus: { type: 'eventbridge', busName: 'b' }, audit: AUDIT } } })),
);

const actionsOf = (s: Statement): string[] => asArray(s.Action);
const onKey = (s: Statement): boolean => actionsOf(s).some((a) => a.startsWith('kms:'));
const viaService = (s: Statement): string | undefined => {
  const value = (s.Condition as { StringEquals?: Record<string, unknown> } | undefined)?.StringEquals?.['kms:ViaService'];
  return value === undefined ? undefined : JSON.stringify(value);
};
const leadingKeys = (s: Statement): string[] => asArray((s.Condition as Record<string, Record<string, string | string[]>> | undefined)?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']);
const arnOf = (stack: Stack, construct: { node: { defaultChild?: unknown } }): string => JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, construct), 'Arn'] });

/** A Fn::Join (or a plain string) with each Ref replaced by `<Ref:id>`, so the JSON inside parses. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join === undefined) return `<Ref:${(value as { Ref: string }).Ref}>`;
  return join[1].map(flatten).join(join[0]);
}

let stack: HookgateStack;
let template: Template;
let cells: Record<string, DestinationCell>;

beforeAll(() => {
  ({ stack, template } = synth(config({ vpc: true })));
  cells = Object.fromEntries(stack.cells.flatMap((c) => c.destinations).map((d) => [d.destinationName, d]));
}, 60_000);

const functionOf = (cell: DestinationCell): CfnResource => resources(template, 'AWS::Lambda::Function')[logicalId(stack, cell.delivery.function)];
const variablesOf = (fn: CfnResource): Record<string, unknown> => (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
const rolesOf = (cell: DestinationCell): Statement[] => roleStatements(template, logicalId(stack, cell.delivery.role));
const stripeCell = () => stack.cells.find((c) => c.sourceName === 'stripe');
const githubCell = () => stack.cells.find((c) => c.sourceName === 'github');

describe('each destination has its own queue and DLQ', () => {
  it('a cell per destination of the source, none for a source without destinations', () => {
    expect(Object.keys(cells).sort()).toEqual(['audit', 'billing', 'bus', 'ehr', 'theirs']);
    expect(githubCell()?.destinations).toEqual([]);
  });

  it('both queues are encrypted with the stack key and keep messages 14 days, longer than any retry window', () => {
    const queues = resources(template, 'AWS::SQS::Queue');
    for (const cell of Object.values(cells)) {
      for (const queue of [cell.queues.queue, cell.queues.deadLetterQueue]) {
        expect(queues[logicalId(stack, queue)].Properties).toMatchObject({
          KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, stack.key.key), 'Arn'] },
          MessageRetentionPeriod: 14 * 86_400,
          MaximumMessageSize: 1_048_576,
        });
      }
    }
  });

  it('the delivery engine moves events to the DLQ itself; SQS does after 1000 receives only as a crash safety net, a bundled handler after its maxReceiveCount', () => {
    const queues = resources(template, 'AWS::SQS::Queue');
    for (const [name, cell] of Object.entries(cells)) {
      expect(queues[logicalId(stack, cell.queues.queue)].Properties?.RedrivePolicy).toEqual({
        deadLetterTargetArn: JSON.parse(arnOf(stack, cell.queues.deadLetterQueue)) as unknown,
        maxReceiveCount: name === 'ehr' ? 7 : DELIVERY_MAX_RECEIVE_COUNT,
      });
    }
  });

  it('the visibility timeout is 6x the function timeout, which covers a batch of attempts at their timeout', () => {
    const queues = resources(template, 'AWS::SQS::Queue');
    expect(functionOf(cells.billing).Properties?.Timeout).toBe(10 * (15 + 1) + 10);
    expect(functionOf(cells.audit).Properties?.Timeout).toBe(5 * (30 + 1) + 10);
    for (const cell of Object.values(cells)) {
      const timeout = functionOf(cell).Properties?.Timeout as number;
      expect(timeout).toBe(deliveryTimeoutSeconds(cell.destination));
      expect(queues[logicalId(stack, cell.queues.queue)].Properties?.VisibilityTimeout).toBe(6 * timeout);
    }
  });

  it('a function timeout never exceeds Lambda\'s 15 minutes', () => {
    expect(deliveryTimeoutSeconds({ batchSize: 10, timeoutSeconds: 60 })).toBe(620);
    expect(deliveryTimeoutSeconds({ batchSize: 100, timeoutSeconds: 60 })).toBe(900);
  });

  it('the function reads its queue in batches of batchSize, at most maxInFlight at once, reporting failed items', () => {
    const mappings = Object.values(resources(template, 'AWS::Lambda::EventSourceMapping'));
    for (const cell of Object.values(cells)) {
      const mapping = mappings.filter((m) => JSON.stringify(m.Properties?.FunctionName) === JSON.stringify({ Ref: logicalId(stack, cell.delivery.function) }));
      expect(mapping).toHaveLength(1);
      expect(mapping[0].Properties).toEqual({
        EventSourceArn: JSON.parse(arnOf(stack, cell.queues.queue)) as unknown,
        FunctionName: { Ref: logicalId(stack, cell.delivery.function) },
        BatchSize: cell.destination.batchSize,
        ScalingConfig: { MaximumConcurrency: cell.destination.maxInFlight },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
    expect(cells.audit.destination).toMatchObject({ batchSize: 5, maxInFlight: 3 });
  });
});

describe('the delivery function', () => {
  it('is told its destination without secret values, its table, history days, its own DLQ, the bucket and the key', () => {
    for (const name of ['billing', 'audit', 'theirs', 'bus']) {
      const cell = cells[name];
      const variables = variablesOf(functionOf(cell));
      expect(Object.keys(variables).sort()).toEqual(
        [
          'POWERTOOLS_SERVICE_NAME',
          'POWERTOOLS_METRICS_NAMESPACE',
          'POWERTOOLS_LOG_LEVEL',
          ENV.destination,
          ENV.deliveryTable,
          ENV.deliveryHistoryDays,
          ENV.deadLetterQueueUrl,
          ENV.payloadBucket,
          ENV.keyArn,
          ...(cell.destination.type === 'http' ? [ENV.signingSecretName] : []),
        ].sort(),
      );
      expect(JSON.parse(variables[ENV.destination] as string)).toEqual(JSON.parse(JSON.stringify(publicDestination(cell.destination))));
      expect(variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: METRICS.service,
        POWERTOOLS_METRICS_NAMESPACE: 'Hookgate/staging',
        // Delivered attempts are in the delivery table; logs carry failures only.
        POWERTOOLS_LOG_LEVEL: 'WARN',
        [ENV.deliveryTable]: { Ref: logicalId(stack, stack.deliveries?.table ?? stack.dedupe.table) },
        [ENV.deliveryHistoryDays]: '30',
        [ENV.deadLetterQueueUrl]: { Ref: logicalId(stack, cell.queues.deadLetterQueue) },
      });
    }
    expect(variablesOf(functionOf(cells.billing))[ENV.signingSecretName]).toBe('hookgate/staging/out/billing');
    for (const name of ['billing', 'audit', 'theirs', 'bus']) expect(functionOf(cells[name]).Properties?.MemorySize).toBe(DELIVERY_MEMORY_MB);
  });

  it('never carries a signing secret value, even when the destination config held one', () => {
    const local = publicDestination({ type: 'http', url: 'http://127.0.0.1:4000/', secrets: ['whsec_c2VjcmV0LXZhbHVlLTAxMjM0NTY3'], name: 'r', source: 's' } as Parameters<typeof publicDestination>[0]);
    expect(JSON.stringify(local)).not.toContain('whsec_');
    for (const cell of Object.values(cells)) expect(JSON.stringify(functionOf(cell).Properties?.Environment)).not.toMatch(/whsec_|"secrets"/);
  });

  it('takes deliveryHistoryDays from config', () => {
    const { stack: other, template: otherTemplate } = elsewhere();
    const fn = resources(otherTemplate, 'AWS::Lambda::Function')[logicalId(other, other.cells[0].destinations[0].delivery.function)];
    expect(variablesOf(fn)[ENV.deliveryHistoryDays]).toBe('90');
  });
});

describe('least privilege per destination', () => {
  it('decrypts envelopes only under its own source\'s encryption context, and seals only an eventbridge body stored by reference, under the same context', () => {
    for (const cell of Object.values(cells)) {
      const envelope = rolesOf(cell).filter((s) => onKey(s) && viaService(s) === undefined);
      expect(envelope.flatMap(actionsOf).sort()).toEqual(cell.destination.type === 'eventbridge' ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt']);
      for (const statement of envelope) {
        expect(statement.Condition).toEqual({ StringEquals: { [`kms:EncryptionContext:${CONTEXT_SOURCE}`]: 'stripe', [`kms:EncryptionContext:${CONTEXT_PURPOSE}`]: PURPOSE } });
      }
    }
  });

  it('uses the key otherwise only through SQS, S3 and (the engine) DynamoDB', () => {
    for (const [name, cell] of Object.entries(cells)) {
      const services = rolesOf(cell)
        .filter((s) => onKey(s) && viaService(s) !== undefined)
        .map((s) => /"(sqs|s3|dynamodb)\./.exec(viaService(s) ?? '')?.[1])
        .sort();
      expect(services).toEqual(name === 'ehr' ? ['s3', 'sqs'] : ['dynamodb', 's3', 'sqs']);
      for (const s of rolesOf(cell).filter(onKey)) expect(s.Resource).toEqual(JSON.parse(arnOf(stack, stack.key.key)));
    }
  });

  it('consumes only its own queue and sends only to its own DLQ', () => {
    for (const cell of Object.values(cells)) {
      const sqs = rolesOf(cell).filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
      const send = sqs.filter((s) => actionsOf(s).includes('sqs:SendMessage'));
      expect(send.map((s) => [actionsOf(s), JSON.stringify(s.Resource)])).toEqual([[['sqs:SendMessage'], arnOf(stack, cell.queues.deadLetterQueue)]]);
      for (const s of sqs.filter((x) => !send.includes(x))) expect(JSON.stringify(s.Resource)).toBe(arnOf(stack, cell.queues.queue));
    }
  });

  it('reads payloads only under its source\'s prefix; only an eventbridge destination writes, under <source>/refs/', () => {
    for (const [name, cell] of Object.entries(cells)) {
      const s3 = rolesOf(cell).filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
      const expected = [[['s3:GetObject'], '/stripe/*'], ...(name === 'bus' ? [[['s3:PutObject'], '/stripe/refs/*']] : [])];
      expect(s3.map((s) => [actionsOf(s), (JSON.stringify(s.Resource).match(/"(\/stripe\/[^"]*)"/) ?? [])[1]])).toEqual(expected);
    }
  });

  it('reads only its own signing secret (http), and no other destination reads any secret', () => {
    for (const [name, cell] of Object.entries(cells)) {
      const reads = rolesOf(cell).filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
      if (cell.destination.type !== 'http') {
        expect(reads).toEqual([]);
        continue;
      }
      expect(reads).toHaveLength(1);
      expect(actionsOf(reads[0])).toEqual(['secretsmanager:GetSecretValue']);
      expect(JSON.stringify(reads[0].Resource)).toContain(`:secret:hookgate/staging/out/${name}-??????`);
    }
  });

  it('invokes only its function (lambda with functionArn), and no other role invokes anything', () => {
    for (const [name, cell] of Object.entries(cells)) {
      const invokes = rolesOf(cell).filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')));
      expect(invokes.map((s) => [actionsOf(s), s.Resource])).toEqual(name === 'theirs' ? [[['lambda:InvokeFunction'], FUNCTION_ARN]] : []);
    }
  });

  it('puts events only on its bus (eventbridge), by name in the stack\'s account and region or by ARN', () => {
    for (const [name, cell] of Object.entries(cells)) {
      const puts = rolesOf(cell).filter((s) => actionsOf(s).some((a) => a.startsWith('events:')));
      expect(puts.map((s) => [actionsOf(s), flatten(s.Resource).replace(/<Ref:AWS::Partition>/, 'aws')])).toEqual(
        name === 'bus' ? [[['events:PutEvents'], `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/clinical-events`]] : [],
      );
    }
    const { stack: other, template: otherTemplate } = elsewhere();
    const puts = roleStatements(otherTemplate, logicalId(other, other.cells[0].destinations[0].delivery.role)).filter((s) => actionsOf(s).includes('events:PutEvents'));
    expect(puts.map((s) => s.Resource)).toEqual([BUS_ARN]);
  });

  it('reaches the delivery table only for its circuit item and its source\'s event keys (dynamodb:LeadingKeys)', () => {
    for (const [name, cell] of Object.entries(cells)) {
      const dynamo = rolesOf(cell).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
      if (name === 'ehr') {
        expect(dynamo).toEqual([]);
        continue;
      }
      expect(dynamo).toHaveLength(1);
      expect(JSON.stringify(dynamo[0].Resource)).toBe(arnOf(stack, stack.deliveries?.table ?? stack.dedupe.table));
      const patterns = leadingKeys(dynamo[0]);
      expect(patterns).toEqual([`circuit#stripe/${name}`, 'stripe:*']);
      const allowed = (key: string): boolean => patterns.some((p) => iamLike(p, key));
      expect(allowed(circuitItemKey('stripe', name).pk)).toBe(true);
      expect(allowed(idKey('stripe', 'evt_1'))).toBe(true);
      expect(allowed(bodyKey('stripe', Buffer.from('{}'), 'secret'))).toBe(true);
      for (const other of Object.keys(cells).filter((n) => n !== name)) expect(allowed(circuitItemKey('stripe', other).pk)).toBe(false);
      expect(allowed(circuitItemKey('github', name).pk)).toBe(false);
      expect(allowed(idKey('github', 'evt_1'))).toBe(false);
      expect(allowed(`circuit#stripe/${name}-eu`)).toBe(false);
    }
  });

  it('no destination role touches the dedupe table', () => {
    const dedupe = arnOf(stack, stack.dedupe.table);
    for (const cell of Object.values(cells)) for (const s of rolesOf(cell)) expect(JSON.stringify(s.Resource)).not.toContain(dedupe);
  });

  it('grantReadEventBodies gives a consumer the by-reference bodies of an eventbridge destination, and nothing more', () => {
    const { stack: other, template: otherTemplate, consumer } = elsewhere();
    const hooks = other.cells[0].destinations[1];
    expect(() => hooks.grantReadEventBodies(new iam.Role(new Stack(), 'Other', { assumedBy: new iam.AccountRootPrincipal() }))).toThrow(/stripe\/hooks is not an eventbridge destination/);
    const statements = roleStatements(otherTemplate, logicalId(other, consumer));
    expect(statements.map((s) => [actionsOf(s), flatten(s.Resource).replace(/^<Ref:[^>]+>|^.*Arn.*?(?=\/)/, '')])).toEqual([
      [['s3:GetObject'], expect.stringMatching(/\/stripe\/refs\/\*$/)],
      [['kms:Decrypt'], expect.any(String)],
      [['kms:Decrypt'], expect.any(String)],
    ]);
    expect(statements[1].Condition).toEqual({ StringEquals: { [`kms:EncryptionContext:${CONTEXT_SOURCE}`]: 'stripe', [`kms:EncryptionContext:${CONTEXT_PURPOSE}`]: PURPOSE } });
    expect(JSON.stringify(statements[2].Condition)).toContain('"kms:ViaService":"s3.');
  });
});

describe('a lambda destination with entry', () => {
  it('bundles a generated entry that puts the team\'s handlers behind hookgate\'s processor', () => {
    const path = cells.ehr.handlerEntry ?? '';
    expect(path.startsWith(join(stack.node.root instanceof Stage ? stack.node.root.outdir : '', 'hookgate-entries'))).toBe(true);
    const entry = readFileSync(path, 'utf8');
    expect(entry).toContain(`import { handlers } from ${JSON.stringify(join(FIXTURES, 'ehr-handlers.ts'))};`);
    expect(entry).toContain(`import { createProcessorEntry } from ${JSON.stringify(lambdaEntry('processor', 'entry'))};`);
    expect(entry).toContain('export const handler = createProcessorEntry({ handlers });');
    expect(entry).not.toMatch(/\d{4}-\d{2}-\d{2}|Date|random/);
  });

  it('runs as a processor of its own queue: its source, its destination, its DLQ; no delivery table, no secret', () => {
    const fn = functionOf(cells.ehr);
    const variables = variablesOf(fn);
    expect(fn.Properties?.MemorySize).toBe(256);
    expect(Object.keys(variables).sort()).toEqual(['POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME', ENV.deadLetterQueueUrl, ENV.destination, ENV.keyArn, ENV.payloadBucket, ENV.source].sort());
    expect(JSON.parse(variables[ENV.source] as string)).toMatchObject({ name: 'stripe', provider: 'stripe' });
    expect(JSON.parse(variables[ENV.source] as string)).not.toHaveProperty('destinations');
    expect(rolesOf(cells.ehr).flatMap(actionsOf).filter((a) => /^(secretsmanager|dynamodb|lambda|events):/.test(a))).toEqual([]);
  });

  it('refuses an entry that does not exist, naming the destination', () => {
    expect(() => synth(config({}, { stripe: { ...stripe, destinations: { ehr: { type: 'lambda', entry: 'missing.ts' } } } }))).toThrow(/sources\.stripe\.destinations\.ehr\.entry: .*missing\.ts does not exist/);
  });
});

describe('the source\'s processor fans out', () => {
  it('is told each destination\'s name, event filter and queue URL', () => {
    const processor = resources(template, 'AWS::Lambda::Function')[logicalId(stack, stripeCell()?.processor.function ?? stack)];
    const list = JSON.parse(flatten(variablesOf(processor)[ENV.destinationQueues])) as { name: string; events?: string[]; queueUrl: string }[];
    expect(list).toEqual(
      Object.values(cells).map((cell) => ({
        name: cell.destinationName,
        ...(cell.destination.events === undefined ? {} : { events: cell.destination.events }),
        queueUrl: `<Ref:${logicalId(stack, cell.queues.queue)}>`,
      })),
    );
    expect(list.find((d) => d.name === 'billing')?.events).toEqual(['payment_intent.*']);
  });

  it('may send to exactly those queues, encrypted through SQS, and no longer deletes payloads (its destinations read them)', () => {
    const statements = roleStatements(template, logicalId(stack, stripeCell()?.processor.role ?? stack));
    const sends = statements.filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    const fanOut = sends.find((s) => s.Sid === 'FanOutToDestinations');
    expect(asArray(fanOut?.Resource).map((r) => JSON.stringify(r)).sort()).toEqual(Object.values(cells).map((c) => arnOf(stack, c.queues.queue)).sort());
    expect(sends.filter((s) => s !== fanOut).map((s) => JSON.stringify(s.Resource))).toEqual([arnOf(stack, stripeCell()?.queues.deadLetterQueue ?? stack)]);
    const generate = statements.filter((s) => actionsOf(s).includes('kms:GenerateDataKey'));
    // Through SQS for the copies, through S3 for the archive.
    expect(generate.map(viaService)).toEqual([expect.stringContaining('sqs.'), expect.stringContaining('s3.')]);
    expect(statements.flatMap(actionsOf)).not.toContain('s3:DeleteObject');
  });

  it('a source without destinations is unchanged: same processor environment and role as in a stack without any destination', () => {
    const { stack: plain, template: plainTemplate } = synth(config({ vpc: true }, { stripe: { provider: 'stripe', secretName: 'hookgate/staging/stripe' }, github }));
    const plainGithub = plain.cells.find((c) => c.sourceName === 'github');
    for (const pick of [(c: typeof plainGithub) => c?.processor, (c: typeof plainGithub) => c?.verifier]) {
      const here = pick(githubCell());
      const there = pick(plainGithub);
      if (here === undefined || there === undefined) throw new Error('github cell missing');
      const fnHere = resources(template, 'AWS::Lambda::Function')[logicalId(stack, here.function)];
      expect(variablesOf(fnHere)).toEqual(variablesOf(resources(plainTemplate, 'AWS::Lambda::Function')[logicalId(plain, there.function)]));
      expect(roleStatements(template, logicalId(stack, here.role))).toEqual(roleStatements(plainTemplate, logicalId(plain, there.role)));
    }
    expect(variablesOf(resources(plainTemplate, 'AWS::Lambda::Function')[logicalId(plain, plain.cells[0].processor.function)])).not.toHaveProperty(ENV.destinationQueues);
    expect(plain.deliveries).toBeUndefined();
    expect(Object.values(resources(plainTemplate, 'AWS::DynamoDB::Table'))).toHaveLength(1);
  });
});

describe('shared resources for destinations', () => {
  it('the delivery table is keyed pk/sk, expires on expiresAt, on demand, with PITR and the stack key', () => {
    const table = resources(template, 'AWS::DynamoDB::Table')[logicalId(stack, stack.deliveries?.table ?? stack.dedupe.table)];
    expect(table.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: JSON.parse(arnOf(stack, stack.key.key)) as unknown },
    });
  });

  it('payload objects outlive the longest retry window: the source path, then the destination queue and its DLQ, twice for a redrive', () => {
    const bucket = resources(template, 'AWS::S3::Bucket')[logicalId(stack, stack.payloads.bucket)];
    const days = MIN_PAYLOAD_EXPIRATION_DAYS + 2 * (1 + 1 + 14);
    expect(JSON.stringify(bucket.Properties?.LifecycleConfiguration)).toContain(`"ExpirationInDays":${days}`);
    const longest = payloadExpirationDays([namedSource({ ...stripe, name: 'stripe', destinations: { a: { type: 'eventbridge', busName: 'b', retryWindowHours: 13 * 24 } } })]);
    expect(longest).toBe(MIN_PAYLOAD_EXPIRATION_DAYS + 2 * (13 + 1 + 14));
    expect(payloadExpirationDays([namedSource({ ...github, name: 'github' })])).toBeUndefined();
  });

  it('the dashboard has a row per destination: delivered, failures, DLQ depth, circuit opened', () => {
    const body = JSON.stringify(resources(template, 'AWS::CloudWatch::Dashboard')[logicalId(stack, stack.dashboard.dashboard)].Properties?.DashboardBody);
    for (const name of Object.keys(cells)) {
      for (const what of ['delivered', 'failures', 'DLQ depth', 'circuit opened']) expect(body).toContain(`stripe/${name}: ${what}`);
      expect(body).toContain(`\\"destination\\",\\"${name}\\"`);
    }
  });
});

describe('destination alarms', () => {
  const topicRef = (): unknown => ({ Ref: logicalId(stack, stack.onCall.topic) });
  const alarmOf = (alarm: { node: { defaultChild?: unknown } }): CfnResource => resources(template, 'AWS::CloudWatch::Alarm')[logicalId(stack, alarm)];
  // CloudFormation lists them sorted by name.
  const dimensions = (name: string) => [
    { Name: 'destination', Value: name },
    { Name: 'service', Value: METRICS.service },
    { Name: 'source', Value: 'stripe' },
  ];

  it('every destination pages on DLQ depth, queue age and function errors; the engine on its breaker and rejections; http on 410 and refused addresses', () => {
    const expected: Record<string, number> = { billing: 7, audit: 7, theirs: 5, bus: 5, ehr: 3 };
    for (const [name, cell] of Object.entries(cells)) {
      const a = cell.alarms;
      expect(a.all).toHaveLength(expected[name]);
      for (const alarm of a.all) {
        expect(alarmOf(alarm).Properties).toMatchObject({ AlarmActions: [topicRef()], OKActions: [topicRef()] });
        expect(alarmOf(alarm).Properties?.AlarmDescription).toMatch(new RegExp(`^hookgate destination stripe/${name}: .*Runbook: docs/runbook\\.md#[a-z-]+$`));
      }
      expect(alarmOf(a.deadLetterQueueDepth).Properties).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, cell.queues.deadLetterQueue), 'QueueName'] } }],
        Threshold: 1,
      });
      expect(alarmOf(a.oldestMessageAge).Properties).toMatchObject({
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, cell.queues.queue), 'QueueName'] } }],
        Threshold: 300,
      });
      for (const [alarm, metric] of [
        [a.circuitOpened, METRICS.circuitOpened],
        [a.rejected, METRICS.deliveryRejected],
        [a.gone, METRICS.destinationGone],
        [a.addressRefused, METRICS.addressRefused],
      ] as const) {
        if (alarm === undefined) continue;
        expect(alarmOf(alarm).Properties).toMatchObject({ Namespace: 'Hookgate/staging', MetricName: metric, Dimensions: dimensions(name), Threshold: 1, Statistic: 'Sum' });
      }
    }
    expect(cells.billing.alarms.gone).toBeDefined();
    expect(cells.bus.alarms.gone).toBeUndefined();
    expect(cells.ehr.alarms.circuitOpened).toBeUndefined();
  });

  it('a bundled handler\'s errors include the records it failed, with the destination dimension', () => {
    const metrics = JSON.stringify(alarmOf(cells.ehr.alarms.functionErrors).Properties?.Metrics);
    expect(metrics).toContain(METRICS.processingFailures);
    expect(metrics).toContain('"Name":"destination","Value":"ehr"');
    expect(alarmOf(cells.billing.alarms.functionErrors).Properties).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda' });
  });

  it('every runbook entry an alarm names exists in docs/runbook.md', () => {
    const runbook = readFileSync(join(ROOT, 'docs', 'runbook.md'), 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const alarm of Object.values(resources(template, 'AWS::CloudWatch::Alarm'))) {
      const entry = /Runbook: docs\/runbook\.md#([a-z0-9-]+)$/.exec(alarm.Properties?.AlarmDescription as string);
      expect(anchors).toContain(entry?.[1]);
    }
  });
});

describe('network', () => {
  const subnetsOf = (t: Template, s: HookgateStack, fn: { node: { defaultChild?: unknown } }): string =>
    JSON.stringify((resources(t, 'AWS::Lambda::Function')[logicalId(s, fn)].Properties?.VpcConfig as { SubnetIds: unknown }).SubnetIds);
  const groupsOf = (t: Template, s: HookgateStack, fn: { node: { defaultChild?: unknown } }): unknown =>
    (resources(t, 'AWS::Lambda::Function')[logicalId(s, fn)].Properties?.VpcConfig as { SecurityGroupIds: unknown }).SecurityGroupIds;
  const egressOf = (t: Template, groupId: string): unknown => resources(t, 'AWS::EC2::SecurityGroup')[groupId].Properties?.SecurityGroupEgress;

  it('vpc: true without egress keeps every function in isolated subnets; deliveries get a group allowing only their ports out, which the endpoints accept', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    const stripeCellValue = stripeCell();
    if (stripeCellValue === undefined) throw new Error('stripe cell missing');
    for (const fn of [stripeCellValue.verifier.function, stripeCellValue.processor.function, ...Object.values(cells).map((c) => c.delivery.function)]) {
      expect(subnetsOf(template, stack, fn)).toMatch(/isolatedSubnet1.*isolatedSubnet2/);
    }
    const [group] = groupsOf(template, stack, cells.billing.delivery.function) as [{ 'Fn::GetAtt': [string, string] }];
    expect(egressOf(template, group['Fn::GetAtt'][0])).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 8443, ToPort: 8443 }),
    ]);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 443, SourceSecurityGroupId: group });
  });

  it('adds Lambda and EventBridge endpoints only for the destinations that call them', () => {
    const services = (t: Template): string[] => Object.values(resources(t, 'AWS::EC2::VPCEndpoint')).map((e) => flatten(e.Properties?.ServiceName));
    expect(services(template)).toEqual(expect.arrayContaining([expect.stringMatching(/\.lambda$/), expect.stringMatching(/\.events$/)]));
    expect(services(natted().template).filter((s) => /\.(lambda|events)$/.test(s))).toEqual([]);
  });

  it('egress nat: a NAT gateway, and delivery functions (only) in private subnets with egress', () => {
    const { stack: nat, template: natTemplate } = natted();
    natTemplate.resourceCountIs('AWS::EC2::NatGateway', 1);
    const cell = nat.cells.find((c) => c.sourceName === 'stripe');
    if (cell === undefined) throw new Error('stripe cell missing');
    for (const d of cell.destinations) expect(subnetsOf(natTemplate, nat, d.delivery.function)).toMatch(/egressSubnet1.*egressSubnet2/);
    for (const fn of nat.cells.flatMap((c) => [c.verifier.function, c.processor.function])) expect(subnetsOf(natTemplate, nat, fn)).toMatch(/isolatedSubnet1.*isolatedSubnet2/);
    for (const subnet of Object.values(resources(natTemplate, 'AWS::EC2::Subnet'))) expect(subnet.Properties?.MapPublicIpOnLaunch).toBe(false);
  });

  it('an existing VPC: every function in the given subnets, no VPC created; functions get https out only, deliveries their ports too', () => {
    const network = EXISTING_VPC;
    const { stack: existingStack, template: existingTemplate } = existing();
    existingTemplate.resourceCountIs('AWS::EC2::VPC', 0);
    existingTemplate.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    const ingest = existingStack.cells.flatMap((c) => [c.verifier.function, c.processor.function]);
    const deliveries = existingStack.cells.flatMap((c) => c.destinations.map((d) => d.delivery.function));
    const groupId = (fn: { node: { defaultChild?: unknown } }): string => (groupsOf(existingTemplate, existingStack, fn) as [{ 'Fn::GetAtt': [string, string] }])[0]['Fn::GetAtt'][0];
    for (const fn of [...ingest, ...deliveries]) {
      expect(JSON.parse(subnetsOf(existingTemplate, existingStack, fn))).toEqual(network.subnetIds);
      expect(groupsOf(existingTemplate, existingStack, fn)).toHaveLength(1);
    }
    const port = (p: number) => expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: p, ToPort: p });
    for (const fn of ingest) expect(egressOf(existingTemplate, groupId(fn))).toEqual([port(443)]);
    for (const fn of deliveries) expect(egressOf(existingTemplate, groupId(fn))).toEqual([port(443), port(8443)]);
    for (const [, group] of Object.entries(resources(existingTemplate, 'AWS::EC2::SecurityGroup'))) expect(group.Properties?.VpcId).toBe(network.vpcId);
  });

  it('an existing VPC with its own security groups: every function uses them and hookgate creates none', () => {
    // No AZs either: functions are placed by subnet id alone.
    const network = { ...EXISTING_VPC, securityGroupIds: ['sg-0123456789abcdef0'] };
    const { stack: withGroups, template: existingTemplate } = synth(config({ vpc: true, network }));
    existingTemplate.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    for (const fn of withGroups.cells.flatMap((c) => [c.processor.function, ...c.destinations.map((d) => d.delivery.function)])) {
      expect(groupsOf(existingTemplate, withGroups, fn)).toEqual(['sg-0123456789abcdef0']);
      expect(JSON.parse(subnetsOf(existingTemplate, withGroups, fn))).toEqual(network.subnetIds);
    }
  });
});

describe('compliance with destinations', () => {
  it.each<[string, () => HookgateStack]>([
    ['vpc: false', () => elsewhere().stack],
    ['hookgate\'s isolated VPC', () => stack],
    ['NAT egress', () => natted().stack],
    ['an existing VPC', () => existing().stack],
  ])('cdk-nag AWS Solutions and HIPAA find nothing unacknowledged (%s)', (_what, checked) => {
    for (const pack of [new AwsSolutionsChecks(), new HIPAASecurityChecks()]) {
      const result = pack.validateScope(checked());
      expect(result.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    }
  });

  it('a delivery role\'s only wildcard resources are X-Ray/ENI (\'*\') and its source\'s payload prefixes', () => {
    const statements = identityStatements(template).filter(({ roles }) => Object.values(cells).some((c) => roles.includes(logicalId(stack, c.delivery.role))));
    const wildcards = statements.flatMap(({ statement }) => asArray(statement.Resource).map(flatten)).filter((r) => r.includes('*'));
    expect(wildcards.length).toBeGreaterThan(0);
    for (const r of wildcards) expect(r === '*' || /\/stripe\/(refs\/)?\*$/.test(r)).toBe(true);
  });
});
