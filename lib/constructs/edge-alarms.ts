import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';
import { RUNBOOK, type RunbookEntry, runbookLine } from '../runbook';
import type { OnCallTopic } from './on-call-topic';
import { REFUSE_SIGNED_RULE } from './webhook-firewall';

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

/**
 * Requests WAF blocked although they carried a provider signature header or query credential
 * (the `RefuseSigned` rule of the web ACL), per minute: each may be a lost delivery.
 */
export function wafBlockedSignedRequests(webAclName: string, scope: Construct): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/WAFV2',
    metricName: 'BlockedRequests',
    dimensionsMap: { WebACL: webAclName, Region: Stack.of(scope).region, Rule: REFUSE_SIGNED_RULE },
    statistic: cloudwatch.Stats.SUM,
    period: Duration.minutes(1),
  });
}

/** Alarms on the API stage and the web ACL; all but the WAF volume alarm page on-call. */
export class EdgeAlarms extends Construct {
  public readonly api5xx: cloudwatch.Alarm;
  public readonly apiLatencyP99: cloudwatch.Alarm;
  /** A request carrying a signature was blocked: pages at one. */
  public readonly wafBlockedSigned: cloudwatch.Alarm;
  /**
   * Many blocked requests (junk, attacks): shown in the console and on the dashboard, never
   * paged; a signed request among them is paged by {@link wafBlockedSigned}.
   */
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
    this.wafBlockedSigned = alarm(
      'WafBlockedSigned',
      wafBlockedSignedRequests(props.webAclName, this),
      1,
      'WAF blocked a request that carried a provider signature (a delivery may be lost)',
      RUNBOOK.wafBlockedSigned,
    );
    this.wafBlocks = new cloudwatch.Alarm(this, 'WafBlocks', {
      metric: wafBlockedRequests(props.webAclName, this),
      threshold: props.wafBlockedCount,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `hookgate API: WAF blocked many requests (junk or an attack; no page). ${runbookLine(RUNBOOK.wafBlocks)}`,
    });
    acknowledge(
      this.wafBlocks,
      'HIPAA.Security-CloudWatchAlarmAction',
      'Silent on purpose: it counts blocked requests without a signature (junk, scanners), which need no one; any blocked request carrying a signature pages on-call through the WafBlockedSigned alarm.',
    );
  }
}
