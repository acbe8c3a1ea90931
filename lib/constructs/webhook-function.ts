import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type EncryptedLogProps, encryptedLogGroup } from './encrypted-log-group';
import { acknowledge } from '../nag';
import { BUNDLING, bundlingPaths, NODE_ENVIRONMENT, RUNTIME } from './bundling';
import { FunctionRole } from './function-role';

/** Props of {@link WebhookFunction}. */
export interface WebhookFunctionProps extends EncryptedLogProps {
  /** Path of the TypeScript entry point exporting `handler`. */
  readonly entry: string;
  /** Environment variables: names, ARNs and non-secret JSON only. @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Place the function in this VPC's private isolated subnets. @default no VPC */
  readonly vpc?: ec2.IVpc;
  /** With vpc: the subnets the function runs in. @default the VPC's private isolated subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security groups in the VPC. @default one created for the function */
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
  /** What the function does, shown in the console. @default none */
  readonly description?: string;
}

/**
 * One hookgate Lambda function: arm64, newest Node.js LTS, bundled as {@link BUNDLING} says,
 * X-Ray active tracing, its own encrypted log group with retention, and its own role that
 * starts with nothing but writing to that log group (no AWS managed policies, no inline policy). Callers add
 * exactly the actions the function needs with {@link WebhookFunction.addToRolePolicy}.
 */
export class WebhookFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: FunctionRole;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WebhookFunctionProps) {
    super(scope, id);
    this.logGroup = encryptedLogGroup(this, 'Logs', props);
    this.role = new FunctionRole(this, 'Role', { description: props.description });
    this.logGroup.grantWrite(this.role);
    if (props.vpc !== undefined) {
      // What AWSLambdaVPCAccessExecutionRole grants, without the managed policy's logs:* on '*'.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      ...bundlingPaths(props.entry),
      handler: 'handler',
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(10),
      memorySize: props.memorySize ?? 512,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      // JSON platform logs at WARN: drops START/END/REPORT lines (~0.5 KB per invocation, a
      // quarter of the log cost per webhook); durations and errors stay in Lambda's metrics.
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      description: props.description,
      environment: { ...props.environment, ...NODE_ENVIRONMENT },
      bundling: BUNDLING,
      ...(props.vpc !== undefined
        ? { vpc: props.vpc, vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, securityGroups: props.securityGroups ? [...props.securityGroups] : undefined }
        : {}),
    });
    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      props.vpc === undefined
        ? 'X-Ray PutTraceSegments/PutTelemetryRecords (added by active tracing) support no resource-level permissions.'
        : 'X-Ray PutTraceSegments/PutTelemetryRecords and the EC2 network-interface actions Lambda needs in a VPC support no resource-level permissions.',
    );
  }

  /** Adds one statement to the function's own role. */
  addToRolePolicy(statement: iam.PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }

  /**
   * Acknowledges the HIPAA findings every queue-fed or API-fed function has, each with its
   * reason: no function-level DLQ (`dlq`), no reserved concurrency (`concurrency`), and, outside
   * a VPC, the environment's `vpc: false`.
   */
  acknowledgeFindings(inVpc: boolean, [dlq, concurrency]: readonly [string, string]): void {
    acknowledge(this.function, 'HIPAA.Security-LambdaDLQ', dlq);
    acknowledge(this.function, 'HIPAA.Security-LambdaConcurrency', concurrency);
    if (!inVpc) {
      acknowledge(
        this.function,
        'HIPAA.Security-LambdaInsideVPC',
        'This environment sets vpc: false (a development choice in config); the function only calls AWS APIs over TLS with IAM. Environments that carry production PHI set vpc: true.',
      );
    }
  }
}
