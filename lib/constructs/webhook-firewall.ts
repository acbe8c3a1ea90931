import { ArnFormat, Fn, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { WEBHOOKS_PATH } from './ingress-api';

/** Signature and token headers of the known providers, never written to WAF logs. */
export const SIGNATURE_HEADERS = [
  'authorization',
  'stripe-signature',
  'x-twilio-signature',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-shopify-hmac-sha256',
  'x-slack-signature',
  'webhook-signature',
  'svix-signature',
  'x-zoho-webhook-signature',
] as const;

/** A source restricted to client IP ranges. */
export interface SourceAllowList {
  readonly sourceName: string;
  /** IPv4 and/or IPv6 CIDRs. */
  readonly cidrs: readonly string[];
}

/** Props of {@link WebhookFirewall}. */
export interface WebhookFirewallProps {
  /** ARN of the API Gateway stage to protect. */
  readonly stageArn: string;
  /** Requests per client IP per window before it is blocked (the config's rateLimit.limit; defaults in lambda/config/schema.ts). */
  readonly rateLimit: number;
  /** Window of the rate limit, seconds (the config's rateLimit.windowSeconds). */
  readonly rateLimitWindowSeconds: 60 | 120 | 300 | 600;
  /** Sources only reachable from listed ranges. @default none */
  readonly allowLists?: readonly SourceAllowList[];
  /** Extra headers to redact in logs (token and custom HMAC headers). @default none */
  readonly redactedHeaders?: readonly string[];
  /** Key that encrypts the WAF log group. */
  readonly logEncryptionKey: kms.IKey;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** Name of the Common Rule Set rule that blocks bodies over 8 KB, which webhooks often are. */
export const BODY_SIZE_RULE = 'SizeRestrictions_BODY';

/**
 * The web ACL in front of the API: per-source IP allow-lists, a rate limit per client IP, and
 * AWS managed rules with webhook-safe choices: the Common Rule Set counts (not blocks) bodies
 * over 8 KB, and Bot Control is left out because every provider is a bot.
 */
export class WebhookFirewall extends Construct {
  public readonly webAcl: wafv2.CfnWebACL;
  public readonly logGroup: logs.LogGroup;
  public readonly ipSets: readonly wafv2.CfnIPSet[];
  /** The web ACL's name, the `WebACL` dimension of its CloudWatch metrics. */
  public readonly webAclName: string;

  constructor(scope: Construct, id: string, props: WebhookFirewallProps) {
    super(scope, id);
    const rules: wafv2.CfnWebACL.RuleProperty[] = [];
    const ipSets: wafv2.CfnIPSet[] = [];
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });

    for (const allow of props.allowLists ?? []) {
      const references: wafv2.CfnWebACL.StatementProperty[] = [];
      for (const [version, cidrs] of [
        ['IPV4', allow.cidrs.filter((c) => !c.includes(':'))],
        ['IPV6', allow.cidrs.filter((c) => c.includes(':'))],
      ] as const) {
        if (cidrs.length === 0) continue;
        const ipSet = new wafv2.CfnIPSet(this, `AllowList-${allow.sourceName}-${version}`, {
          scope: 'REGIONAL',
          ipAddressVersion: version,
          addresses: [...cidrs],
          description: `hookgate: clients allowed on /${WEBHOOKS_PATH}/${allow.sourceName}`,
        });
        ipSets.push(ipSet);
        references.push({ ipSetReferenceStatement: { arn: ipSet.attrArn } });
      }
      const fromAllowed: wafv2.CfnWebACL.StatementProperty =
        references.length === 1 ? references[0] : { orStatement: { statements: references } };
      rules.push({
        name: `AllowList-${allow.sourceName}`,
        priority: rules.length,
        action: { block: {} },
        statement: {
          andStatement: {
            statements: [
              {
                // The path with or without a stage or base-path prefix, decoded and lowercased
                // so an encoded or upper-case variant cannot slip past.
                regexMatchStatement: {
                  fieldToMatch: { uriPath: {} },
                  regexString: `/${WEBHOOKS_PATH}/${allow.sourceName}/?$`,
                  textTransformations: [
                    { priority: 0, type: 'URL_DECODE' },
                    { priority: 1, type: 'LOWERCASE' },
                  ],
                },
              },
              { notStatement: { statement: fromAllowed } },
            ],
          },
        },
        visibilityConfig: visibility(`AllowList-${allow.sourceName}`),
      });
    }
    this.ipSets = ipSets;

    rules.push({
      name: 'RateLimitPerClientIp',
      priority: rules.length,
      action: { block: {} },
      statement: {
        rateBasedStatement: {
          limit: props.rateLimit,
          evaluationWindowSec: props.rateLimitWindowSeconds,
          aggregateKeyType: 'IP',
        },
      },
      visibilityConfig: visibility('RateLimitPerClientIp'),
    });
    const managed = (name: string, overrides?: wafv2.CfnWebACL.RuleActionOverrideProperty[]): void => {
      rules.push({
        name,
        priority: rules.length,
        overrideAction: { none: {} },
        statement: {
          managedRuleGroupStatement: {
            vendorName: 'AWS',
            name,
            ...(overrides === undefined ? {} : { ruleActionOverrides: overrides }),
          },
        },
        visibilityConfig: visibility(name),
      });
    };
    managed('AWSManagedRulesAmazonIpReputationList');
    managed('AWSManagedRulesKnownBadInputsRuleSet');
    managed('AWSManagedRulesCommonRuleSet', [{ name: BODY_SIZE_RULE, actionToUse: { count: {} } }]);

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'hookgate: rate limit, allow-lists and webhook-safe managed rules',
      rules,
      visibilityConfig: visibility('hookgate'),
    });
    // Ref of a web ACL is "name|id|scope": the generated name without hard-coding one.
    this.webAclName = Fn.select(0, Fn.split('|', this.webAcl.ref));

    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    // WAF only logs to groups whose name starts with aws-waf-logs-; the rest is derived from
    // the construct path, so each stack gets its own.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `aws-waf-logs-${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`,
      encryptionKey: props.logEncryptionKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const redacted = [...new Set([...SIGNATURE_HEADERS, ...(props.redactedHeaders ?? []).map((h) => h.toLowerCase())])];
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [
        // WAF wants the log group ARN without the ':*' suffix of LogGroup.logGroupArn.
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: this.logGroup.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: redacted.map((name) => ({ singleHeader: { Name: name } })),
      // Only what WAF blocked or counted: allowed requests are already in the API access log,
      // and logging every request would cost about as much as the rest of the logs (docs/cost.md).
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: [{ ActionCondition: { Action: 'BLOCK' } }, { ActionCondition: { Action: 'COUNT' } }],
          },
        ],
      },
    });
  }
}
