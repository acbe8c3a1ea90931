import { decide, type Policies, type ResourcePolicy } from './authorization';
import type { AuthorizationRequest, Statement } from './policy';

/**
 * How the shipped suite combines a role's policy with the queue, bucket and key policies of the
 * template (one account). Runs in `npm test`: no moto needed.
 */

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/verifier`;
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/0f0e0d0c-0b0a-4999-8888-777766665555`;
const QUEUE = `arn:aws:sqs:us-east-1:${ACCOUNT}:work`;

const request = (action: string, resource: string, secure = 'true'): AuthorizationRequest => ({
  action,
  resource,
  context: { values: { 'aws:SecureTransport': [secure] }, knowsAbsent: () => true },
});

type PolicyStatement = ResourcePolicy['statements'][number];

const rootDelegation: PolicyStatement = { statement: { Effect: 'Allow', Action: 'kms:*', Resource: '*' }, principal: { kind: 'account' } };
const tlsOnly: PolicyStatement = {
  statement: { Effect: 'Deny', Action: 'sqs:*', Resource: QUEUE, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
  principal: { kind: 'any' },
};

function policies(role: Statement[], keyStatements: PolicyStatement[] = [rootDelegation]): Policies {
  return {
    role: { statements: role, unevaluable: [] },
    roleArn: ROLE,
    resources: [
      { owner: 'Key', keyArn: KEY, statements: keyStatements },
      { owner: 'QueuePolicy', statements: [tlsOnly] },
    ],
  };
}

describe('combining role and resource policies as IAM does in one account', () => {
  it('lets the role use a key whose policy delegates to the account, when the role policy allows it', () => {
    const p = policies([{ Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: KEY }]);
    expect(decide(p, request('kms:GenerateDataKey', KEY)).decision).toBe('allow');
    expect(decide(p, request('kms:Decrypt', KEY)).decision).toBe('deny');
  });

  it('refuses a key whose policy neither names the role nor delegates to the account, whatever the role policy says', () => {
    const p = policies([{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }], []);
    expect(decide(p, request('kms:Decrypt', KEY)).decision).toBe('deny');
  });

  it('cannot decide a key the template does not hold', () => {
    const p = policies([{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }]);
    expect(decide(p, request('kms:Decrypt', `arn:aws:kms:us-east-1:${ACCOUNT}:key/other`)).decision).toBe('unknown');
  });

  it('applies a queue policy Deny to the role (TLS only) over the role policy Allow', () => {
    const p = policies([{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE }]);
    expect(decide(p, request('sqs:SendMessage', QUEUE)).decision).toBe('allow');
    expect(decide(p, request('sqs:SendMessage', QUEUE, 'false'))).toMatchObject({ decision: 'deny', reason: 'explicit' });
  });

  it('lets a resource policy that names the role allow what the role policy does not', () => {
    const named: PolicyStatement = { statement: { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE }, principal: { kind: 'arns', arns: [ROLE] } };
    const p: Policies = { ...policies([]), resources: [{ owner: 'QueuePolicy', statements: [named] }] };
    expect(decide(p, request('sqs:SendMessage', QUEUE)).decision).toBe('allow');
    expect(decide({ ...p, roleArn: `arn:aws:iam::${ACCOUNT}:role/other` }, request('sqs:SendMessage', QUEUE)).decision).toBe('deny');
  });
});
