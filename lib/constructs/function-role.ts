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
 *
 * Every KMS statement must carry a condition (an encryption context or `kms:ViaService`): one key
 * serves every source, so an unconditioned grant would let this function use it for any source's
 * data. A grant aws-cdk-lib would add on its own (for example by passing an encrypted queue to an
 * event source) fails the synthesis instead of widening the role silently.
 */
export class FunctionRole extends iam.Role {
  public readonly policy: iam.ManagedPolicy;
  private readonly statements: iam.PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: FunctionRoleProps = {}) {
    super(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: props.description });
    this.policy = new iam.ManagedPolicy(this, 'Policy', { roles: [this], description: props.description });
    this.node.addValidation({ validate: () => this.unconditionedKeyUse() });
  }

  override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.statements.push(statement);
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }

  /** One problem per KMS statement that allows without a condition (checked at synthesis). */
  private unconditionedKeyUse(): string[] {
    return this.statements.flatMap((statement) => {
      const kmsActions = statement.actions.filter((action) => action.startsWith('kms:'));
      const conditions: unknown = statement.conditions;
      const conditioned = typeof conditions === 'object' && conditions !== null && Object.keys(conditions).length > 0;
      if (kmsActions.length === 0 || statement.effect !== iam.Effect.ALLOW || conditioned) return [];
      return [`KMS statement without a condition (${kmsActions.join(', ')}): scope it with an encryption context or kms:ViaService`];
    });
  }
}
