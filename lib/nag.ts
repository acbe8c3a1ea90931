import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on one construct (and its children), with the reason a
 * reviewer reads. cdk-nag 3 reads CDK's native acknowledgements; each call covers one rule id
 * (or one `RuleId[finding]`), never a whole pack.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
