import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS } from '../../lambda/runtime/telemetry';
import { RUNBOOK, type RunbookEntry, runbookLine } from '../runbook';
import type { OnCallTopic } from './on-call-topic';

/** Props of {@link SourceAlarms}. */
export interface SourceAlarmsProps {
  readonly sourceName: string;
  /** `Hookgate/<environment>`, as set in POWERTOOLS_METRICS_NAMESPACE. */
  readonly metricsNamespace: string;
  readonly verifier: lambda.IFunction;
  readonly processor: lambda.IFunction;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly onCall: OnCallTopic;
  /** Signature failures per 5 minutes (the source's signatureFailureThreshold; defaults in lambda/config/schema.ts). */
  readonly signatureFailureThreshold: number;
  /** Verifier or processor errors per 5 minutes (the config's alarms.functionErrorCount). */
  readonly functionErrorCount: number;
  /** Oldest message age on the work queue, seconds (the config's alarms.queueAgeSeconds). */
  readonly queueAgeSeconds: number;
  /** The source's expectEventEvery in seconds: page when no event is accepted for this long. @default no silence alarm */
  readonly expectEventEverySeconds?: number;
}

const ONE_DAY_SECONDS = 86_400;

/**
 * Period and evaluation periods of a silence alarm over `seconds`: one period up to a day
 * (CloudWatch periods are whole minutes), whole days beyond, all of which must be empty. A
 * window of more than a day rounds up to whole days (CloudWatch allows at most 7).
 */
export function silenceWindow(seconds: number): { readonly period: Duration; readonly evaluationPeriods: number } {
  if (seconds <= ONE_DAY_SECONDS) return { period: Duration.minutes(Math.ceil(seconds / 60)), evaluationPeriods: 1 };
  return { period: Duration.days(1), evaluationPeriods: Math.ceil(seconds / ONE_DAY_SECONDS) };
}

const FIVE_MINUTES = Duration.minutes(5);

/** The alarms of one source, each wired to on-call and naming its runbook entry. */
export class SourceAlarms extends Construct {
  public readonly signatureFailures: cloudwatch.Alarm;
  public readonly secretConfiguration: cloudwatch.Alarm;
  public readonly verifierErrors: cloudwatch.Alarm;
  public readonly verifierThrottles: cloudwatch.Alarm;
  public readonly processorErrors: cloudwatch.Alarm;
  public readonly deadLetterQueueDepth: cloudwatch.Alarm;
  public readonly oldestMessageAge: cloudwatch.Alarm;
  /** No accepted event for expectEventEvery: only when the source sets it. */
  public readonly silence?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: SourceAlarmsProps) {
    super(scope, id);
    const name = props.sourceName;
    const errorCount = props.functionErrorCount;
    const emf = (metricName: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: props.metricsNamespace,
        metricName,
        // Exactly the dimensions the functions emit, or the alarm would watch an empty series.
        dimensionsMap: { service: METRICS.service, [METRICS.sourceDimension]: name },
        statistic: cloudwatch.Stats.SUM,
        period: FIVE_MINUTES,
      });
    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      what: string,
      runbook: RunbookEntry,
    ): cloudwatch.Alarm =>
      props.onCall.alarm(this, alarmId, { metric, threshold, description: `hookgate source ${name}: ${what}`, runbook });

    this.signatureFailures = alarm(
      'SignatureFailures',
      emf(METRICS.signatureFailures),
      props.signatureFailureThreshold,
      'signature, token or timestamp failures spiked (wrong secret after a rotation, or someone probing)',
      RUNBOOK.signatureFailures,
    );
    // One is enough: every request of the source gets a 503 until the secret is fixed.
    this.secretConfiguration = alarm(
      'SecretConfigurationErrors',
      emf(METRICS.secretConfigurationErrors),
      1,
      'the secret value in Secrets Manager breaks the secret rules (too short, not base64, empty); every request gets a 503 and the provider retries',
      RUNBOOK.secretConfiguration,
    );
    this.verifierErrors = alarm(
      'VerifierErrors',
      props.verifier.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      errorCount,
      'the verifier function failed (providers got a 5xx and will retry)',
      RUNBOOK.verifierErrors,
    );
    this.verifierThrottles = alarm(
      'VerifierThrottles',
      props.verifier.metricThrottles({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      1,
      'the verifier function was throttled (providers got a 5xx and will retry)',
      RUNBOOK.verifierThrottles,
    );
    // A processor that reports batch item failures returns normally, so Lambda's Errors metric
    // misses them: add the processor's own failure count.
    this.processorErrors = alarm(
      'ProcessorErrors',
      new cloudwatch.MathExpression({
        expression: 'FILL(errors, 0) + FILL(failures, 0)',
        usingMetrics: {
          errors: props.processor.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
          failures: emf(METRICS.processingFailures),
        },
        period: FIVE_MINUTES,
        label: 'processor errors + failed records',
      }),
      errorCount,
      'the processor failed records or crashed (they are retried, then moved to the DLQ)',
      RUNBOOK.processorErrors,
    );
    this.deadLetterQueueDepth = alarm(
      'DeadLetterQueueDepth',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      1,
      'events are waiting in the dead-letter queue and need a redrive',
      RUNBOOK.dlqDepth,
    );
    this.oldestMessageAge = alarm(
      'OldestMessageAge',
      props.queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM }),
      props.queueAgeSeconds,
      'the oldest message on the work queue is getting old (processors are behind or failing)',
      RUNBOOK.queueAge,
    );
    if (props.expectEventEverySeconds !== undefined) {
      const { period, evaluationPeriods } = silenceWindow(props.expectEventEverySeconds);
      this.silence = props.onCall.notify(
        new cloudwatch.Alarm(this, 'Silence', {
          metric: emf(METRICS.accepted).with({ period }),
          threshold: 1,
          evaluationPeriods,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          // The verifier emits Accepted only when it accepts: no data is exactly the silence.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
          alarmDescription: `hookgate source ${name}: no event accepted for ${period.toHumanString()}${evaluationPeriods > 1 ? ` x ${evaluationPeriods}` : ''} (the provider stopped sending, or its requests are refused). ${runbookLine(RUNBOOK.sourceSilent)}`,
        }),
      );
    }
  }

  /** Every alarm of the source. */
  get all(): readonly cloudwatch.Alarm[] {
    return [
      this.signatureFailures,
      this.secretConfiguration,
      this.verifierErrors,
      this.verifierThrottles,
      this.processorErrors,
      this.deadLetterQueueDepth,
      this.oldestMessageAge,
      ...(this.silence === undefined ? [] : [this.silence]),
    ];
  }
}
