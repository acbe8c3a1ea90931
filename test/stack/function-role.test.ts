import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FunctionRole } from '../../lib/constructs/function-role';
import { envelopeKeyUse, serviceKeyUse } from '../../lib/constructs/stack-key';

function roleWithKey(): { stack: Stack; role: FunctionRole; key: kms.Key } {
  const stack = new Stack(new App(), 'Roles');
  return { stack, role: new FunctionRole(stack, 'Role'), key: new kms.Key(stack, 'Key') };
}

describe('function roles and the stack key', () => {
  it('a function role refuses a KMS grant without a condition', () => {
    const { stack, role, key } = roleWithKey();
    key.grantDecrypt(role);
    expect(() => Template.fromStack(stack)).toThrow(/KMS statement without a condition \(kms:Decrypt\)/);
  });

  it('a function role refuses the unconditioned kms:Decrypt a grant on an encrypted queue adds', () => {
    const { stack, role, key } = roleWithKey();
    new sqs.Queue(stack, 'Queue', { encryptionMasterKey: key }).grantConsumeMessages(role);
    expect(() => Template.fromStack(stack)).toThrow(/KMS statement without a condition/);
  });

  it('a function role accepts key use scoped to an encryption context or a service', () => {
    const { stack, role, key } = roleWithKey();
    role.addToPrincipalPolicy(envelopeKeyUse(key, 'Seal', 'stripe', ['kms:GenerateDataKey']));
    role.addToPrincipalPolicy(serviceKeyUse(key, 'Queue', 'sqs', ['kms:Decrypt']));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: ['*'] }));
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});
