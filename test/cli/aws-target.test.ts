import { readCircuit } from '../../lambda/delivery/circuit';
import { RESOURCES_OUTPUT, SOURCE_OUTPUT_PREFIX } from '../../lib/stack-outputs';
import { createQueues, type Emulators, sendEvent, SOURCE, startEmulators, TABLE } from '../delivery/rig';
import { type FakeAws, startFakeAws } from './fake-aws';
import { type FakeLogs, startFakeLogs } from './fake-logs';
import { run } from './harness';

// The deployed path (--env): resources from the stack's outputs (DescribeStacks), the caller from
// STS, metrics from CloudWatch, the audit log in CloudWatch Logs; SQS and DynamoDB are the
// emulators. Every AWS endpoint is pointed at a local server with AWS_ENDPOINT_URL_<SERVICE>.

const GROUP = 'hookgate-staging-Audit';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/HookgateOperator/alice';
const NOW = new Date('2026-12-01T12:00:00.000Z');
const ENV_NAMES = ['AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDWATCH', 'AWS_ENDPOINT_URL_CLOUDWATCH_LOGS', 'AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_PROFILE'];

let emulators: Emulators;
let aws: FakeAws;
let logs: FakeLogs;
const saved: Record<string, string | undefined> = {};
const deps = { now: () => NOW };

beforeAll(async () => {
  [emulators, aws, logs] = await Promise.all([startEmulators(), startFakeAws(), startFakeLogs(GROUP)]);
  const stripe = await createQueues(emulators.sqs);
  const billing = await createQueues(emulators.sqs);
  await sendEvent(emulators.sqs, stripe.dlqUrl, 'evt_dead');
  aws.callerArn = ALICE;
  aws.stacks.set('hookgate-staging', [
    { OutputKey: 'WebhooksUrl', OutputValue: 'https://example.execute-api.eu-west-1.amazonaws.com/prod/webhooks' },
    { OutputKey: RESOURCES_OUTPUT, OutputValue: JSON.stringify({ environment: 'staging', auditLogGroup: GROUP, payloadBucket: 'payloads', deliveryTable: TABLE }) },
    { OutputKey: `${SOURCE_OUTPUT_PREFIX}0`, OutputValue: JSON.stringify({ source: SOURCE, queueUrl: stripe.queueUrl, dlqUrl: stripe.dlqUrl, destinations: { billing: { queueUrl: billing.queueUrl, dlqUrl: billing.dlqUrl } } }) },
  ]);
  aws.deniedStacks.add('hookgate-secret');
  for (const name of ENV_NAMES) saved[name] = process.env[name];
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_CLOUDFORMATION: aws.endpoint,
    AWS_ENDPOINT_URL_STS: aws.endpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH: aws.endpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.endpoint,
    AWS_ENDPOINT_URL_SQS: emulators.endpoints.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
  });
  delete process.env.AWS_PROFILE;
}, 30_000);

afterAll(async () => {
  for (const name of ENV_NAMES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  await Promise.all([emulators?.stop(), aws?.stop(), logs?.stop()]);
});

describe('a deployed environment (--env)', () => {
  it('status: traffic from CloudWatch, depths from SQS, circuits from the delivery table', async () => {
    const hour = Math.floor(NOW.getTime() / 1000) - 1800;
    aws.metrics = { a0: [[hour, 40]], r0: [[hour, 2]], l0: [[hour - 600, 0], [hour, 3]] };
    const r = await run(['status', '--env', 'staging'], deps);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('stack hookgate-staging (us-east-1)');
    expect(r.out).toMatch(new RegExp(`^stripe\\s+40\\s+2\\s+${new Date(hour * 1000).toISOString()}\\s+0\\s+1$`, 'm'));
    expect(r.out).toMatch(/^stripe\/billing\s+closed\s+0\s+0$/m);
    expect(aws.calls).toEqual(expect.arrayContaining(['DescribeStacks', 'GraniteServiceVersion20100801.GetMetricData']));
  });

  it('pause: the audit record goes to CloudWatch Logs under the STS caller, then the destination is paused', async () => {
    const r = await run(['destinations', 'pause', 'stripe/billing', '--reason', 'INC-9', '--env', 'staging', '--json'], deps);
    expect(r.code).toBe(0);
    const stream = logs.streams.get('2026-12-01/arn_aws_sts__123456789012_assumed-role/HookgateOperator/alice');
    expect(stream?.map((e) => JSON.parse(e.message) as unknown)).toEqual([expect.objectContaining({ who: ALICE, action: 'pause', keys: ['stripe/billing'], reason: 'INC-9' })]);
    expect((await readCircuit({ client: emulators.dynamodb, tableName: TABLE }, { source: SOURCE, destination: 'billing' })).state).toBe('paused');
    const audit = await run(['audit', 'list', '--env', 'staging', '--who', 'alice'], deps);
    expect(audit.out).toMatch(/HookgateOperator\/alice\s+pause\s+stripe\/billing\s+INC-9/);
  });

  it('resume is refused, the destination left paused, when CloudWatch Logs denies the audit write', async () => {
    logs.deny.add('PutLogEvents');
    try {
      const r = await run(['destinations', 'resume', 'stripe/billing', '--reason', 'x', '--env', 'staging'], deps);
      expect(r).toEqual({ code: 1, out: '', err: 'hookgate: the audit record could not be written, so nothing was done (access denied: AccessDeniedException)\n' });
      expect((await readCircuit({ client: emulators.dynamodb, tableName: TABLE }, { source: SOURCE, destination: 'billing' })).state).toBe('paused');
    } finally {
      logs.deny.delete('PutLogEvents');
    }
  });

  it('a stack that does not exist, and one the caller may not describe, are one line each, exit 1', async () => {
    expect(await run(['status', '--env', 'nope'], deps)).toEqual({ code: 1, out: '', err: 'hookgate: stack hookgate-nope not found in this account and region (pass --env, --stack, --region or --profile)\n' });
    const denied = await run(['status', '--stack', 'hookgate-secret'], deps);
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/^hookgate: access denied \(AccessDenied\): your AWS identity lacks a permission this command needs; attach the stack's hookgate viewer or operator policy \(docs\/deploy.md\)\n$/);
  });
});
