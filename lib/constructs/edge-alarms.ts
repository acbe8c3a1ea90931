import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { RUNBOOK, type RunbookEntry } from '../runbook';
import type { OnCallTopic } from './on-call-topic';

/** Props of {@link EdgeAlarms}. */
export interface EdgeAlarmsProps {
  readonly stage: apigateway.Stage;
  /** Name of the web ACL (its metrics' `WebACL` dimension). */
  readonly webAclName: string;
  readonly onCall: OnCallTopic;
  /** 5XX answers per 5 minutes (the config's alarms.api5xxCount; defaults in lambda/config/schema.ts). */
  readonly api5xxCount: number;
  /** p99 latency over 5 minutes, ms (the config's alarms.apiLatencyP99Ms). */
  readonly apiLatencyP99Ms: number;
  /** Blocked requests per 5 minutes (the config's alarms.wafBlockedCount). */
  readonly wafBlockedCount: number;
}

const FIVE_MINUTES = Duration.minutes(5);

/** WAF blocks of one web ACL, all rules. */
export function wafBlockedRequests(webAclName: string, scope: Construct): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/WAFV2',
    metricName: 'BlockedRequests',
    dimensionsMap: { WebACL: webAclName, Region: Stack.of(scope).region, Rule: 'ALL' },
    statistic: cloudwatch.Stats.SUM,
    period: FIVE_MINUTES,
  });
}

/** Alarms on the API stage and the web ACL, wired to on-call. */
export class EdgeAlarms extends Construct {
  public readonly api5xx: cloudwatch.Alarm;
  public readonly apiLatencyP99: cloudwatch.Alarm;
  public readonly wafBlocks: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: EdgeAlarmsProps) {
    super(scope, id);
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, threshold: number, what: string, runbook: RunbookEntry): cloudwatch.Alarm =>
      props.onCall.alarm(this, alarmId, { metric, threshold, description: `hookgate API: ${what}`, runbook });
    this.api5xx = alarm(
      'Api5xx',
      props.stage.metricServerError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      props.api5xxCount,
      '5XX answers (events not accepted; providers retry)',
      RUNBOOK.api5xx,
    );
    this.apiLatencyP99 = alarm(
      'ApiLatencyP99',
      props.stage.metricLatency({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(99) }),
      props.apiLatencyP99Ms,
      'p99 latency is high (providers time out and retry)',
      RUNBOOK.apiLatency,
    );
    this.wafBlocks = alarm(
      'WafBlocks',
      wafBlockedRequests(props.webAclName, this),
      props.wafBlockedCount,
      'WAF blocked many requests (an attack, or a provider caught by a rule)',
      RUNBOOK.wafBlocks,
    );
  }
}
