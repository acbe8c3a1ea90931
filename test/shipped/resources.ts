import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand, type AttributeDefinition, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MOTO_ACCOUNT, MOTO_REGION } from './moto';
import { asArray, asObject, asString, isObject, type Json, type JsonObject, ofType, Resolver, type Synthesized } from './template';

/**
 * Creates in moto what the template declares and the functions use (the KMS key, buckets, the
 * dedupe table with its key schema, every queue with its DLQ), and registers their physical ids
 * with a resolver so the functions' environment and the roles' policies resolve to them.
 */

/** The access key of the suite's own calls (setup and reads), which the policy checks skip. */
export const ADMIN_ACCESS_KEY = 'SUITEADMIN';

/**
 * The suite's own clients. They go through the recording proxy like the functions, because moto
 * builds queue URLs from the Host it was called on, and the SQS client sends to the queue URL's
 * host: URLs handed out on moto's own port would let the bundles' SQS calls bypass the proxy.
 */
export interface AdminClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly kms: KMSClient;
  readonly secrets: SecretsManagerClient;
  destroy(): void;
}

export function adminClients(endpoint: string): AdminClients {
  const config = { endpoint, region: MOTO_REGION, credentials: { accessKeyId: ADMIN_ACCESS_KEY, secretAccessKey: 'suite-admin' }, maxAttempts: 1 };
  const clients = {
    dynamodb: new DynamoDBClient(config),
    sqs: new SQSClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    kms: new KMSClient(config),
    secrets: new SecretsManagerClient(config),
  };
  return {
    ...clients,
    destroy() {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}

/** A physical name as CloudFormation would generate one: stack, logical id, bounded. */
function physicalName(stack: string, logicalId: string, max: number): string {
  return `${stack}-${logicalId}`.slice(0, max);
}

/** Queue attributes the template sets, in SQS's string form. */
const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'KmsDataKeyReusePeriodSeconds',
  'KmsMasterKeyId',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'SqsManagedSseEnabled',
] as const;

function queueAttributes(resolved: JsonObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of QUEUE_ATTRIBUTES) {
    const value = resolved[name];
    if (value !== undefined && value !== null) out[name] = String(value);
  }
  if (resolved.RedrivePolicy !== undefined) out.RedrivePolicy = JSON.stringify(resolved.RedrivePolicy);
  return out;
}

export interface CreatedQueue {
  readonly url: string;
  readonly arn: string;
  readonly name: string;
  /** The attributes it was created with (to create it again). */
  readonly attributes: Readonly<Record<string, string>>;
}

/** What was created, by logical id. */
export interface CreatedResources {
  readonly resolver: Resolver;
  /** Work queue and DLQ URLs by logical id. */
  readonly queues: Readonly<Record<string, CreatedQueue>>;
  readonly tables: Readonly<Record<string, { readonly name: string; readonly arn: string; readonly partitionKey: string }>>;
}

