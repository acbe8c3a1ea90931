import { Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../lambda/config/schema';
import { type EncryptedLogProps, encryptedLogGroup } from './encrypted-log-group';
import { acknowledge } from '../nag';

/** Where a group of functions runs: a VPC, its subnets and security groups. */
export interface FunctionPlacement {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** @default one created per function */
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
}

/**
 * The network of an environment with `vpc: true`: where the ingest functions (verifier,
 * processor) run, and where the delivery functions of destinations run, which may differ (NAT
 * egress for deliveries only).
 */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  /** Verifiers and processors. */
  readonly functions: FunctionPlacement;
  /** Functions that reach destinations (delivery functions and bundled destination handlers). */
  readonly deliveries: FunctionPlacement;
}

/** The config's `network` (vpc: true only). */
export type NetworkConfig = NonNullable<EnvironmentConfig['network']>;

/** AWS APIs destinations call from inside the VPC, beyond the ones every function needs. */
export type DestinationService = 'lambda' | 'events';

/** What the destinations of an environment need from its network. */
export interface DeliveryNetworkProps {
  /**
   * TCP ports delivery functions connect to (443, and the port of any destination URL that
   * names another). When given, delivery functions get a security group of their own whose only
   * egress is these ports.
   * @default no destinations: deliveries share the functions' placement
   */
  readonly deliveryPorts?: readonly number[];
}

/** Props of {@link PrivateNetwork}. */
export interface PrivateNetworkProps extends EncryptedLogProps, DeliveryNetworkProps {
  /** @default 2 */
  readonly maxAzs?: number;
  /**
   * `nat`: public subnets with one NAT gateway and private subnets with egress, where delivery
   * functions (only) run, so internet destinations are reachable. `none`: isolated subnets only.
   * @default 'none'
   */
  readonly egress?: NetworkConfig['egress'];
  /** Interface endpoints for the AWS APIs destinations call (Lambda, EventBridge). @default none */
  readonly destinationServices?: readonly DestinationService[];
}

const DESTINATION_ENDPOINTS: Readonly<Record<DestinationService, [string, ec2.InterfaceVpcEndpointAwsService]>> = {
  lambda: ['Lambda', ec2.InterfaceVpcEndpointAwsService.LAMBDA],
  events: ['Events', ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE],
};

/**
 * hookgate's own VPC. Functions run in private isolated subnets (no internet gateway, no NAT)
 * and reach AWS through gateway endpoints (DynamoDB, S3) and interface endpoints (SQS, KMS,
 * Secrets Manager, CloudWatch Logs, CloudWatch metrics, X-Ray; Lambda and EventBridge when a
 * destination calls them). With `egress: 'nat'`, delivery functions alone run in private
 * subnets behind a NAT gateway. All traffic is recorded in flow logs.
 */
export class PrivateNetwork extends Construct implements FunctionNetwork {
  public readonly vpc: ec2.Vpc;
  public readonly flowLogGroup: logs.LogGroup;
  /** Security group of the functions: the only group the endpoints accept, with the delivery group. */
  public readonly functionSecurityGroup: ec2.SecurityGroup;
  /** Security group of the delivery functions (egress on deliveryPorts only), when there are destinations. */
  public readonly deliverySecurityGroup?: ec2.SecurityGroup;
  /** Security group of the interface endpoints: HTTPS from the functions only. */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;
  public readonly functions: FunctionPlacement;
  public readonly deliveries: FunctionPlacement;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    const nat = props.egress === 'nat';
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs ?? 2,
      natGateways: nat ? 1 : 0,
      // Isolated first: its addresses stay the same whether or not NAT egress is added.
      subnetConfiguration: [
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
        ...(nat
          ? [
              { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
              { name: 'egress', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
            ]
          : []),
      ],
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
      ...Object.fromEntries((props.destinationServices ?? []).map((service) => DESTINATION_ENDPOINTS[service])),
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
    this.functions = { vpc: this.vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, securityGroups: [this.functionSecurityGroup] };
    if (props.deliveryPorts === undefined) {
      this.deliveries = this.functions;
    } else {
      this.deliverySecurityGroup = egressOnlyGroup(this, this.vpc, props.deliveryPorts);
      this.endpointSecurityGroup.addIngressRule(this.deliverySecurityGroup, ec2.Port.tcp(443), 'HTTPS from hookgate delivery functions');
      this.deliveries = {
        vpc: this.vpc,
        subnets: { subnetType: nat ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED },
        securityGroups: [this.deliverySecurityGroup],
      };
    }
    for (const [name, service] of Object.entries(interfaces)) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        // Only in the isolated subnets' AZs (the same AZs as every other subnet).
        subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        securityGroups: [this.endpointSecurityGroup],
        // Not the whole VPC CIDR: only the functions' groups may connect.
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
    if (nat) {
      acknowledge(
        this.vpc,
        'HIPAA.Security-VPCNoUnrestrictedRouteToIGW',
        'network.egress is nat: the public subnets hold only the NAT gateway (no instance, no function, no public IP on launch); delivery functions reach internet destinations through it, with a security group allowing only their destination ports.',
      );
    }
  }
}

/** Props of {@link ExistingNetwork}: the config's `network` with a vpcId. */
export interface ExistingNetworkProps extends DeliveryNetworkProps {
  readonly vpcId: string;
  /** The subnets every function runs in. */
  readonly subnetIds: readonly string[];
  /** The AZs of subnetIds, in the same order. @default unknown to the template */
  readonly availabilityZones?: readonly string[];
  /** Security groups of every function. @default one created by hookgate, egress https only */
  readonly securityGroupIds?: readonly string[];
}

/**
 * A team's existing VPC (where internal destinations live): every function runs in the given
 * subnets. Built from ids only, so synthesis needs no AWS lookup. Its routing (NAT, endpoints,
 * peering) decides what the functions reach; hookgate adds no endpoint to it.
 */
export class ExistingNetwork extends Construct implements FunctionNetwork {
  public readonly vpc: ec2.IVpc;
  public readonly functions: FunctionPlacement;
  public readonly deliveries: FunctionPlacement;

