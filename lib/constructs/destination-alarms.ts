import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS } from '../../lambda/runtime/telemetry';
import { RUNBOOK, type RunbookEntry } from '../runbook';
import type { OnCallTopic } from './on-call-topic';

/**
 * What reads a destination's queue: the delivery engine for an `http` destination (every engine
 * alarm, plus 410 and the SSRF guard), the engine for a `lambda` function ARN or `eventbridge`
 * bus (circuit, rejections), or a bundled handler (`lambda` with `entry`: a processor).
 */
export type DestinationConsumer = 'http' | 'engine' | 'handler';

/** Props of {@link DestinationAlarms}. */
export interface DestinationAlarmsProps {
  readonly sourceName: string;
  readonly destinationName: string;
  readonly consumer: DestinationConsumer;
  /** `Hookgate/<environment>`, as set in POWERTOOLS_METRICS_NAMESPACE. */
  readonly metricsNamespace: string;
  /** The function reading the destination's queue. */
  readonly function: lambda.IFunction;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly onCall: OnCallTopic;
  /** Function errors per 5 minutes (the config's alarms.functionErrorCount). */
  readonly functionErrorCount: number;
  /** Oldest message age on the destination's queue, seconds (the config's alarms.queueAgeSeconds). */
  readonly queueAgeSeconds: number;
}

const FIVE_MINUTES = Duration.minutes(5);

/** The alarms of one destination, each wired to on-call and naming its runbook entry. */
export class DestinationAlarms extends Construct {
  public readonly deadLetterQueueDepth: cloudwatch.Alarm;
  public readonly oldestMessageAge: cloudwatch.Alarm;
  public readonly functionErrors: cloudwatch.Alarm;
  /** The engine's breaker opened (not for a bundled handler). */
  public readonly circuitOpened?: cloudwatch.Alarm;
  /** The destination refused events for good (not for a bundled handler). */
  public readonly rejected?: cloudwatch.Alarm;
  /** 410 Gone paused the destination (`http` only). */
  public readonly gone?: cloudwatch.Alarm;
  /** The SSRF guard refused the host's addresses (`http` only). */
  public readonly addressRefused?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DestinationAlarmsProps) {
    super(scope, id);
    const name = `${props.sourceName}/${props.destinationName}`;
    const emf = (metricName: string): cloudwatch.Metric => destinationMetric(props, metricName);
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, threshold: number, what: string, runbook: RunbookEntry): cloudwatch.Alarm =>
      props.onCall.alarm(this, alarmId, { metric, threshold, description: `hookgate destination ${name}: ${what}`, runbook });
    const errors = props.function.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM });

    this.deadLetterQueueDepth = alarm(
      'DeadLetterQueueDepth',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
      1,
      'events are waiting in the destination\'s dead-letter queue (refused, retries exhausted or unreachable) and need a redrive',
      RUNBOOK.destinationDlqDepth,
    );
    this.oldestMessageAge = alarm(
      'OldestMessageAge',
      props.queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM }),
      props.queueAgeSeconds,
      'the oldest event waiting for this destination is getting old (the destination is slow, failing, paused or its circuit is open)',
      RUNBOOK.destinationQueueAge,
    );
    // A bundled handler reports failed records as batch item failures, which Lambda's Errors
    // metric misses: add its failure count, emitted with the destination dimension.
    this.functionErrors = alarm(
      'FunctionErrors',
      props.consumer === 'handler'
        ? new cloudwatch.MathExpression({
            expression: 'FILL(errors, 0) + FILL(failures, 0)',
            usingMetrics: { errors, failures: emf(METRICS.processingFailures) },
            period: FIVE_MINUTES,
            label: 'handler errors + failed records',
          })
        : errors,
      props.functionErrorCount,
      'the destination\'s function crashed or timed out (its events are retried)',
      RUNBOOK.deliveryErrors,
    );
    if (props.consumer === 'handler') return;
    this.circuitOpened = alarm(
      'CircuitOpened',
      emf(METRICS.circuitOpened),
      1,
      'the circuit breaker opened: deliveries failed in a row, events wait in the queue until a probe succeeds',
      RUNBOOK.circuitOpened,
    );
    this.rejected = alarm(
      'Rejected',
      emf(METRICS.deliveryRejected),
      1,
      'the destination refused events for good (a 4xx other than 408, 409, 410, 425, 429); they went to the DLQ at once',
      RUNBOOK.deliveryRejected,
    );
    if (props.consumer !== 'http') return;
    this.gone = alarm(
      'Gone',
      emf(METRICS.destinationGone),
      1,
      'the destination answered 410 Gone: it is paused, events wait in its queue until it is resumed',
      RUNBOOK.destinationGone,
    );
    this.addressRefused = alarm(
      'AddressRefused',
      emf(METRICS.addressRefused),
      1,
      'the destination\'s host resolved to a refused address (SSRF guard: metadata, link-local, loopback, private); events went to the DLQ',
      RUNBOOK.addressRefused,
    );
  }

  /** Every alarm of the destination. */
  get all(): readonly cloudwatch.Alarm[] {
    return [this.deadLetterQueueDepth, this.oldestMessageAge, this.functionErrors, this.circuitOpened, this.rejected, this.gone, this.addressRefused].filter(
      (a): a is cloudwatch.Alarm => a !== undefined,
    );
  }
}

/**
 * A delivery metric of one destination, with exactly the dimensions the delivery functions emit:
 * `{ service, source, destination }`.
 */
export function destinationMetric(
  props: { readonly metricsNamespace: string; readonly sourceName: string; readonly destinationName: string },
  metricName: string,
  options: { readonly statistic?: string; readonly label?: string; readonly period?: Duration } = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: props.metricsNamespace,
    metricName,
    dimensionsMap: {
      service: METRICS.service,
      [METRICS.sourceDimension]: props.sourceName,
      [METRICS.destinationDimension]: props.destinationName,
    },
    statistic: options.statistic ?? cloudwatch.Stats.SUM,
    period: options.period ?? FIVE_MINUTES,
    label: options.label,
  });
}
