import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import type { EnvironmentConfigInput } from '../../lambda/config/schema';
import { ENV } from '../../lambda/runtime/env';
import { parseConfig } from '../../lib/config-file';
import { ARCHIVE_ACCESS_LOG_PREFIX } from '../../lib/constructs/archive-bucket';
import type { HookgateStack } from '../../lib/hookgate-stack';
import { asArray, identityStatements, logicalId, resources, type Statement, synthConfig } from './helpers';

// The archive's CDK side: the bucket (KMS, TLS only, lifecycle, optional Object Lock, access
// logs), each source's processor may only add objects under archive/<source>/ and
// index/<source>/, every processor takes the archive's larger batches (a handlers' processor may
// cap its own), the output the CLI reads.

const actionsOf = (s: Statement): string[] => asArray(s.Action);
const http = { type: 'http' as const, url: 'https://billing.example.com/hooks', secretName: 'hookgate/staging/out/billing' };

function config(archive?: EnvironmentConfigInput['archive']): EnvironmentConfigInput {
  return {
    sources: {
      stripe: { provider: 'stripe', secretName: 'hookgate/staging/stripe', destinations: { billing: http } },
      github: { provider: 'github', secretName: 'hookgate/staging/github', batchSize: 5 },
      shopify: { provider: 'shopify', secretName: 'hookgate/staging/shopify' },
    },
    alarms: { email: 'oncall@example.com' },
    retain: false,
    ...(archive === undefined ? {} : { archive }),
  };
}

const built = new Map<string, { stack: HookgateStack; template: Template }>();
function synth(name: string, archive?: EnvironmentConfigInput['archive']): { stack: HookgateStack; template: Template } {
  let got = built.get(name);
  if (got === undefined) {
    got = synthConfig('staging', config(archive), { bundle: false });
    built.set(name, got);
  }
  return got;
}

function archiveBucket({ stack, template }: { stack: HookgateStack; template: Template }): Record<string, unknown> {
  return resources(template, 'AWS::S3::Bucket')[logicalId(stack, stack.hookgate.archive.bucket)]?.Properties as Record<string, unknown>;
}

describe('archive bucket', () => {
  it('encrypts with the stack key (bucket key on), blocks public access, expires after archive.days, logs access', () => {
    const built = synth('default');
    const { stack } = built;
    const bucket = archiveBucket(built);
    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(stack, stack.key.key), 'Arn'] } } }],
    });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect((bucket.LifecycleConfiguration as { Rules: unknown[] }).Rules).toEqual([expect.objectContaining({ ExpirationInDays: 30, Status: 'Enabled' })]);
    expect(bucket.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logicalId(stack, stack.payloads.accessLogsBucket) }, LogFilePrefix: ARCHIVE_ACCESS_LOG_PREFIX });
    expect(bucket.ObjectLockEnabled).toBeUndefined();
    expect(bucket.VersioningConfiguration).toBeUndefined();
  });

  it('expires and locks the index objects as the archive objects: one lifecycle rule with no prefix or tag filter', () => {
    for (const built of [synth('default'), synth('compliance', { objectLock: 'compliance', days: 90 })]) {
      const bucket = archiveBucket(built);
      const rules = (bucket.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
      expect(rules).toHaveLength(1);
      for (const filter of ['Prefix', 'TagFilters', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan']) expect(rules[0]?.[filter]).toBeUndefined();
      // Object Lock's default retention is bucket-wide: it has no filter to miss index/.
      if (bucket.ObjectLockConfiguration !== undefined) expect(Object.keys((bucket.ObjectLockConfiguration as { Rule: object }).Rule)).toEqual(['DefaultRetention']);
    }
  });

  it('refuses every request without TLS', () => {
    const built = synth('default');
    built.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(built.stack, built.stack.hookgate.archive.bucket) },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it.each([
    ['compliance', 'COMPLIANCE'],
    ['governance', 'GOVERNANCE'],
  ] as const)('with objectLock %s: versioning and Object Lock, default retention archive.days', (mode, cfnMode) => {
    const bucket = archiveBucket(synth(mode, { objectLock: mode, days: 90 }));
    expect(bucket.ObjectLockEnabled).toBe(true);
    expect(bucket.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: cfnMode, Days: 90 } } });
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect((bucket.LifecycleConfiguration as { Rules: unknown[] }).Rules).toEqual([expect.objectContaining({ ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 1 } })]);
  });

  it('outputs its name for the hookgate command', () => {
    const built = synth('default');
    built.template.hasOutput('*', { Value: { Ref: logicalId(built.stack, built.stack.hookgate.archive.bucket) } });
    expect(Object.keys(built.template.findOutputs('*')).some((id) => id.includes('ArchiveBucketName'))).toBe(true);
  });

  it.each(['default', 'compliance'])('cdk-nag (AWS Solutions, HIPAA) finds nothing unacknowledged (%s)', (name) => {
    const { stack } = synth(name, name === 'compliance' ? { objectLock: 'compliance', days: 90 } : undefined);
    for (const pack of [new AwsSolutionsChecks(), new HIPAASecurityChecks()]) {
      const result = pack.validateScope(stack);
      expect(result.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    }
  });
});

