import { getClient, KMS, KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createEnvelope, type Envelope } from '../../lambda/ingest/envelope';
import { RESOURCES_OUTPUT, SOURCE_OUTPUT_PREFIX, type SourceResources, type StackResources } from '../../lib/stack-outputs';
import { createCloudWatchAuditLog } from '../audit';
import { CommandError } from '../errors';
import type { Target, TargetResources } from '../target';

/**
 * A deployed environment: the stack `hookgate-<env>` (or `--stack`), its resources read from its
 * CloudFormation outputs (lib/stack-outputs.ts); credentials from the standard chain, `--profile`
 * and `--region` when given.
 */

/** Where and as whom. */
export interface AwsTargetOptions {
  readonly stackName: string;
  readonly profile?: string;
  readonly region?: string;
}

/** The stack of an environment name. */
export function stackNameOf(environment: string): string {
  return `hookgate-${environment}`;
}

/** The command's resources from a stack's outputs; a CommandError when they are missing. */
export function resourcesFromOutputs(stackName: string, outputs: readonly Output[]): TargetResources {
  const byKey = new Map(outputs.map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  const stackWide = byKey.get(RESOURCES_OUTPUT);
  if (stackWide === undefined) throw new CommandError(`stack ${stackName} has no ${RESOURCES_OUTPUT} output: deploy a hookgate version with the command's outputs`);
  const resources = parseOutput<StackResources>(stackName, RESOURCES_OUTPUT, stackWide);
  const sources = [...byKey.entries()]
    .filter(([key]) => key.startsWith(SOURCE_OUTPUT_PREFIX) && /^\d+$/.test(key.slice(SOURCE_OUTPUT_PREFIX.length)))
    .sort(([a], [b]) => Number(a.slice(SOURCE_OUTPUT_PREFIX.length)) - Number(b.slice(SOURCE_OUTPUT_PREFIX.length)))
    .map(([key, value]) => parseOutput<SourceResources>(stackName, key, value));
  return {
    environment: resources.environment,
    payloadBucket: resources.payloadBucket,
    ...(resources.deliveryTable === undefined ? {} : { deliveryTable: resources.deliveryTable }),
    ...(resources.archiveBucket === undefined ? {} : { archiveBucket: resources.archiveBucket }),
    ...(resources.keyArn === undefined ? {} : { keyArn: resources.keyArn }),
    sources,
  };
}

function parseOutput<T>(stackName: string, key: string, value: string): T {
  try {
    return JSON.parse(value) as T;
  } catch {
    throw new CommandError(`stack ${stackName}: output ${key} is not valid JSON`);
  }
}

/** Resolves the stack's outputs and builds the target. */
export async function awsTarget(options: AwsTargetOptions): Promise<Target> {
  const base = { ...(options.region === undefined ? {} : { region: options.region }), ...(options.profile === undefined ? {} : { profile: options.profile }) };
  const cfn = new CloudFormationClient(base);
  let outputs: Output[];
  let auditGroup: string;
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: options.stackName }));
    outputs = out.Stacks?.[0]?.Outputs ?? [];
    const stackWide = outputs.find((o) => o.OutputKey === RESOURCES_OUTPUT)?.OutputValue;
    auditGroup = stackWide === undefined ? '' : parseOutput<StackResources>(options.stackName, RESOURCES_OUTPUT, stackWide).auditLogGroup;
  } catch (err) {
    if ((err as Error).name === 'ValidationError') throw new CommandError(`stack ${options.stackName} not found in this account and region (pass --env, --stack, --region or --profile)`, { cause: err });
    throw err;
  } finally {
    cfn.destroy();
  }
  const resources = resourcesFromOutputs(options.stackName, outputs);
  // The queues are the stack's, in the client's region: requests go to the configured SQS
  // endpoint (AWS_ENDPOINT_URL_SQS: a VPC endpoint) rather than each queue URL's host.
  const clients = { dynamodb: new DynamoDBClient(base), sqs: new SQSClient({ ...base, useQueueUrlAsEndpoint: false }), s3: new S3Client(base), cloudwatch: new CloudWatchClient(base) };
  const logs = new CloudWatchLogsClient(base);
  let caller: Promise<string> | undefined;
  const region = await clients.sqs.config.region();
  return {
    kind: 'aws',
    label: `stack ${options.stackName} (${region})`,
    resources,
    clients,
    clientConfig: () => ({ ...base }),
    envelope: () => Promise.resolve(kmsEnvelope(resources.keyArn, options.stackName, base)),
    audit: createCloudWatchAuditLog({ client: logs, logGroupName: auditGroup }),
    moveTasks: true,
    who: () => (caller ??= callerArn(base)),
    close: () => {
      for (const client of [...Object.values(clients), logs]) client.destroy();
    },
  };
}

/** The envelope of a stack: its key through KMS, with the command's credentials; a CommandError when the stack names no key. */
function kmsEnvelope(keyArn: string | undefined, stackName: string, base: Record<string, unknown>): Envelope {
  if (keyArn === undefined) throw new CommandError(`stack ${stackName} does not name its key in its outputs (deployed before this version): redeploy it`);
  return createEnvelope(new KmsKeyringNode({ keyIds: [keyArn], clientProvider: getClient(KMS, base) }));
}

/** The caller's ARN (STS GetCallerIdentity needs no permission). */
async function callerArn(base: Record<string, unknown>): Promise<string> {
  const sts = new STSClient(base);
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    if (out.Arn === undefined) throw new CommandError('STS returned no caller ARN');
    return out.Arn;
  } finally {
    sts.destroy();
  }
}
