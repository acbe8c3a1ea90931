import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Props of {@link OnCallTopic}. */
export interface OnCallTopicProps {
  /** Key that encrypts the topic. */
  readonly encryptionKey: kms.IKey;
  /** Address subscribed by email. @default no subscription */
  readonly email?: string;
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

  /** Sends the alarm's ALARM and OK transitions to on-call. */
  notify(alarm: cloudwatch.Alarm): cloudwatch.Alarm {
    const action = new actions.SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    return alarm;
  }
}
