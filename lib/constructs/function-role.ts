import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** Props of {@link FunctionRole}. */
export interface FunctionRoleProps {
  /** What the role is for. @default none */
  readonly description?: string;
}

/**
 * A Lambda execution role whose every grant, including those aws-cdk-lib adds itself (active
 * tracing, the SQS event source, log group writes), lands in one customer-managed policy
 * attached to this role only, instead of an inline default policy (HIPAA IAMNoInlinePolicy).
 * The policy is a child of the role, so anything that depends on the role depends on it too.
 */
export class FunctionRole extends iam.Role {
  public readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: FunctionRoleProps = {}) {
    super(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: props.description });
    this.policy = new iam.ManagedPolicy(this, 'Policy', { roles: [this], description: props.description });
  }

  override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}
