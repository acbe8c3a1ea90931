import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { SQSClientConfig } from '@aws-sdk/client-sqs';

/**
 * Where a local run's services answer, and the AWS SDK v3 client configurations that reach them:
 * dynalite (DynamoDB) and fauxqs (SQS and S3) on 127.0.0.1, through an `endpoint` override. Used
 * by the emulators (./emulators) and by the `hookgate --local` command, which ships in the npm
 * package: so this module imports no emulator, nothing but SDK types.
 */

/** Region and dummy credentials for emulator clients; nothing here reaches AWS. */
const LOCAL_CLIENT = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  maxAttempts: 1,
} as const;

/** The emulators' base URLs (fauxqs serves SQS and S3 on one port). */
export interface Endpoints {
  readonly dynamodb: string;
  readonly sqs: string;
  readonly s3: string;
}

/** A queue and its dead-letter queue, by URL. */
export interface LocalQueues {
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

/** Client configurations pointed at the emulators. */
export function localClients(endpoints: Endpoints): {
  dynamodb: DynamoDBClientConfig;
  sqs: SQSClientConfig;
  s3: S3ClientConfig;
} {
  return {
    dynamodb: { ...LOCAL_CLIENT, endpoint: endpoints.dynamodb },
    sqs: { ...LOCAL_CLIENT, endpoint: endpoints.sqs },
    s3: { ...LOCAL_CLIENT, endpoint: endpoints.s3, forcePathStyle: true },
  };
}