  constructor(scope: Construct, id: string, props: ExistingNetworkProps) {
    super(scope, id);
    const zones = props.availabilityZones;
    // Without the AZs, the region's (never read: functions are placed by subnet id).
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: props.vpcId, availabilityZones: zones === undefined ? Fn.getAzs() : [...zones] });
    const subnets: ec2.SubnetSelection = {
      subnets: props.subnetIds.map((subnetId, i) =>
        ec2.Subnet.fromSubnetAttributes(this, `Subnet${i + 1}`, { subnetId, ...(zones === undefined ? {} : { availabilityZone: zones[i] }) }),
      ),
    };
    const given = props.securityGroupIds?.map((groupId, i) => ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i + 1}`, groupId));
    const functionGroups = given ?? [egressOnlyGroup(this, this.vpc, [443], 'Functions', 'hookgate functions: HTTPS out only')];
    this.functions = { vpc: this.vpc, subnets, securityGroups: functionGroups };
    const ports = props.deliveryPorts;
    const ownDeliveryGroup = given === undefined && ports !== undefined && ports.some((port) => port !== 443);
    this.deliveries = ownDeliveryGroup ? { ...this.functions, securityGroups: [egressOnlyGroup(this, this.vpc, ports)] } : this.functions;
  }
}

/** Props of {@link functionNetwork}. */
export interface FunctionNetworkProps extends EncryptedLogProps, DeliveryNetworkProps {
  /** The config's `network`. @default hookgate's own VPC, no egress */
  readonly network?: NetworkConfig;
  /** Interface endpoints for the AWS APIs destinations call, in hookgate's own VPC. @default none */
  readonly destinationServices?: readonly DestinationService[];
}

/** The network the config asks for: a team's existing VPC (`network.vpcId`) or hookgate's own. */
export function functionNetwork(scope: Construct, id: string, props: FunctionNetworkProps): PrivateNetwork | ExistingNetwork {
  const { network, ...rest } = props;
  if (network?.vpcId !== undefined && network.subnetIds !== undefined) {
    return new ExistingNetwork(scope, id, {
      vpcId: network.vpcId,
      subnetIds: network.subnetIds,
      availabilityZones: network.availabilityZones,
      securityGroupIds: network.securityGroupIds,
      deliveryPorts: props.deliveryPorts,
    });
  }
  return new PrivateNetwork(scope, id, { ...rest, egress: network?.egress });
}

/** A security group whose only rules are egress to any IPv4 address on `ports` (TCP). */
function egressOnlyGroup(
  scope: Construct,
  vpc: ec2.IVpc,
  ports: readonly number[],
  id = 'Deliveries',
  description = 'hookgate delivery functions: out to destination ports only',
): ec2.SecurityGroup {
  const group = new ec2.SecurityGroup(scope, id, { vpc, description, allowAllOutbound: false });
  for (const port of [...new Set(ports)].sort((a, b) => a - b)) group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `destinations on port ${port}`);
  return group;
}
