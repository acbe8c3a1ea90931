import type { AuthorizationRequest, RequestContext } from './policy';

/**
 * What an AWS request on the wire asks IAM for: the action, the resource ARN and the request
 * context keys this suite can fill in, for the services and operations the bundles use. A request
 * it cannot map is reported as such (and fails the policy check), never waved through.
 */

/** One HTTP request as the recording proxy saw it. */
export interface WireRequest {
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** Who signed a request: SigV4 credential scope. */
export interface Signer {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
}

export function signerOf(request: WireRequest): Signer | undefined {
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(request.headers.authorization ?? '');
  if (m === null) return undefined;
  return { accessKeyId: m[1] as string, region: m[2] as string, service: m[3] as string };
}

/** The account and the tables' partition keys the mapping needs. */
export interface CallEnvironment {
  readonly account: string;
  /** Partition key attribute name by table name (for `dynamodb:LeadingKeys`). */
  readonly partitionKeys: Readonly<Record<string, string>>;
  /** Secret ARNs by name (Secrets Manager resolves a name to its ARN before authorizing). */
  readonly secretArns: Readonly<Record<string, string>>;
  /** The ARN of the role whose session signed the call. */
  readonly principalArn: string;
}

export type MappedCall =
  | { readonly kind: 'mapped'; readonly operation: string; readonly requests: readonly AuthorizationRequest[] }
  | { readonly kind: 'unmapped'; readonly operation: string; readonly reason: string };

/** Keys the suite knows are absent from a direct call by a Lambda function (no service in between). */
const ABSENT_ON_DIRECT_CALLS = new Set([
  'aws:calledvia',
  'aws:calledviafirst',
  'aws:calledvialast',
  'aws:sourcevpce',
  'aws:sourcevpc',
  'aws:vpcsourceip',
  'kms:viaservice',
  'kms:grantisforawsresource',
  'kms:requestalias',
  'kms:grantoperations',
  'kms:granteeprincipal',
  'kms:retiringprincipal',
]);

type Values = Record<string, string[]>;

function context(values: Values, service: string, absentPrefixes: readonly string[], absentKeys: readonly string[]): RequestContext {
  const own = new Set(absentKeys.map((k) => k.toLowerCase()));
  return {
    values,
    knowsAbsent: (key) => {
      const lower = key.toLowerCase();
      if (ABSENT_ON_DIRECT_CALLS.has(lower) || own.has(lower)) return true;
      return lower.startsWith(`${service}:`) && absentPrefixes.some((p) => lower.startsWith(p));
    },
  };
}

function globalValues(signer: Signer, env: CallEnvironment): Values {
  return {
    'aws:SecureTransport': ['true'],
    'aws:RequestedRegion': [signer.region],
    'aws:PrincipalAccount': [env.account],
    'aws:PrincipalArn': [env.principalArn],
    'aws:PrincipalType': ['AssumedRole'],
    'aws:ViaAWSService': ['false'],
  };
}

type JsonBody = Record<string, unknown>;

function jsonBody(request: WireRequest): JsonBody {
  if (request.body.length === 0) return {};
  const parsed: unknown = JSON.parse(request.body.toString('utf8'));
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as JsonBody) : {};
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** A DynamoDB AttributeValue's scalar as IAM sees it in `dynamodb:LeadingKeys`. */
function scalar(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  return str(v.S) ?? str(v.N) ?? str(v.B);
}

const DYNAMODB_ITEM_OPERATIONS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);

function dynamodb(operation: string, body: JsonBody, signer: Signer, env: CallEnvironment): MappedCall {
  const table = str(body.TableName);
  if (table === undefined || !DYNAMODB_ITEM_OPERATIONS.has(operation)) {
    return { kind: 'unmapped', operation, reason: 'only single-item operations on a named table are mapped' };
  }
  const values = globalValues(signer, env);
  const partitionKey = env.partitionKeys[table];
  const item = (operation === 'PutItem' ? body.Item : body.Key) as Record<string, unknown> | undefined;
  const leading = partitionKey === undefined ? undefined : scalar(item?.[partitionKey]);
  if (leading !== undefined) values['dynamodb:LeadingKeys'] = [leading];
  for (const name of ['ReturnValues', 'ReturnConsumedCapacity', 'Select'] as const) {
    const v = str(body[name]);
    if (v !== undefined) values[`dynamodb:${name}`] = [v];
  }
  return {
    kind: 'mapped',
    operation,
    requests: [
      {
        action: `dynamodb:${operation}`,
        resource: `arn:aws:dynamodb:${signer.region}:${env.account}:table/${table}`,
        context: context(values, 'dynamodb', ['dynamodb:returnvalues', 'dynamodb:returnconsumedcapacity', 'dynamodb:select'], []),
      },
    ],
  };
}

