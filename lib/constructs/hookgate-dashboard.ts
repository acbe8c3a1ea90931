import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { METRICS } from '../../lambda/runtime/telemetry';
import { destinationMetric } from './destination-alarms';
import { wafBlockedRequests } from './edge-alarms';
import type { SourceCell } from './source-cell';

/** Props of {@link HookgateDashboard}. */
export interface HookgateDashboardProps {
  readonly cells: readonly SourceCell[];
  readonly stage: apigateway.Stage;
  readonly webAclName: string;
  /** `Hookgate/<environment>`. */
  readonly metricsNamespace: string;
}

const PERIOD = Duration.minutes(5);

/** One dashboard per environment: traffic, outcomes by source, latency, queues, errors, WAF; a row per destination. */
export class HookgateDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: HookgateDashboardProps) {
    super(scope, id);
    const emf = (metricName: string, source: string, statistic: string = cloudwatch.Stats.SUM): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: props.metricsNamespace,
        metricName,
        dimensionsMap: { service: METRICS.service, [METRICS.sourceDimension]: source },
        statistic,
        period: PERIOD,
        label: source,
      });
    const perSource = (title: string, metricName: string, statistic?: string): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({
        title,
        width: 8,
        left: props.cells.map((cell) => emf(metricName, cellName(cell), statistic)),
      });
    const sum = { period: PERIOD, statistic: cloudwatch.Stats.SUM };
    const max = { period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM };

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API traffic',
        width: 12,
        left: [props.stage.metricCount(sum), props.stage.metricClientError(sum), props.stage.metricServerError(sum)],
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency',
        width: 12,
        left: [
          props.stage.metricLatency({ period: PERIOD, statistic: cloudwatch.Stats.p(50) }),
          props.stage.metricLatency({ period: PERIOD, statistic: cloudwatch.Stats.p(99) }),
          props.stage.metricIntegrationLatency({ period: PERIOD, statistic: cloudwatch.Stats.p(99) }),
        ],
      }),
    );
    this.dashboard.addWidgets(
      perSource('Accepted by source', METRICS.accepted),
      perSource('Duplicates by source', METRICS.duplicate),
      perSource('Rejected by source', METRICS.rejected),
    );
    this.dashboard.addWidgets(
      perSource('Signature failures by source', METRICS.signatureFailures),
      perSource('Verifier latency p99 (ms)', METRICS.verifyLatency, cloudwatch.Stats.p(99)),
      perSource('Downstream failures (503) by source', METRICS.downstreamFailures),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue depth',
        width: 8,
        left: props.cells.map((c) => c.queues.queue.metricApproximateNumberOfMessagesVisible({ ...max, label: cellName(c) })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest message age (s)',
        width: 8,
        left: props.cells.map((c) => c.queues.queue.metricApproximateAgeOfOldestMessage({ ...max, label: cellName(c) })),
      }),
      new cloudwatch.GraphWidget({
        title: 'DLQ depth',
        width: 8,
        left: props.cells.map((c) => c.queues.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...max, label: cellName(c) })),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Verifier errors and throttles',
        width: 8,
        left: props.cells.flatMap((c) => [
          c.verifier.function.metricErrors({ ...sum, label: `${cellName(c)} errors` }),
          c.verifier.function.metricThrottles({ ...sum, label: `${cellName(c)} throttles` }),
        ]),
      }),
      new cloudwatch.GraphWidget({
        title: 'Processor errors and failed records',
        width: 8,
        left: props.cells.flatMap((c) => [
          c.processor.function.metricErrors({ ...sum, label: `${cellName(c)} errors` }),
          emf(METRICS.processingFailures, cellName(c)),
        ]),
      }),
      new cloudwatch.GraphWidget({
        title: 'WAF blocked requests',
        width: 8,
        left: [wafBlockedRequests(props.webAclName, this)],
      }),
    );
    // A row per destination: what got through, what failed, what waits in its DLQ, its breaker.
    for (const cell of props.cells.flatMap((c) => c.destinations)) {
      const names = { metricsNamespace: props.metricsNamespace, sourceName: cell.sourceName, destinationName: cell.destinationName };
      const title = (what: string): string => `${cell.sourceName}/${cell.destinationName}: ${what}`;
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({ title: title('delivered'), width: 6, left: [destinationMetric(names, METRICS.delivered, { label: 'delivered' })] }),
        new cloudwatch.GraphWidget({
          title: title('failures'),
          width: 6,
          left: [
            destinationMetric(names, METRICS.deliveryFailures, { label: 'retried' }),
            destinationMetric(names, METRICS.deliveryRejected, { label: 'rejected' }),
            destinationMetric(names, METRICS.retriesExhausted, { label: 'retries exhausted' }),
          ],
        }),
        new cloudwatch.GraphWidget({ title: title('DLQ depth'), width: 6, left: [cell.queues.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...max, label: 'DLQ' })] }),
        new cloudwatch.GraphWidget({ title: title('circuit opened'), width: 6, left: [destinationMetric(names, METRICS.circuitOpened, { label: 'opened' })] }),
      );
    }
  }
}

function cellName(cell: SourceCell): string {
  return cell.sourceName;
}
