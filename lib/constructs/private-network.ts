import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type EncryptedLogProps, encryptedLogGroup } from './encrypted-log-group';
import { acknowledge } from '../nag';

/** Props of {@link PrivateNetwork}. */
export interface PrivateNetworkProps extends EncryptedLogProps {
  /** @default 2 */
  readonly maxAzs?: number;
}

/**
 * A VPC with private isolated subnets only (no internet gateway, no NAT): the functions reach
 * AWS through gateway endpoints (DynamoDB, S3) and interface endpoints (SQS, KMS, Secrets
 * Manager, CloudWatch Logs, CloudWatch metrics, X-Ray). All traffic is recorded in flow logs.
 */
export class PrivateNetwork extends Construct {
  public readonly vpc: ec2.Vpc;
  public readonly flowLogGroup: logs.LogGroup;
  /** Security group of the functions: the only group the endpoints accept. */
  public readonly functionSecurityGroup: ec2.SecurityGroup;
  /** Security group of the interface endpoints: HTTPS from the functions only. */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs ?? 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });
    const interfaces: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
      Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
      SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      Monitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
      // Active tracing sends segments to X-Ray; without an endpoint they would be lost.
      XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
    };
    // Isolated subnets have no route out, so outbound is open only towards the endpoints.
    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'Functions', {
      vpc: this.vpc,
      description: 'hookgate functions',
      allowAllOutbound: true,
    });
    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'Endpoints', {
      vpc: this.vpc,
      description: 'hookgate interface endpoints: HTTPS from the functions only',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(this.functionSecurityGroup, ec2.Port.tcp(443), 'HTTPS from hookgate functions');
    for (const [name, service] of Object.entries(interfaces)) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        securityGroups: [this.endpointSecurityGroup],
        // Not the whole VPC CIDR: only the functions' group may connect.
        open: false,
      });
    }
    this.flowLogGroup = encryptedLogGroup(this, 'FlowLogs', props);
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    acknowledge(
      this.vpc.node.findChild('FlowLog'),
      'HIPAA.Security-IAMNoInlinePolicy',
      'The flow log delivery role and its one policy are created together by aws-cdk-lib for this VPC only and are never shared.',
    );
    acknowledge(
      this.vpc,
      'HIPAA.Security-VPCDefaultSecurityGroupClosed',
      'Nothing is attached to the default security group: every function and endpoint has its own. Closing it needs a custom-resource Lambda that would itself be outside these controls.',
    );
  }
}
