import { Duration } from 'aws-cdk-lib';
import { silenceWindow } from '../../lib/constructs/source-alarms';
import { problemsOf } from '../config/sources';
import { resources, synthConfig } from './helpers';

const sourceWith = (expectEventEvery?: string) => ({
  provider: 'stripe' as const,
  secretName: 'hookgate/test/stripe',
  ...(expectEventEvery === undefined ? {} : { expectEventEvery }),
});

function silenceAlarms(expectEventEvery?: string) {
  const { template } = synthConfig('dev', { sources: { stripe: sourceWith(expectEventEvery), quiet: sourceWith() }, alarms: { email: 'oncall@example.com' } }, { bundle: false });
  return Object.values(resources(template, 'AWS::CloudWatch::Alarm')).filter((a) => a.Properties?.MetricName === 'Accepted');
}

describe('silence alarm (expectEventEvery)', () => {
  it('pages on-call when the source accepts nothing for its window; missing data counts as silence', () => {
    const alarms = silenceAlarms('6h');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      Namespace: 'Hookgate/dev',
      Dimensions: [
        { Name: 'service', Value: 'hookgate' },
        { Name: 'source', Value: 'stripe' },
      ],
      Statistic: 'Sum',
      Period: 6 * 3600,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [expect.anything()],
      OKActions: [expect.anything()],
      AlarmDescription: expect.stringMatching(/^hookgate source stripe: no event accepted for 6 hours .*Runbook: docs\/runbook\.md#source-silent$/),
    });
  });

  it('is absent for a source without expectEventEvery', () => {
    expect(silenceAlarms()).toHaveLength(0);
  });

  it('windows over a day become whole days, each of which must be empty (CloudWatch allows 7 days)', () => {
    expect(silenceWindow(30 * 60)).toEqual({ period: Duration.minutes(30), evaluationPeriods: 1 });
    expect(silenceWindow(86_400)).toEqual({ period: Duration.minutes(1440), evaluationPeriods: 1 });
    expect(silenceWindow(2 * 86_400)).toEqual({ period: Duration.days(1), evaluationPeriods: 2 });
    const alarm = silenceAlarms('3d')[0]?.Properties;
    expect(alarm).toMatchObject({ Period: 86_400, EvaluationPeriods: 3 });
  });

  it.each([
    ['4m', 'must be from 5m to 7d'],
    ['8d', 'must be from 5m to 7d'],
    ['6 hours', 'must be a duration such as 30m, 6h or 2d'],
    ['0h', 'must be a duration such as 30m, 6h or 2d'],
  ])('refuses expectEventEvery %s', (value, message) => {
    expect(problemsOf({ sources: { stripe: sourceWith(value) } }, 'dev')).toEqual([expect.stringContaining(`sources.stripe.expectEventEvery ${message}`)]);
  });
});
