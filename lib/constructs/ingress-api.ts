import { Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as xray from 'aws-cdk-lib/aws-xray';
import { Construct } from 'constructs';
import { type EncryptedLogProps, encryptedLogGroup } from './encrypted-log-group';
import { acknowledge } from '../nag';

/** One route of the API: a source and its verifier. */
export interface IngressRoute {
  readonly sourceName: string;
  readonly verifier: lambda.IFunction;
  /** Also answer `GET` (subscription handshake, Meta `hub.challenge`). @default false */
  readonly handshake?: boolean;
  /** Only these client IPv4/IPv6 CIDRs may call the route (API resource policy). @default any client */
  readonly allowedIps?: readonly string[];
}

/** Props of {@link IngressApi}. */
export interface IngressApiProps extends EncryptedLogProps {
  /** Routes to add now; more with {@link IngressApi.addRoute}. @default none */
  readonly routes?: readonly IngressRoute[];
  /** Stage steady-state requests per second (the config's throttling.rateLimit; defaults in lambda/config/schema.ts). */
  readonly throttlingRateLimit: number;
  /** Stage burst (the config's throttling.burstLimit). */
  readonly throttlingBurstLimit: number;
  /** @default 'v1' */
  readonly stageName?: string;
  /** Share of API requests X-Ray traces (no reservoir). @default 0.01 */
  readonly traceSampleRate?: number;
  /**
   * Routes whose requests carry a credential in the query string (a `token` source's `query`,
   * Meta's `hub.verify_token` on the handshake GET). X-Ray records a traced request's full URL,
   * query included, so these are never traced. @default none
   */
  readonly untracedRoutes?: readonly UntracedRoute[];
}

/** A source's route that X-Ray must not trace. */
export interface UntracedRoute {
  readonly sourceName: string;
  /** `GET` for Meta's handshake only; `*` when every request carries the credential. */
  readonly method: 'GET' | '*';
}

/** The path prefix of every route: `/webhooks/{source}`. */
export const WEBHOOKS_PATH = 'webhooks';

/**
 * The REST API providers call: `POST /webhooks/<source>` per configured source (a resource per
 * source, so unknown sources never reach a function), `GET` as well for handshake providers.
 *
 * Bodies pass through as bytes: `binaryMediaTypes: ['*\/*']` makes API Gateway hand the exact
 * bytes to the verifier base64-encoded (`isBase64Encoded`), so signatures are checked over what
 * the provider sent, whatever its content type. Access logs are JSON without bodies; execution
 * logging is ERROR without data trace (no headers or bodies in logs).
 */
export class IngressApi extends Construct {
  public readonly api: apigateway.RestApi;
  public readonly stage: apigateway.Stage;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly executionLogGroup: logs.LogGroup;
  /** X-Ray sampling of this stage. */
  public readonly samplingRule: xray.CfnSamplingRule;
  /** Rules that keep routes with a query credential out of traces. */
  public readonly untracedRules: readonly xray.CfnSamplingRule[];
  /** `/webhooks`: every source's resource hangs under it. */
  public readonly webhooks: apigateway.Resource;
  /** Whether the resource policy already allows every client (added with the first allow-list). */
  private allowsEveryone = false;

  constructor(scope: Construct, id: string, props: IngressApiProps) {
    super(scope, id);
    const stageName = props.stageName ?? 'v1';
    this.accessLogGroup = encryptedLogGroup(this, 'AccessLogs', props);

    this.api = new apigateway.RestApi(this, 'Api', {
      description: 'hookgate: webhooks in, verified and queued',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      binaryMediaTypes: ['*/*'],
      // Execution logging needs the account-level CloudWatch role; kept on stack deletion
      // because it is shared by every API in the account and region.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: apigateway.AccessLogField.contextRequestId(),
            extendedRequestId: apigateway.AccessLogField.contextExtendedRequestId(),
            ip: apigateway.AccessLogField.contextIdentitySourceIp(),
            requestTime: apigateway.AccessLogField.contextRequestTime(),
            httpMethod: apigateway.AccessLogField.contextHttpMethod(),
            resourcePath: apigateway.AccessLogField.contextResourcePath(),
            status: apigateway.AccessLogField.contextStatus(),
            protocol: apigateway.AccessLogField.contextProtocol(),
            responseLength: apigateway.AccessLogField.contextResponseLength(),
            integrationLatency: apigateway.AccessLogField.contextIntegrationLatency(),
            responseLatency: apigateway.AccessLogField.contextResponseLatency(),
            wafStatus: apigateway.AccessLogField.contextWafResponseCode(),
            errorMessage: apigateway.AccessLogField.contextErrorMessage(),
          }),
        ),
        // ERROR, not INFO: INFO writes a dozen lines per request, which would be the largest log
        // cost per webhook (docs/cost.md); the access log already has one line per request.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit,
      },
    });
    this.stage = this.api.deploymentStage;

    // API Gateway would create this group itself, unencrypted and kept forever; creating it
    // first (under the name API Gateway dictates) gives it the key and the retention.
    this.executionLogGroup = encryptedLogGroup(this, 'ExecutionLogs', props, `API-Gateway-Execution-Logs_${this.api.restApiId}/${stageName}`);
    this.stage.node.addDependency(this.executionLogGroup);

    // X-Ray's default rule (1 request/s reservoir + 5 %) traces every request of a quiet source,
    // the largest variable cost after API Gateway itself (docs/cost.md). Sample this stage at
    // `traceSampleRate` with no reservoir; the functions follow the API's decision.
    this.samplingRule = new xray.CfnSamplingRule(this, 'Sampling', {
      samplingRule: {
        // X-Ray rule names are per account and region, 32 characters at most: derived, unique.
        ruleName: Names.uniqueResourceName(this, { maxLength: 32 }),
        priority: 100,
        fixedRate: props.traceSampleRate ?? 0.01,
        reservoirSize: 0,
        serviceName: '*',
        serviceType: 'AWS::ApiGateway::Stage',
        host: '*',
        httpMethod: '*',
        urlPath: '*',
        resourceArn: Stack.of(this).formatArn({ service: 'apigateway', account: '', resource: '/restapis', resourceName: `${this.api.restApiId}/stages/${stageName}` }),
        version: 1,
      },
    });
    // Rules with a lower priority number win: these trace nothing on their routes. X-Ray allows
    // 25 sampling rules per account and region (a quota), so only routes with a query credential
    // get one.
    this.untracedRules = (props.untracedRoutes ?? []).map(
      (route, i) =>
        new xray.CfnSamplingRule(this, `Untraced-${route.sourceName}`, {
          samplingRule: {
            ruleName: Names.uniqueResourceName(this, { maxLength: 24 }) + `-u${i}`,
            priority: 10 + i,
            fixedRate: 0,
            reservoirSize: 0,
            serviceName: '*',
            serviceType: 'AWS::ApiGateway::Stage',
            host: '*',
            httpMethod: route.method,
            urlPath: `*/${WEBHOOKS_PATH}/${route.sourceName}*`,
            resourceArn: Stack.of(this).formatArn({ service: 'apigateway', account: '', resource: '/restapis', resourceName: `${this.api.restApiId}/stages/${stageName}` }),
            version: 1,
          },
        }),
    );

    this.webhooks = this.api.root.addResource(WEBHOOKS_PATH);
    for (const route of props.routes ?? []) this.addRoute(route);

    // An unknown source hits no resource; answer 404 like the contract says, not API Gateway's
    // 403 "Missing Authentication Token".
    this.api.addGatewayResponse('UnknownSource', {
      type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
      statusCode: '404',
      templates: { 'application/json': '{"error":"unknown_source"}' },
    });

    const signedWebhooks =
      'Providers cannot use IAM, Cognito or API keys: every webhook is authenticated by its provider signature (or token) in the verifier, over the exact bytes, before anything is enqueued.';
    acknowledge(this.api, 'AwsSolutions-APIG4', signedWebhooks);
    acknowledge(this.api, 'AwsSolutions-COG4', signedWebhooks);
    acknowledge(
      this.api,
      'AwsSolutions-APIG2',
      'Body validation would parse the body before its signature is checked (the parse-then-verify anti-pattern) and there is no schema: providers define their payloads. The verifier checks size and signature over the exact bytes and answers 4xx.',
    );
    acknowledge(
      this.api,
      'HIPAA.Security-APIGWCacheEnabledAndEncrypted',
      'Webhook deliveries must never be answered from a cache (each is a distinct event); no cache cluster exists, so nothing is stored unencrypted.',
    );
    acknowledge(
      this.api,
      'HIPAA.Security-APIGWSSLEnabled',
      'The rule asks for a client certificate towards HTTP backends; every integration here is a Lambda (AWS_PROXY) integration over AWS TLS endpoints.',
    );
    acknowledge(
      this.api,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'The account-level API Gateway logging role uses the AWS-documented managed policy; it is what execution logging requires.',
    );
  }

  /**
   * `POST /webhooks/<source>` (and `GET` for handshakes) to the source's verifier. With
   * `allowedIps`, the API's resource policy denies the route to any other client: API Gateway
   * applies it to the resource it routed to, whatever spelling of the path the client used.
   */
  addRoute(route: IngressRoute): apigateway.Resource {
    const resource = this.webhooks.addResource(route.sourceName);
    const integration = new apigateway.LambdaIntegration(route.verifier, { proxy: true, allowTestInvoke: false });
    resource.addMethod('POST', integration);
    if (route.handshake === true) resource.addMethod('GET', integration);
    if (route.allowedIps !== undefined && route.allowedIps.length > 0) this.allowOnlyFrom(route.sourceName, route.allowedIps);
    return resource;
  }

  private allowOnlyFrom(sourceName: string, cidrs: readonly string[]): void {
    // Once an API has a resource policy, API Gateway refuses whatever it does not allow.
    if (!this.allowsEveryone) {
      this.api.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'ProvidersCallWebhooks',
          principals: [new iam.AnyPrincipal()],
          actions: ['execute-api:Invoke'],
          resources: ['execute-api:/*'],
        }),
      );
      this.allowsEveryone = true;
    }
    this.api.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        // Any stage and method of the source's resource.
        resources: [`execute-api:/*/*/${WEBHOOKS_PATH}/${sourceName}`],
        conditions: { NotIpAddress: { 'aws:SourceIp': [...cidrs] } },
      }),
    );
  }
}