describe('archive grants and wiring', () => {
  it('each processor may only put objects under archive/<source>/ and index/<source>/, through S3 with the stack key; no other function reaches the bucket', () => {
    const { stack, template } = synth('default');
    const bucketId = logicalId(stack, stack.hookgate.archive.bucket);
    const onArchive = identityStatements(template).filter(({ statement }) => JSON.stringify(statement.Resource).includes(bucketId));
    expect(onArchive.map(({ roles }) => roles).flat().sort()).toEqual(stack.cells.map((cell) => logicalId(stack, cell.processor.role)).sort());
    for (const cell of stack.cells) {
      const mine = onArchive.filter(({ roles }) => roles.includes(logicalId(stack, cell.processor.role)));
      expect(mine).toHaveLength(1);
      expect(actionsOf(mine[0]!.statement)).toEqual(['s3:PutObject']);
      expect(mine[0]!.statement.Resource).toEqual(['archive', 'index'].map((root) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${root}/${cell.sourceName}/*`]] })));
      const generate = identityStatements(template).filter(({ roles, statement }) => roles.includes(logicalId(stack, cell.processor.role)) && statement.Sid === 'ArchiveEncryption');
      expect(generate.map(({ statement }) => JSON.stringify(statement.Condition))).toEqual([expect.stringContaining('"s3."')]);
    }
  });

  it('processors get the bucket name; verifiers and destination functions do not', () => {
    const { stack, template } = synth('default');
    const functions = resources(template, 'AWS::Lambda::Function');
    const variables = (fn: { function: unknown }): Record<string, unknown> =>
      (functions[logicalId(stack, fn.function as { node: { defaultChild?: unknown } })]?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    for (const cell of stack.cells) {
      expect(variables(cell.processor)[ENV.archiveBucket]).toEqual({ Ref: logicalId(stack, stack.hookgate.archive.bucket) });
      expect(variables(cell.verifier)[ENV.archiveBucket]).toBeUndefined();
      for (const destination of cell.destinations) expect(variables(destination.delivery)[ENV.archiveBucket]).toBeUndefined();
    }
  });

  it('every processor takes archive.batchSize within archive.batchWindowSeconds; a handlers\' processor that sets batchSize keeps it, within the window', () => {
    const check = (name: string, archive: EnvironmentConfigInput['archive'], batch: number, window: number): void => {
      const { stack, template } = synth(name, archive);
      const mappings = resources(template, 'AWS::Lambda::EventSourceMapping');
      const of = (source: string): Record<string, unknown> | undefined => {
        const cell = stack.hookgate.sources.get(source);
        return Object.values(mappings).find((m) => JSON.stringify(m.Properties?.FunctionName).includes(logicalId(stack, cell!.processor.function)))?.Properties;
      };
      expect(of('stripe')).toMatchObject({ BatchSize: batch, MaximumBatchingWindowInSeconds: window });
      expect(of('shopify')).toMatchObject({ BatchSize: batch, MaximumBatchingWindowInSeconds: window });
      expect(of('github')).toMatchObject({ BatchSize: 5, MaximumBatchingWindowInSeconds: window });
      // Lambda's advice: the visibility timeout covers six function timeouts and the batching window.
      const queues = resources(template, 'AWS::SQS::Queue');
      const visibility = (source: string): unknown => queues[logicalId(stack, stack.hookgate.sources.get(source)!.queues.queue)]?.Properties?.VisibilityTimeout;
      for (const source of ['stripe', 'shopify', 'github']) expect(visibility(source)).toBe(6 * 30 + window);
    };
    check('default', undefined, 100, 1);
    check('larger', { batchSize: 500, batchWindowSeconds: 5 }, 500, 5);
  });

  it('a batch of 10 or fewer may go without a window: the mapping then has none', () => {
    const { stack, template } = synth('no window', { batchSize: 10, batchWindowSeconds: 0 });
    for (const source of ['stripe', 'shopify', 'github']) {
      const cell = stack.hookgate.sources.get(source);
      const mapping = Object.values(resources(template, 'AWS::Lambda::EventSourceMapping')).find((m) => JSON.stringify(m.Properties?.FunctionName).includes(logicalId(stack, cell!.processor.function)));
      expect(mapping?.Properties?.MaximumBatchingWindowInSeconds).toBeUndefined();
      expect(mapping?.Properties?.BatchSize).toBe(source === 'github' ? 5 : 10);
    }
  });
});

describe('archive config', () => {
  it('defaults to 30 days, no Object Lock, batches of 100 within 1 s; refuses a large batch without a window', () => {
    const sources = { github: { provider: 'github', secrets: ['s'] } };
    expect(parseConfig({ sources }, 'test').archive).toEqual({ days: 30, batchSize: 100, batchWindowSeconds: 1 });
    expect(() => parseConfig({ sources, archive: { batchSize: 50, batchWindowSeconds: 0 } }, 'test')).toThrow(/archive\.batchWindowSeconds must be at least 1 when batchSize is over 10/);
    expect(() => parseConfig({ sources, archive: { objectLock: 'legal' } }, 'test')).toThrow(/archive\.objectLock must be governance or compliance/);
    expect(parseConfig({ sources, archive: { batchSize: 10, batchWindowSeconds: 0 } }, 'test').archive.batchWindowSeconds).toBe(0);
  });
});
