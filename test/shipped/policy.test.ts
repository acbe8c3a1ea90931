import { authorize, type AuthorizationRequest, type Statement } from './policy';

/**
 * The evaluator the shipped-bundle suite checks every AWS call with. It runs in `npm test` (no
 * moto needed): a wrong "allow" here would let the shipped suite pass calls the role refuses.
 */

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-0b0a-4999-8888-777766665555';
const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table/hookgate-dev-Dedupe';

function request(action: string, resource: string, values: Record<string, string[]> = {}, knownAbsent: readonly string[] = []): AuthorizationRequest {
  const absent = new Set(knownAbsent.map((k) => k.toLowerCase()));
  return { action, resource, context: { values, knowsAbsent: (key) => absent.has(key.toLowerCase()) } };
}

const allow = (extra: Partial<Statement>): Statement => ({ Effect: 'Allow', ...extra });

describe('the policy evaluator of the shipped suite', () => {
  it('allows an action matched case-insensitively with wildcards on the exact resource', () => {
    const statements = [allow({ Sid: 'Dedupe', Action: ['dynamodb:Get*', 'DYNAMODB:putitem'], Resource: TABLE })];
    expect(authorize(statements, request('dynamodb:PutItem', TABLE))).toEqual({ decision: 'allow', statement: 'Dedupe' });
    expect(authorize(statements, request('dynamodb:GetItem', TABLE)).decision).toBe('allow');
  });

  it('denies implicitly an action or a resource no statement names', () => {
    const statements = [allow({ Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:123456789012:stripe-queue' })];
    expect(authorize(statements, request('sqs:SendMessage', 'arn:aws:sqs:us-east-1:123456789012:github-queue'))).toEqual({ decision: 'deny', reason: 'implicit' });
    expect(authorize(statements, request('sqs:DeleteMessage', 'arn:aws:sqs:us-east-1:123456789012:stripe-queue'))).toEqual({ decision: 'deny', reason: 'implicit' });
  });

  it('matches resources case-sensitively, `?` being exactly one character (a secret ARN suffix)', () => {
    const statements = [allow({ Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hookgate/dev/stripe-??????' })];
    const arn = (suffix: string): string => `arn:aws:secretsmanager:us-east-1:123456789012:secret:hookgate/dev/stripe${suffix}`;
    expect(authorize(statements, request('secretsmanager:GetSecretValue', arn('-AbC123'))).decision).toBe('allow');
    expect(authorize(statements, request('secretsmanager:GetSecretValue', arn('-AbC12'))).decision).toBe('deny');
    expect(authorize(statements, request('secretsmanager:GetSecretValue', arn('-extra-AbC123'))).decision).toBe('deny');
    expect(authorize(statements, request('secretsmanager:GetSecretValue', arn('-AbC123').replace('stripe', 'Stripe'))).decision).toBe('deny');
  });

  it('lets an explicit Deny win over an Allow', () => {
    const deny: Statement = { Effect: 'Deny', Sid: 'NoDecrypt', Action: 'kms:Decrypt', Resource: KEY };
    const statements = [allow({ Action: 'kms:*', Resource: '*' }), deny];
    expect(authorize(statements, request('kms:Decrypt', KEY))).toEqual({ decision: 'deny', reason: 'explicit', statement: 'NoDecrypt' });
    expect(authorize(statements, request('kms:GenerateDataKey', KEY)).decision).toBe('allow');
  });

  it('reads NotAction and NotResource as everything except what they list', () => {
    const statements = [allow({ NotAction: 'kms:Decrypt', NotResource: 'arn:aws:kms:*:*:key/other' })];
    expect(authorize(statements, request('kms:GenerateDataKey', KEY)).decision).toBe('allow');
    expect(authorize(statements, request('kms:Decrypt', KEY)).decision).toBe('deny');
    expect(authorize(statements, request('kms:GenerateDataKey', 'arn:aws:kms:us-east-1:1:key/other')).decision).toBe('deny');
  });

  it('holds StringEquals on kms:EncryptionContext keys only for the listed value', () => {
    const statements = [allow({ Action: 'kms:GenerateDataKey', Resource: KEY, Condition: { StringEquals: { 'kms:EncryptionContext:hookgate:source': 'stripe' } } })];
    const absent = ['kms:EncryptionContext:hookgate:source'];
    expect(authorize(statements, request('kms:GenerateDataKey', KEY, { 'kms:EncryptionContext:hookgate:source': ['stripe'] })).decision).toBe('allow');
    expect(authorize(statements, request('kms:GenerateDataKey', KEY, { 'kms:EncryptionContext:hookgate:source': ['github'] })).decision).toBe('deny');
    expect(authorize(statements, request('kms:GenerateDataKey', KEY, {}, absent)).decision).toBe('deny');
  });

  it('holds StringLike on a context key case-insensitively for the key name and case-sensitively for the value', () => {
    const statements = [allow({ Action: 'kms:Decrypt', Resource: KEY, Condition: { StringLike: { 'KMS:EncryptionContext:hookgate:purpose': 'webhook-*' } } })];
    expect(authorize(statements, request('kms:Decrypt', KEY, { 'kms:encryptioncontext:hookgate:purpose': ['webhook-body'] })).decision).toBe('allow');
    expect(authorize(statements, request('kms:Decrypt', KEY, { 'kms:encryptioncontext:hookgate:purpose': ['Webhook-body'] })).decision).toBe('deny');
  });

  it('does not apply a kms:ViaService condition to a direct call, unless it is IfExists', () => {
    const via = { 'kms:ViaService': ['sqs.us-east-1.amazonaws.com', 'dynamodb.us-east-1.amazonaws.com'] };
    const direct = request('kms:Decrypt', KEY, {}, ['kms:ViaService']);
    expect(authorize([allow({ Action: 'kms:Decrypt', Resource: KEY, Condition: { StringEquals: via } })], direct).decision).toBe('deny');
    expect(authorize([allow({ Action: 'kms:Decrypt', Resource: KEY, Condition: { StringEqualsIfExists: via } })], direct).decision).toBe('allow');
    expect(authorize([allow({ Action: 'kms:Decrypt', Resource: KEY, Condition: { StringNotEquals: via } })], direct).decision).toBe('allow');
  });

  it('holds ForAllValues:StringLike on dynamodb:LeadingKeys when every key matches, and vacuously when there is none', () => {
    const statements = [allow({ Action: 'dynamodb:PutItem', Resource: TABLE, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['stripe:*'] } } })];
    expect(authorize(statements, request('dynamodb:PutItem', TABLE, { 'dynamodb:LeadingKeys': ['stripe:evt_1'] })).decision).toBe('allow');
    expect(authorize(statements, request('dynamodb:PutItem', TABLE, { 'dynamodb:LeadingKeys': ['stripe:evt_1', 'github:x'] })).decision).toBe('deny');
    expect(authorize(statements, request('dynamodb:PutItem', TABLE, {}, ['dynamodb:LeadingKeys'])).decision).toBe('allow');
  });

  it('holds ForAnyValue only when some value matches, never on an absent key', () => {
    const statements = [allow({ Action: 'kms:Encrypt', Resource: KEY, Condition: { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'hookgate:source' } } })];
    expect(authorize(statements, request('kms:Encrypt', KEY, { 'kms:EncryptionContextKeys': ['other', 'hookgate:source'] })).decision).toBe('allow');
    expect(authorize(statements, request('kms:Encrypt', KEY, {}, ['kms:EncryptionContextKeys'])).decision).toBe('deny');
  });

  it('reads Null as a test of absence', () => {
    const statements = [allow({ Action: 'kms:Encrypt', Resource: KEY, Condition: { Null: { 'kms:EncryptionContext:hookgate:source': 'false' } } })];
    expect(authorize(statements, request('kms:Encrypt', KEY, { 'kms:EncryptionContext:hookgate:source': ['x'] })).decision).toBe('allow');
    expect(authorize(statements, request('kms:Encrypt', KEY, {}, ['kms:EncryptionContext:hookgate:source'])).decision).toBe('deny');
  });

  it('requires every operator and every key of a condition to hold', () => {
    const statements = [
      allow({ Action: 'kms:Encrypt', Resource: KEY, Condition: { StringEquals: { 'kms:EncryptionContext:a': '1', 'kms:EncryptionContext:b': '2' }, Bool: { 'aws:SecureTransport': 'true' } } }),
    ];
    const values = { 'kms:EncryptionContext:a': ['1'], 'kms:EncryptionContext:b': ['2'], 'aws:SecureTransport': ['true'] };
    expect(authorize(statements, request('kms:Encrypt', KEY, values)).decision).toBe('allow');
    expect(authorize(statements, request('kms:Encrypt', KEY, { ...values, 'kms:EncryptionContext:b': ['3'] })).decision).toBe('deny');
    expect(authorize(statements, request('kms:Encrypt', KEY, { ...values, 'aws:SecureTransport': ['false'] })).decision).toBe('deny');
  });

  it('says it cannot decide a condition on a key it cannot fill in, rather than allowing', () => {
    const statements = [allow({ Action: 'kms:Decrypt', Resource: KEY, Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } } })];
    const decision = authorize(statements, request('kms:Decrypt', KEY));
    expect(decision.decision).toBe('unknown');
  });

  it('says it cannot decide an operator or a policy variable it does not implement', () => {
    expect(authorize([allow({ Action: 'kms:Decrypt', Resource: KEY, Condition: { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } } })], request('kms:Decrypt', KEY, { 'aws:CurrentTime': ['x'] })).decision).toBe('unknown');
    expect(authorize([allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${aws:username}/*' })], request('s3:GetObject', 'arn:aws:s3:::b/alice/k')).decision).toBe('unknown');
  });

  it('lets an undecidable Deny make an allowed call undecidable, and ignores an undecidable Allow when another allows', () => {
    const undecidableDeny: Statement = { Effect: 'Deny', Action: 'kms:Decrypt', Resource: KEY, Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } } };
    const undecidableAllow = allow({ Action: 'kms:Decrypt', Resource: KEY, Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } } });
    const plainAllow = allow({ Action: 'kms:Decrypt', Resource: KEY });
    expect(authorize([plainAllow, undecidableDeny], request('kms:Decrypt', KEY)).decision).toBe('unknown');
    expect(authorize([plainAllow, undecidableAllow], request('kms:Decrypt', KEY)).decision).toBe('allow');
  });

  it('reads IAM escapes as literal characters', () => {
    const statements = [allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/odd${*}name' })];
    expect(authorize(statements, request('s3:GetObject', 'arn:aws:s3:::b/odd*name')).decision).toBe('allow');
    expect(authorize(statements, request('s3:GetObject', 'arn:aws:s3:::b/oddXname')).decision).toBe('deny');
  });
});
