import { join } from 'node:path';
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { Hookgate } from 'hookgate';

/** The clinic's stack: its own resources, and hookgate as one construct among them. */
export class ClinicStack extends Stack {
  public readonly webhooks: Hookgate;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    // The clinic's scheduling system's API key: the scheduling processor calls that API.
    const schedulingApiKey = secretsmanager.Secret.fromSecretNameV2(this, 'SchedulingApiKey', 'clinic/prod/scheduling-api');

    this.webhooks = new Hookgate(this, 'Webhooks', {
      environmentName: 'prod',
      // A file: its relative paths (the ehr destination's entry) resolve from this project.
      config: join(__dirname, '..', 'config', 'prod.json'),
      processorEntries: { scheduling: join(__dirname, '..', 'processors', 'scheduling.ts') },
    });

    // An extra grant: only the scheduling processor reads the API key.
    const scheduling = this.webhooks.sources.get('scheduling');
    scheduling?.processor.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSchedulingApiKey',
        actions: ['secretsmanager:GetSecretValue'],
        // A secret's ARN ends with six random characters.
        resources: [`${schedulingApiKey.secretArn}-??????`],
      }),
    );
    scheduling?.processor.function.addEnvironment('SCHEDULING_API_KEY_SECRET', schedulingApiKey.secretName);
  }
}