/** SQS batch operations have no IAM action of their own: IAM authorizes each as its single form. */
const SQS_BATCH_ACTIONS: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

function sqs(operation: string, params: JsonBody, signer: Signer, env: CallEnvironment): MappedCall {
  const url = str(params.QueueUrl);
  let resource: string | undefined;
  if (url !== undefined) {
    const [account, name] = new URL(url).pathname.split('/').filter(Boolean);
    if (account !== undefined && name !== undefined) resource = `arn:aws:sqs:${signer.region}:${account}:${name}`;
  } else if (operation === 'GetQueueUrl' && str(params.QueueName) !== undefined) {
    resource = `arn:aws:sqs:${signer.region}:${str(params.QueueOwnerAWSAccountId) ?? env.account}:${str(params.QueueName)}`;
  }
  if (resource === undefined) return { kind: 'unmapped', operation, reason: 'no QueueUrl or QueueName' };
  return { kind: 'mapped', operation, requests: [{ action: `sqs:${SQS_BATCH_ACTIONS[operation] ?? operation}`, resource, context: context(globalValues(signer, env), 'sqs', [], []) }] };
}

const KEY_OPERATIONS = new Set(['GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'Encrypt', 'Decrypt', 'ReEncrypt', 'DescribeKey']);

/** moto's ciphertext blob starts with the key id (a UUID, 36 bytes). */
function keyIdOfMotoCiphertext(blob: string | undefined): string | undefined {
  if (blob === undefined) return undefined;
  const id = Buffer.from(blob, 'base64').subarray(0, 36).toString('latin1');
  return /^[0-9a-f-]{36}$/.test(id) ? id : undefined;
}

function kms(operation: string, body: JsonBody, signer: Signer, env: CallEnvironment): MappedCall {
  if (!KEY_OPERATIONS.has(operation)) return { kind: 'unmapped', operation, reason: 'not a key-usage operation' };
  const keyId = str(body.KeyId) ?? (operation === 'Decrypt' ? keyIdOfMotoCiphertext(str(body.CiphertextBlob)) : undefined);
  if (keyId === undefined) return { kind: 'unmapped', operation, reason: 'no KeyId' };
  if (keyId.startsWith('alias/') || keyId.includes(':alias/')) return { kind: 'unmapped', operation, reason: 'aliases are not resolved to keys here' };
  const resource = keyId.startsWith('arn:') ? keyId : `arn:aws:kms:${signer.region}:${env.account}:key/${keyId}`;
  const values = globalValues(signer, env);
  values['kms:CallerAccount'] = [env.account];
  const ec = body.EncryptionContext;
  const contextKeys: string[] = [];
  if (typeof ec === 'object' && ec !== null) {
    for (const [k, v] of Object.entries(ec as Record<string, unknown>)) {
      contextKeys.push(k);
      if (typeof v === 'string') values[`kms:EncryptionContext:${k}`] = [v];
    }
  }
  if (contextKeys.length > 0) values['kms:EncryptionContextKeys'] = contextKeys;
  const algorithm = str(body.EncryptionAlgorithm) ?? (operation === 'Encrypt' || operation === 'Decrypt' ? 'SYMMETRIC_DEFAULT' : undefined);
  if (algorithm !== undefined) values['kms:EncryptionAlgorithm'] = [algorithm];
  const spec = str(body.KeySpec);
  if (spec !== undefined) values['kms:DataKeySpec'] = [spec];
  // Every encryption-context key not in the request is really absent, and so is the key list.
  const absent = ['kms:encryptioncontext:', 'kms:encryptioncontextkeys', 'kms:encryptionalgorithm', 'kms:datakeyspec'];
  return { kind: 'mapped', operation, requests: [{ action: `kms:${operation}`, resource, context: context(values, 'kms', absent, []) }] };
}

function secretsmanager(operation: string, body: JsonBody, signer: Signer, env: CallEnvironment): MappedCall {
  const id = str(body.SecretId);
  if (id === undefined || operation !== 'GetSecretValue') return { kind: 'unmapped', operation, reason: 'only GetSecretValue by SecretId is mapped' };
  const resource = id.startsWith('arn:') ? id : (env.secretArns[id] ?? `arn:aws:secretsmanager:${signer.region}:${env.account}:secret:${id}`);
  const values = globalValues(signer, env);
  values['secretsmanager:SecretId'] = [id];
  for (const name of ['VersionId', 'VersionStage'] as const) {
    const v = str(body[name]);
    if (v !== undefined) values[`secretsmanager:${name}`] = [v];
  }
  return {
    kind: 'mapped',
    operation,
    requests: [{ action: `secretsmanager:${operation}`, resource, context: context(values, 'secretsmanager', ['secretsmanager:versionid', 'secretsmanager:versionstage'], []) }],
  };
}

function s3(request: WireRequest, signer: Signer, env: CallEnvironment): MappedCall {
  const url = new URL(request.url, 'http://localhost');
  const [bucket, ...rest] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const key = rest.join('/');
  const method = request.method.toUpperCase();
  // The SDK tags object requests with `x-id=<Operation>`; it names no sub-resource.
  url.searchParams.delete('x-id');
  if (bucket === undefined || key.length === 0 || (url.searchParams.size > 0 && method !== 'GET')) {
    return { kind: 'unmapped', operation: `${method} ${url.pathname}${url.search}`, reason: 'only object GET/HEAD/PUT/DELETE without sub-resources are mapped' };
  }
  const action = { GET: 's3:GetObject', HEAD: 's3:GetObject', PUT: 's3:PutObject', DELETE: 's3:DeleteObject' }[method];
  if (action === undefined || url.searchParams.has('versionId') || request.headers['x-amz-copy-source'] !== undefined) {
    return { kind: 'unmapped', operation: `${method} object`, reason: 'versions and copies are not mapped' };
  }
  const values = globalValues(signer, env);
  const headerKeys = ['x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-acl', 'x-amz-storage-class'];
  for (const h of headerKeys) {
    const v = request.headers[h];
    if (v !== undefined) values[`s3:${h}`] = [v];
  }
  return {
    kind: 'mapped',
    operation: action.slice(3),
    requests: [{ action, resource: `arn:aws:s3:::${bucket}/${key}`, context: context(values, 's3', headerKeys.map((h) => `s3:${h}`), []) }],
  };
}

/**
 * EventBridge PutEvents: one authorization per entry, on the entry's bus (a name is this
 * account's bus in the signer's region; none is the default bus), with the entry's source and
 * detail type as `events:source` and `events:detail-type`.
 */
function events(operation: string, body: JsonBody, signer: Signer, env: CallEnvironment): MappedCall {
  const entries = Array.isArray(body.Entries) ? (body.Entries as unknown[]) : undefined;
  if (operation !== 'PutEvents' || entries === undefined || entries.length === 0) return { kind: 'unmapped', operation, reason: 'only PutEvents with entries is mapped' };
  const requests = entries.map((entry): AuthorizationRequest => {
    const e = typeof entry === 'object' && entry !== null ? (entry as JsonBody) : {};
    const bus = str(e.EventBusName) ?? 'default';
    const values = globalValues(signer, env);
    const source = str(e.Source);
    const detailType = str(e.DetailType);
    if (source !== undefined) values['events:source'] = [source];
    if (detailType !== undefined) values['events:detail-type'] = [detailType];
    return {
      action: 'events:PutEvents',
      resource: bus.startsWith('arn:') ? bus : `arn:aws:events:${signer.region}:${env.account}:event-bus/${bus}`,
      context: context(values, 'events', ['events:source', 'events:detail-type'], []),
    };
  });
  return { kind: 'mapped', operation, requests };
}

/** Maps one signed request to what IAM authorizes. */
export function mapCall(request: WireRequest, signer: Signer, env: CallEnvironment): MappedCall {
  const target = request.headers['x-amz-target'];
  if (signer.service === 's3') return s3(request, signer, env);
  let operation: string | undefined;
  let params: JsonBody = {};
  if (target !== undefined) {
    operation = target.slice(target.lastIndexOf('.') + 1);
    params = jsonBody(request);
  } else if ((request.headers['content-type'] ?? '').includes('x-www-form-urlencoded')) {
    const form = new URLSearchParams(request.body.toString('utf8'));
    operation = form.get('Action') ?? undefined;
    params = Object.fromEntries(form);
  }
  if (operation === undefined) return { kind: 'unmapped', operation: `${request.method} ${request.url}`, reason: 'no X-Amz-Target and no Action' };
  switch (signer.service) {
    case 'dynamodb':
      return dynamodb(operation, params, signer, env);
    case 'sqs':
      return sqs(operation, params, signer, env);
    case 'kms':
      return kms(operation, params, signer, env);
    case 'secretsmanager':
      return secretsmanager(operation, params, signer, env);
    case 'events':
      return events(operation, params, signer, env);
    case 'sts':
      // GetCallerIdentity needs no permission; anything else from STS is unexpected here.
      return operation === 'GetCallerIdentity' ? { kind: 'mapped', operation, requests: [] } : { kind: 'unmapped', operation, reason: 'STS operation' };
    default:
      return { kind: 'unmapped', operation, reason: `service ${signer.service} is not mapped` };
  }
}
