import { type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { DEAD_LETTER_RETENTION, EncryptedQueue } from '../../lib/constructs/encrypted-queue';
import { MIN_PAYLOAD_EXPIRATION_DAYS, PayloadBucket, type PayloadBucketProps } from '../../lib/constructs/payload-bucket';
import { newHookgateApp } from '../../lib/app';

/** The construct alone in a bare stack (the app's feature flags), with a queue pair beside it to compare retentions. */
function synth(props: Partial<PayloadBucketProps> = {}): { template: Template; dlqRetentionSeconds: number } {
  const stack = new Stack(newHookgateApp(), 'Bare');
  const encryptionKey = new kms.Key(stack, 'Key');
  const queues = new EncryptedQueue(stack, 'Queues', { encryptionKey, visibilityTimeout: Duration.seconds(180), maxReceiveCount: 5 });
  new PayloadBucket(stack, 'Payloads', { encryptionKey, ...props });
  const template = Template.fromStack(stack);
  const dlq = template.toJSON().Resources[stack.getLogicalId(queues.deadLetterQueue.node.defaultChild as CfnElement)] as { Properties: { MessageRetentionPeriod: number } };
  return { template, dlqRetentionSeconds: dlq.Properties.MessageRetentionPeriod };
}

function expirationDays(template: Template): number[] {
  const buckets = template.findResources('AWS::S3::Bucket', { Properties: { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } } });
  return Object.values(buckets).flatMap((b) => (b as { Properties: { LifecycleConfiguration: { Rules: { ExpirationInDays?: number }[] } } }).Properties.LifecycleConfiguration.Rules.map((r) => r.ExpirationInDays ?? 0));
}

describe('payload bucket', () => {
  it('keeps an unprocessed payload longer than a message can sit in the DLQ, redrive included', () => {
    const { template, dlqRetentionSeconds } = synth();
    const dlqDays = dlqRetentionSeconds / 86_400;

    // A redriven message is a new message: it may sit one more full DLQ retention.
    expect(dlqDays).toBe(DEAD_LETTER_RETENTION.toDays());
    expect(expirationDays(template)).toEqual([2 * dlqDays + 1]);
    expect(MIN_PAYLOAD_EXPIRATION_DAYS).toBe(2 * dlqDays + 1);
  });

  it('accepts a longer expiration and refuses one a redriven message could outlive', () => {
    expect(expirationDays(synth({ expirationDays: 90 }).template)).toEqual([90]);
    expect(() => synth({ expirationDays: DEAD_LETTER_RETENTION.toDays() })).toThrow(/expirationDays must be a whole number of at least 29/);
  });
});
