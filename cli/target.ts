import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SourceResources } from '../lib/stack-outputs';
import type { Envelope } from '../lambda/ingest/envelope';
import type { AuditLog } from './audit';
import { CommandError } from './errors';

/**
 * What a command runs against: a deployed stack (cli/targets/aws.ts) or a running `npm start`
 * (cli/targets/local.ts). Commands see only this, so each works the same on both.
 */

/** The resources of one environment, whichever side it runs on. */
export interface TargetResources {
  readonly environment: string;
  /** Circuit state and delivery attempts, when a source has destinations. */
  readonly deliveryTable?: string;
  readonly payloadBucket: string;
  readonly archiveBucket?: string;
  /** The stack key's ARN (AWS), which envelopes are sealed with. */
  readonly keyArn?: string;
  /** Every source in config order, with its queues and its destinations' queues. */
  readonly sources: readonly SourceResources[];
}

/** AWS SDK clients pointed at the target (AWS, or the emulators). */
export interface TargetClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  /** CloudWatch metrics; none locally (metrics print as n/a). */
  readonly cloudwatch?: CloudWatchClient;
}

/** A target environment. */
export interface Target {
  readonly kind: 'aws' | 'local';
  /** For people: `stack hookgate-prod (eu-west-1)` or `local :3000`. */
  readonly label: string;
  readonly resources: TargetResources;
  readonly clients: TargetClients;
  /**
   * The configuration each client above was made with (region, credentials, endpoint), for
   * commands that need another SDK client (KMS for opening bodies): `new KMSClient(target.clientConfig('kms'))`.
   */
  clientConfig(service: 'kms' | 'sqs' | 's3' | 'dynamodb'): Record<string, unknown>;
  readonly audit: AuditLog;
  /**
   * The envelope that opens this environment's sealed bodies (the stack key through KMS, or the
   * local run's key file); `open` checks the binding. Built on first use: only `events show --body` needs it.
   */
  envelope(): Promise<Envelope>;
  /** Whether SQS here runs message move tasks (AWS) or the command moves messages itself (local). */
  readonly moveTasks: boolean;
  /** The caller's identity for audit records: the STS caller ARN, or the OS user. */
  who(): Promise<string>;
  /** Releases the clients. */
  close(): void;
}

/** The source of that name, or a CommandError listing the known ones. */
export function sourceOf(resources: TargetResources, name: string): SourceResources {
  const source = resources.sources.find((s) => s.source === name);
  if (source === undefined) throw new CommandError(`unknown source ${JSON.stringify(name)}; known: ${resources.sources.map((s) => s.source).join(', ') || 'none'}`);
  return source;
}

/** The delivery table, or a CommandError saying no source has destinations. */
export function deliveryTableOf(resources: TargetResources): string {
  if (resources.deliveryTable === undefined) throw new CommandError('this environment has no destinations, so no delivery table');
  return resources.deliveryTable;
}