/** Creates the template's keys, buckets, tables and queues in moto. */
export async function createTemplateResources(synth: Synthesized, admin: AdminClients): Promise<CreatedResources> {
  const resolver = new Resolver({ partition: 'aws', region: MOTO_REGION, account: MOTO_ACCOUNT, stackName: synth.stackName });
  const arn = (service: string, resource: string, region = MOTO_REGION, account = MOTO_ACCOUNT): string => `arn:aws:${service}:${region}:${account}:${resource}`;

  for (const id of ofType(synth, 'AWS::KMS::Key')) {
    const p = synth.resources[id]?.Properties ?? {};
    const created = await admin.kms.send(new CreateKeyCommand({ Description: typeof p.Description === 'string' ? p.Description : id }));
    const keyId = created.KeyMetadata?.KeyId ?? '';
    resolver.set(id, { ref: keyId, attributes: { Arn: created.KeyMetadata?.Arn ?? arn('kms', `key/${keyId}`), KeyId: keyId } });
  }

  for (const id of ofType(synth, 'AWS::S3::Bucket')) {
    const name = physicalName(synth.stackName, id, 63).toLowerCase();
    await admin.s3.send(new CreateBucketCommand({ Bucket: name }));
    resolver.set(id, { ref: name, attributes: { Arn: `arn:aws:s3:::${name}`, DomainName: `${name}.s3.amazonaws.com`, RegionalDomainName: `${name}.s3.${MOTO_REGION}.amazonaws.com` } });
  }

  const tables: Record<string, { name: string; arn: string; partitionKey: string }> = {};
  for (const id of ofType(synth, 'AWS::DynamoDB::Table')) {
    const p = asObject(resolver.resolve(synth.resources[id]?.Properties ?? {}), id);
    const name = physicalName(synth.stackName, id, 255);
    const keySchema: KeySchemaElement[] = asArray(p.KeySchema).map((k) => {
      const o = asObject(k, `${id}.KeySchema`);
      return { AttributeName: asString(o.AttributeName, 'AttributeName'), KeyType: asString(o.KeyType, 'KeyType') === 'HASH' ? 'HASH' : 'RANGE' };
    });
    const definitions: AttributeDefinition[] = asArray(p.AttributeDefinitions).map((d) => {
      const o = asObject(d, `${id}.AttributeDefinitions`);
      const type = asString(o.AttributeType, 'AttributeType');
      return { AttributeName: asString(o.AttributeName, 'AttributeName'), AttributeType: type === 'N' ? 'N' : type === 'B' ? 'B' : 'S' };
    });
    const sse = isObject(p.SSESpecification) ? p.SSESpecification : undefined;
    const created = await admin.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: keySchema,
        AttributeDefinitions: definitions,
        BillingMode: 'PAY_PER_REQUEST',
        ...(sse?.SSEEnabled === true ? { SSESpecification: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: typeof sse.KMSMasterKeyId === 'string' ? sse.KMSMasterKeyId : undefined } } : {}),
      }),
    );
    const ttl = isObject(p.TimeToLiveSpecification) ? p.TimeToLiveSpecification : undefined;
    if (ttl?.Enabled === true) {
      await admin.dynamodb.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { Enabled: true, AttributeName: asString(ttl.AttributeName, 'TTL attribute') } }));
    }
    const tableArn = created.TableDescription?.TableArn ?? arn('dynamodb', `table/${name}`);
    const partitionKey = keySchema.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '';
    tables[id] = { name, arn: tableArn, partitionKey };
    resolver.set(id, { ref: name, attributes: { Arn: tableArn } });
  }

  // Dead-letter queues first: a work queue's redrive policy names its DLQ's ARN.
  const queueIds = ofType(synth, 'AWS::SQS::Queue');
  const queues: Record<string, CreatedQueue> = {};
  const createQueue = async (id: string): Promise<void> => {
    const p = asObject(resolver.resolve(synth.resources[id]?.Properties ?? {}), id);
    const name = physicalName(synth.stackName, id, 80);
    const attributes = queueAttributes(p);
    const created = await admin.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const url = created.QueueUrl ?? '';
    const attrs = await admin.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    const queueArn = attrs.Attributes?.QueueArn ?? arn('sqs', name);
    queues[id] = { url, arn: queueArn, name, attributes };
    resolver.set(id, { ref: url, attributes: { Arn: queueArn, QueueName: name, QueueUrl: url } });
  };
  await Promise.all(queueIds.filter((id) => synth.resources[id]?.Properties.RedrivePolicy === undefined).map(createQueue));
  await Promise.all(queueIds.filter((id) => synth.resources[id]?.Properties.RedrivePolicy !== undefined).map(createQueue));

  // Roles, their policies and the functions are not created in moto (the suite runs the code and
  // checks the policies itself), but their ARNs resolve like CloudFormation's.
  for (const id of ofType(synth, 'AWS::IAM::Role')) {
    const name = physicalName(synth.stackName, id, 64);
    resolver.set(id, { ref: name, attributes: { Arn: `arn:aws:iam::${MOTO_ACCOUNT}:role/${name}`, RoleId: `AROA${id.slice(0, 16).toUpperCase()}` } });
  }
  for (const id of ofType(synth, 'AWS::IAM::ManagedPolicy')) {
    const name = physicalName(synth.stackName, id, 128);
    resolver.set(id, { ref: `arn:aws:iam::${MOTO_ACCOUNT}:policy/${name}`, attributes: { PolicyArn: `arn:aws:iam::${MOTO_ACCOUNT}:policy/${name}` } });
  }
  for (const id of ofType(synth, 'AWS::Lambda::Function')) {
    const name = physicalName(synth.stackName, id, 64);
    resolver.set(id, { ref: name, attributes: { Arn: arn('lambda', `function:${name}`) } });
  }
  return { resolver, queues, tables };
}

/** Creates a Secrets Manager secret and returns its ARN (moto adds the six random characters AWS does). */
export async function createSecret(admin: AdminClients, name: string, value: string): Promise<string> {
  const created = await admin.secrets.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return created.ARN ?? '';
}

/** Resolves an environment as Lambda would see it: every value a string. */
export function resolveEnvironment(resolver: Resolver, environment: Readonly<Record<string, Json>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) out[name] = resolver.resolveString(value, `environment ${name}`);
  return out;
}
