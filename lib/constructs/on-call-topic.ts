import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { type RunbookEntry, runbookLine } from '../runbook';

/** Props of {@link OnCallTopic}. */
export interface OnCallTopicProps {
  /** Key that encrypts the topic. */
  readonly encryptionKey: kms.IKey;
  /** Address subscribed by email. @default no subscription */
  readonly email?: string;
}

/** One alarm for on-call: at or above `threshold` in one period. */
export interface OnCallAlarmProps {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  /** What it means, for the notification: `hookgate source x: ...`. */
  readonly description: string;
  /** The runbook entry the description ends with. */
  readonly runbook: RunbookEntry;
}

/** The SNS topic every alarm notifies: KMS-encrypted, TLS only, with the on-call email. */
export class OnCallTopic extends Construct {
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: OnCallTopicProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    if (props.email !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }
  }

  /** Creates an alarm in `scope` with hookgate's alarm defaults, wired to on-call. */
  alarm(scope: Construct, id: string, props: OnCallAlarmProps): cloudwatch.Alarm {
    return this.notify(
      new cloudwatch.Alarm(scope, id, {
        metric: props.metric,
        threshold: props.threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No data means no traffic, which is not trouble.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `${props.description}. ${runbookLine(props.runbook)}`,
      }),
    );
  }

  /** Sends the alarm's ALARM and OK transitions to on-call. */
  notify(alarm: cloudwatch.Alarm): cloudwatch.Alarm {
    const action = new actions.SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    return alarm;
  }
}
