import { failureOf, CommandError, UsageError } from '../../cli/errors';
import { table } from '../../cli/output';
import { resourcesFromOutputs, stackNameOf } from '../../cli/targets/aws';
import { parseRange, parseTime } from '../../cli/time';
import { CircuitStoreError } from '../../lambda/delivery/circuit';
import { RESOURCES_OUTPUT, SOURCE_OUTPUT_PREFIX } from '../../lib/stack-outputs';

const NOW = new Date('2026-12-01T12:00:00.000Z');

describe('times', () => {
  it.each([
    ['30s', '2026-12-01T11:59:30.000Z'],
    ['30m', '2026-12-01T11:30:00.000Z'],
    ['2h', '2026-12-01T10:00:00.000Z'],
    ['1d', '2026-11-30T12:00:00.000Z'],
    ['1w', '2026-11-24T12:00:00.000Z'],
    ['2026-11-30', '2026-11-30T00:00:00.000Z'],
    ['2026-11-30T08:15', '2026-11-30T08:15:00.000Z'],
    ['2026-11-30T08:15:30Z', '2026-11-30T08:15:30.000Z'],
    ['2026-11-30T08:15:30.250+02:00', '2026-11-30T06:15:30.250Z'],
  ])('%s is %s', (value, iso) => {
    expect(parseTime(value, NOW, '--since').toISOString()).toBe(iso);
  });

  it.each(['yesterday', '2h ago', '-2h', '2', 'h', '2026-13-45', '2026-11-30T25:00Z', ''])('%j is a usage error naming the flag', (value) => {
    expect(() => parseTime(value, NOW, '--until')).toThrow(UsageError);
    expect(() => parseTime(value, NOW, '--until')).toThrow(/^--until must be a relative time/);
  });

  it('a range: until defaults to now; since after until is a usage error', () => {
    expect(parseRange({ since: '2h' }, NOW)).toEqual({ since: new Date('2026-12-01T10:00:00.000Z'), until: NOW });
    expect(parseRange({}, NOW)).toEqual({ until: NOW });
    expect(() => parseRange({ since: '1h', until: '2h' }, NOW)).toThrow(/--since \(2026-12-01T11:00:00.000Z\) is after --until \(2026-12-01T10:00:00.000Z\)/);
  });
});

describe('failures', () => {
  const aws = (name: string, status: number): Error => Object.assign(new Error('User: arn:aws:iam::1:user/x is not authorized to perform: sqs:ReceiveMessage on resource: arn:aws:sqs:...'), { name, $metadata: { httpStatusCode: status } });

  it('a usage error exits 2 with its message', () => {
    expect(failureOf(new UsageError('--since must be...'))).toEqual({ code: 2, message: '--since must be...' });
  });

  it('access denied, also wrapped as a cause, is one clear line (exit 1) that does not quote the AWS message', () => {
    for (const err of [aws('AccessDeniedException', 400), aws('AccessDenied', 403), new CircuitStoreError({ cause: aws('AccessDeniedException', 400) })]) {
      const failure = failureOf(err);
      expect(failure.code).toBe(1);
      expect(failure.message).toMatch(/^access denied \(AccessDenied(Exception)?\): your AWS identity lacks a permission this command needs; attach the stack's hookgate viewer or operator policy/);
      expect(failure.message).not.toContain('arn:');
    }
  });

  it('missing credentials, command errors and anything else are exit 1, first line only', () => {
    expect(failureOf(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })).message).toMatch(/^no AWS credentials found/);
    expect(failureOf(new CommandError('unknown source "x"\nsecond line'))).toEqual({ code: 1, message: 'unknown source "x"' });
    expect(failureOf(new CircuitStoreError({ cause: Object.assign(new Error('boom'), { name: 'ResourceNotFoundException' }) }))).toEqual({ code: 1, message: 'CircuitStoreError: the circuit breaker state could not be used (ResourceNotFoundException)' });
  });
});

describe('tables', () => {
  it('pads columns to the widest cell, upper-cases headers, and prints absent cells as -', () => {
    expect(table(['key', 'n', 'why'], [['stripe:evt_1', 1, undefined], ['x', 12345, 'because']])).toBe('KEY           N      WHY\nstripe:evt_1  1      -\nx             12345  because\n');
  });
});

describe('stack outputs', () => {
  const outputs = [
    { OutputKey: 'WebhooksUrl', OutputValue: 'https://example/webhooks' },
    { OutputKey: RESOURCES_OUTPUT, OutputValue: JSON.stringify({ environment: 'prod', auditLogGroup: 'g', payloadBucket: 'b', deliveryTable: 't', archiveBucket: 'a', keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/k' }) },
    { OutputKey: `${SOURCE_OUTPUT_PREFIX}1`, OutputValue: JSON.stringify({ source: 'github', queueUrl: 'q2', dlqUrl: 'd2', destinations: {} }) },
    { OutputKey: `${SOURCE_OUTPUT_PREFIX}0`, OutputValue: JSON.stringify({ source: 'stripe', queueUrl: 'q1', dlqUrl: 'd1', destinations: { billing: { queueUrl: 'q3', dlqUrl: 'd3' } } }) },
  ];

  it('the stack of an environment is hookgate-<env>; sources come back in config order', () => {
    expect(stackNameOf('prod')).toBe('hookgate-prod');
    const resources = resourcesFromOutputs('hookgate-prod', outputs);
    expect(resources).toEqual({
      environment: 'prod',
      payloadBucket: 'b',
      deliveryTable: 't',
      archiveBucket: 'a',
      keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/k',
      sources: [
        { source: 'stripe', queueUrl: 'q1', dlqUrl: 'd1', destinations: { billing: { queueUrl: 'q3', dlqUrl: 'd3' } } },
        { source: 'github', queueUrl: 'q2', dlqUrl: 'd2', destinations: {} },
      ],
    });
  });

  it('a stack without the command outputs, or with a broken one, is a clear runtime error', () => {
    expect(() => resourcesFromOutputs('hookgate-old', outputs.slice(0, 1))).toThrow(new CommandError("stack hookgate-old has no HookgateResources output: deploy a hookgate version with the command's outputs"));
    expect(() => resourcesFromOutputs('hookgate-x', [...outputs, { OutputKey: `${SOURCE_OUTPUT_PREFIX}2`, OutputValue: '{' }])).toThrow(/output HookgateSource2 is not valid JSON/);
  });
});
