import { type CallEnvironment, mapCall, signerOf, type WireRequest } from './calls';

/**
 * How the shipped suite reads a recorded AWS request as IAM would (action, resource, context).
 * Runs in `npm test`: no moto needed.
 */

const ENV: CallEnvironment = {
  account: '123456789012',
  partitionKeys: { 'hookgate-dev-Dedupe': 'id' },
  secretArns: { 'hookgate/dev/stripe': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hookgate/dev/stripe-AbC123' },
  principalArn: 'arn:aws:iam::123456789012:role/verifier',
};

function wire(service: string, options: { target?: string; body?: unknown; method?: string; url?: string; headers?: Record<string, string> }): WireRequest {
  return {
    method: options.method ?? 'POST',
    url: options.url ?? '/',
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=ASIAFUNCTION/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`,
      ...(options.target === undefined ? {} : { 'x-amz-target': options.target }),
      ...options.headers,
    },
    body: options.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(options.body)),
  };
}

function only(request: WireRequest): { action: string; resource: string; values: Readonly<Record<string, readonly string[]>>; knowsAbsent: (key: string) => boolean } {
  const signer = signerOf(request);
  if (signer === undefined) throw new Error('unsigned');
  const mapped = mapCall(request, signer, ENV);
  if (mapped.kind !== 'mapped' || mapped.requests.length !== 1 || mapped.requests[0] === undefined) throw new Error(`not one request: ${JSON.stringify(mapped)}`);
  const [r] = mapped.requests;
  return { action: r.action, resource: r.resource, values: r.context.values, knowsAbsent: r.context.knowsAbsent };
}

describe('reading a recorded AWS request as IAM does', () => {
  it('tells the calling access key, region and service from the SigV4 credential scope', () => {
    expect(signerOf(wire('kms', {}))).toEqual({ accessKeyId: 'ASIAFUNCTION', region: 'us-east-1', service: 'kms' });
  });

  it('reads a DynamoDB PutItem as the table ARN with the item partition key as dynamodb:LeadingKeys', () => {
    const r = only(wire('dynamodb', { target: 'DynamoDB_20120810.PutItem', body: { TableName: 'hookgate-dev-Dedupe', Item: { id: { S: 'stripe:evt_1' }, status: { S: 'INPROGRESS' } } } }));
    expect([r.action, r.resource, r.values['dynamodb:LeadingKeys']]).toEqual(['dynamodb:PutItem', 'arn:aws:dynamodb:us-east-1:123456789012:table/hookgate-dev-Dedupe', ['stripe:evt_1']]);
  });

  it('reads an SQS SendMessage as the ARN of the queue its URL names', () => {
    const r = only(wire('sqs', { target: 'AmazonSQS.SendMessage', body: { QueueUrl: 'http://127.0.0.1:4566/123456789012/hookgate-dev-Queue', MessageBody: 'x' } }));
    expect([r.action, r.resource]).toEqual(['sqs:SendMessage', 'arn:aws:sqs:us-east-1:123456789012:hookgate-dev-Queue']);
  });

  it('reads an SQS SendMessageBatch as sqs:SendMessage, the action IAM authorizes it by', () => {
    const r = only(wire('sqs', { target: 'AmazonSQS.SendMessageBatch', body: { QueueUrl: 'http://127.0.0.1:4566/123456789012/hookgate-dev-Queue', Entries: [] } }));
    expect([r.action, r.resource]).toEqual(['sqs:SendMessage', 'arn:aws:sqs:us-east-1:123456789012:hookgate-dev-Queue']);
  });

  it('reads an EventBridge PutEvents as one request per entry on its bus, with source and detail type as condition keys', () => {
    const request = wire('events', {
      target: 'AWSEvents.PutEvents',
      body: { Entries: [{ EventBusName: 'orders', Source: 'hookgate.stripe', DetailType: 'hookgate.webhook', Detail: '{}' }, { Source: 'hookgate.stripe', DetailType: 'x', Detail: '{}' }] },
    });
    const signer = signerOf(request);
    const mapped = signer === undefined ? undefined : mapCall(request, signer, ENV);
    if (mapped?.kind !== 'mapped') throw new Error('not mapped');
    expect(mapped.requests.map((r) => [r.action, r.resource])).toEqual([
      ['events:PutEvents', 'arn:aws:events:us-east-1:123456789012:event-bus/orders'],
      ['events:PutEvents', 'arn:aws:events:us-east-1:123456789012:event-bus/default'],
    ]);
    expect([mapped.requests[0]?.context.values['events:source'], mapped.requests[0]?.context.values['events:detail-type']]).toEqual([['hookgate.stripe'], ['hookgate.webhook']]);
  });

  it('reads a KMS Decrypt without KeyId by the key named in moto\'s ciphertext, with its encryption context as condition keys', () => {
    const keyId = '0f0e0d0c-0b0a-4999-8888-777766665555';
    const blob = Buffer.concat([Buffer.from(keyId, 'latin1'), Buffer.alloc(40, 1)]).toString('base64');
    const r = only(wire('kms', { target: 'TrentService.Decrypt', body: { CiphertextBlob: blob, EncryptionContext: { 'hookgate:source': 'stripe', 'hookgate:purpose': 'webhook-body' } } }));
    expect([r.action, r.resource]).toEqual(['kms:Decrypt', `arn:aws:kms:us-east-1:123456789012:key/${keyId}`]);
    expect(r.values['kms:EncryptionContext:hookgate:source']).toEqual(['stripe']);
    expect(r.values['kms:EncryptionContextKeys']).toEqual(['hookgate:source', 'hookgate:purpose']);
    expect([r.knowsAbsent('kms:ViaService'), r.knowsAbsent('kms:EncryptionContext:other'), r.knowsAbsent('aws:SourceIp')]).toEqual([true, true, false]);
  });

  it('reads a Secrets Manager GetSecretValue by name as the secret\'s full ARN', () => {
    const r = only(wire('secretsmanager', { target: 'secretsmanager.GetSecretValue', body: { SecretId: 'hookgate/dev/stripe' } }));
    expect([r.action, r.resource]).toEqual(['secretsmanager:GetSecretValue', ENV.secretArns['hookgate/dev/stripe']]);
  });

  it('reads S3 object requests by method, ignoring the SDK\'s x-id tag, with encryption headers as condition keys', () => {
    const put = only(wire('s3', { method: 'PUT', url: '/bucket/github/abc?x-id=PutObject', headers: { 'x-amz-server-side-encryption': 'aws:kms' } }));
    expect([put.action, put.resource, put.values['s3:x-amz-server-side-encryption']]).toEqual(['s3:PutObject', 'arn:aws:s3:::bucket/github/abc', ['aws:kms']]);
    expect(only(wire('s3', { method: 'GET', url: '/bucket/github/abc?x-id=GetObject' })).action).toBe('s3:GetObject');
  });

  it('refuses to map what it does not know, instead of letting it through', () => {
    const request = wire('dynamodb', { target: 'DynamoDB_20120810.BatchWriteItem', body: { RequestItems: {} } });
    const signer = signerOf(request);
    expect(signer === undefined ? undefined : mapCall(request, signer, ENV).kind).toBe('unmapped');
    const tagging = wire('s3', { method: 'PUT', url: '/bucket/key?tagging' });
    const s3Signer = signerOf(tagging);
    expect(s3Signer === undefined ? undefined : mapCall(tagging, s3Signer, ENV).kind).toBe('unmapped');
  });
});
