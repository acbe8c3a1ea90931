import { ArnFormat, Fn, Names, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW_SECONDS } from '../../lambda/config/schema';
import { type NamedSource, PROVIDERS } from '../../lambda/config/schema';
import { providerSignatureHeaders, signatureHeaders } from '../../lambda/signatures';
import { VERIFY_TOKEN_PARAM } from '../../lambda/signatures/providers/meta';
import { type EncryptedLogProps, encryptedLogGroup } from './encrypted-log-group';
import { WEBHOOKS_PATH } from './ingress-api';

/**
 * Headers that carry a signature or token of a known provider (lower case), never written to WAF
 * logs or sampled requests: every provider's signature header, `authorization`, and GitHub's
 * SHA-1 `x-hub-signature`, which GitHub still sends beside the SHA-256 one.
 */
export const SIGNATURE_HEADERS: readonly string[] = [
  ...new Set(['authorization', 'x-hub-signature', ...PROVIDERS.flatMap((provider) => providerSignatureHeaders(provider)).map((h) => h.toLowerCase())]),
];

/** What the edge knows of one source. */
export interface FirewallSource {
  readonly sourceName: string;
  /**
   * Headers of which every genuine POST carries at least one: a POST to the source's path
   * without any of them is refused at the edge. @default none (no such rule)
   */
  readonly signatureHeaders?: readonly string[];
  /** Query arguments that carry a credential (a token, Meta's verify token): redacted. @default none */
  readonly credentialQueryArguments?: readonly string[];
  /** Client IPv4/IPv6 CIDRs allowed on the source's path. @default any client */
  readonly allowedIps?: readonly string[];
  /** The route also answers an unsigned GET (Meta's subscription handshake). @default false */
  readonly handshake?: boolean;
}

/** The edge's view of a configured source: its provider's signature headers, query credentials and allow-list. */
export function firewallSource(source: NamedSource): FirewallSource {
  const query = [...(source.provider === 'token' && source.query !== undefined ? [source.query] : []), ...(source.provider === 'meta' ? [VERIFY_TOKEN_PARAM] : [])];
  return {
    sourceName: source.name,
    signatureHeaders: signatureHeaders(source),
    credentialQueryArguments: query,
    allowedIps: source.allowedIps,
    handshake: source.provider === 'meta',
  };
}

/** Props of {@link WebhookFirewall}. */
export interface WebhookFirewallProps extends EncryptedLogProps {
  /** ARN of the API Gateway stage to protect. */
  readonly stageArn: string;
  /** Requests per client IP per window before it is refused (the config's rateLimit.limit). @default {@link DEFAULT_RATE_LIMIT} */
  readonly rateLimit?: number;
  /** Window of the rate limit, seconds (the config's rateLimit.windowSeconds). @default 300 */
  readonly rateLimitWindowSeconds?: 60 | 120 | 300 | 600;
  /** The sources behind the API. @default none */
  readonly sources?: readonly FirewallSource[];
  /**
   * Most web ACL capacity units the rules may use; synthesis fails above it. 1,500 are included
   * in the web ACL's base price, WAF allows 5,000. @default 1500
   */
  readonly maxCapacity?: number;
}


/** Label of a request carrying a configured signature header or query credential. */
export const SIGNED_LABEL = 'hookgate:signed';
/** Label of a request one of hookgate's own rules refuses (allow-list, missing signature, rate). */
export const REFUSED_LABEL = 'hookgate:refused';
/** Rule that refuses a request without its provider's signature header, for every source. */
export const MISSING_SIGNATURE_RULE = 'MissingSignature';
/** Rule (and metric) that blocks refused requests carrying a signature: on-call is paged on one. */
export const REFUSE_SIGNED_RULE = 'RefuseSigned';
/** Rule (and metric) that blocks refused requests without a signature: junk, dashboard only. */
export const REFUSE_UNSIGNED_RULE = 'RefuseUnsigned';

/** The AWS managed rule groups of the web ACL, in order, and their capacity (WCU, from the WAF docs). */
export const MANAGED_GROUPS = [
  { name: 'AWSManagedRulesAmazonIpReputationList', capacity: 25 },
  { name: 'AWSManagedRulesKnownBadInputsRuleSet', capacity: 200 },
  { name: 'AWSManagedRulesCommonRuleSet', capacity: 700 },
] as const;
export type ManagedGroup = (typeof MANAGED_GROUPS)[number]['name'];

/** What the web ACL does with one AWS managed rule, for requests without a signature. */
export interface ManagedRuleDecision {
  readonly group: ManagedGroup;
  readonly rule: string;
  /** The part of the request it looks at. */
  readonly inspects: string;
  /** AWS's action for the rule. */
  readonly awsDefault: 'block' | 'count';
  /** hookgate's action on /webhooks/*. */
  readonly action: 'block' | 'count';
  readonly why: string;
}

const PROVIDER_BODIES = 'bodies carry free text (clinical notes, SMS, relayed e-mails, comments)';
const FIXED_PATHS = 'only fixed /webhooks/<source> paths route; providers send no such path';

/**
 * Every rule of the managed groups, with the decision for requests that reach them. Requests
 * carrying a signature header or query credential never do (the groups are scoped down to
 * unsigned requests): for those the signature, checked by the verifier over the exact bytes,
 * is the control. docs/deploy.md shows this table; a test keeps the two equal.
 */
export const MANAGED_RULE_DECISIONS: readonly ManagedRuleDecision[] = [
  { group: 'AWSManagedRulesAmazonIpReputationList', rule: 'AWSManagedIPReputationList', inspects: 'client IP', awsDefault: 'block', action: 'block', why: 'unsigned traffic from known bots' },
  { group: 'AWSManagedRulesAmazonIpReputationList', rule: 'AWSManagedReconnaissanceList', inspects: 'client IP', awsDefault: 'block', action: 'block', why: 'unsigned traffic from scanners' },
  { group: 'AWSManagedRulesAmazonIpReputationList', rule: 'AWSManagedIPDDoSList', inspects: 'client IP', awsDefault: 'count', action: 'count', why: 'AWS default; the rate limit and stage throttling handle floods' },
  { group: 'AWSManagedRulesKnownBadInputsRuleSet', rule: 'JavaDeserializationRCE_HEADER', inspects: 'headers', awsDefault: 'block', action: 'block', why: 'no provider sends Java gadget chains in headers' },
  { group: 'AWSManagedRulesKnownBadInputsRuleSet', rule: 'JavaDeserializationRCE_BODY', inspects: 'body (first 8 KB)', awsDefault: 'block', action: 'count', why: `${PROVIDER_BODIES}, which may quote such code` },
  { group: 'AWSManagedRulesKnownBadInputsRuleSet', rule: 'JavaDeserializationRCE_URIPATH', inspects: 'URI path', awsDefault: 'block', action: 'block', why: FIXED_PATHS },
  { group: 'AWSManagedRulesKnownBadInputsRuleSet', rule: 'JavaDeserializationRCE_QUERYSTRING', inspects: 'query string', awsDefault: 'block', action: 'block', why: 'provider query strings are ours (tokens, Twilio bodySHA256)' },
  { group: 'AWSManagedRulesKnownBadInputsRuleSet', rule: 'Host_localhost_HEADER', inspects: 'Host header', awsDefault: 'block', action: 'block', why: 'providers call the public host name' },
  { group: 'AWSManagedRulesKnownBadInputsRuleSet', rule: 'PROPFIND_METHOD', inspects: 'method', awsDefault: 'block', action: 'block', why: 'providers send POST (Meta also GET)' },
  { group: 'AWSManagedRulesKnownBadInputsRuleSet', rule: 'ExploitablePaths_URIPATH', inspects: 'URI path', awsDefault: 'block', action: 'block', why: FIXED_PATHS },
  { group: 'AWSManagedRulesKnownBadInputsRuleSet', rule: 'Log4JRCE_HEADER', inspects: 'headers', awsDefault: 'block', action: 'block', why: 'no provider sends JNDI lookups in headers' },
  { group: 'AWSManagedRulesKnownBadInputsRuleSet', rule: 'Log4JRCE_QUERYSTRING', inspects: 'query string', awsDefault: 'block', action: 'block', why: 'provider query strings are ours' },
  { group: 'AWSManagedRulesKnownBadInputsRuleSet', rule: 'Log4JRCE_BODY', inspects: 'body (first 8 KB)', awsDefault: 'block', action: 'count', why: `${PROVIDER_BODIES}, which may quote \${jndi:...}` },
  { group: 'AWSManagedRulesKnownBadInputsRuleSet', rule: 'Log4JRCE_URIPATH', inspects: 'URI path', awsDefault: 'block', action: 'block', why: FIXED_PATHS },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'NoUserAgent_HEADER', inspects: 'User-Agent header (absent)', awsDefault: 'block', action: 'count', why: 'server-to-server senders (token sources) often send no User-Agent' },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'UserAgent_BadBots_HEADER', inspects: 'User-Agent header', awsDefault: 'block', action: 'block', why: 'scanner user agents (nmap, nessus); no provider uses one' },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'SizeRestrictions_QUERYSTRING', inspects: 'query string over 2 KB', awsDefault: 'block', action: 'block', why: 'provider query strings are short' },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'SizeRestrictions_Cookie_HEADER', inspects: 'Cookie header over 10 KB', awsDefault: 'block', action: 'block', why: 'providers send no cookies' },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'SizeRestrictions_BODY', inspects: 'body over 8 KB', awsDefault: 'block', action: 'count', why: 'webhook bodies are often larger; the verifier enforces maxBodyBytes' },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'SizeRestrictions_URIPATH', inspects: 'URI path over 1 KB', awsDefault: 'block', action: 'block', why: FIXED_PATHS },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'EC2MetaDataSSRF_BODY', inspects: 'body (first 8 KB)', awsDefault: 'block', action: 'count', why: `${PROVIDER_BODIES}, which may mention 169.254.169.254` },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'EC2MetaDataSSRF_COOKIE', inspects: 'cookies', awsDefault: 'block', action: 'block', why: 'providers send no cookies' },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'EC2MetaDataSSRF_URIPATH', inspects: 'URI path', awsDefault: 'block', action: 'block', why: FIXED_PATHS },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'EC2MetaDataSSRF_QUERYARGUMENTS', inspects: 'query arguments', awsDefault: 'block', action: 'block', why: 'provider query strings are ours' },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'GenericLFI_QUERYARGUMENTS', inspects: 'query arguments', awsDefault: 'block', action: 'block', why: 'provider query strings are ours' },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'GenericLFI_URIPATH', inspects: 'URI path', awsDefault: 'block', action: 'block', why: FIXED_PATHS },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'GenericLFI_BODY', inspects: 'body (first 8 KB)', awsDefault: 'block', action: 'count', why: `${PROVIDER_BODIES}, which may hold ../ (paths, diffs)` },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'RestrictedExtensions_URIPATH', inspects: 'URI path', awsDefault: 'block', action: 'block', why: FIXED_PATHS },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'RestrictedExtensions_QUERYARGUMENTS', inspects: 'query arguments', awsDefault: 'block', action: 'block', why: 'provider query strings are ours' },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'GenericRFI_QUERYARGUMENTS', inspects: 'query arguments', awsDefault: 'block', action: 'block', why: 'provider query strings are ours' },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'GenericRFI_BODY', inspects: 'body (first 8 KB)', awsDefault: 'block', action: 'count', why: `${PROVIDER_BODIES}, full of URLs (Twilio MediaUrl, links in notes)` },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'GenericRFI_URIPATH', inspects: 'URI path', awsDefault: 'block', action: 'block', why: FIXED_PATHS },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'CrossSiteScripting_COOKIE', inspects: 'cookies', awsDefault: 'block', action: 'block', why: 'providers send no cookies' },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'CrossSiteScripting_QUERYARGUMENTS', inspects: 'query arguments', awsDefault: 'block', action: 'block', why: 'provider query strings are ours' },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'CrossSiteScripting_BODY', inspects: 'body (first 8 KB)', awsDefault: 'block', action: 'count', why: `${PROVIDER_BODIES}, which may hold <script> or onerror=` },
  { group: 'AWSManagedRulesCommonRuleSet', rule: 'CrossSiteScripting_URIPATH', inspects: 'URI path', awsDefault: 'block', action: 'block', why: FIXED_PATHS },
];

/** A statement and its capacity (WCU), computed as the WAF docs price each statement type. */
interface Priced {
  readonly statement: wafv2.CfnWebACL.StatementProperty;
  readonly wcu: number;
}

type Transformation = 'URL_DECODE' | 'NORMALIZE_PATH';

function transformations(types: readonly Transformation[]): wafv2.CfnWebACL.TextTransformationProperty[] {
  return types.length === 0 ? [{ priority: 0, type: 'NONE' }] : types.map((type, priority) => ({ priority, type }));
}

/** Regex match: 3 WCU, plus 10 per text transformation. */
function regexMatch(fieldToMatch: wafv2.CfnWebACL.FieldToMatchProperty, regexString: string, transforms: readonly Transformation[] = []): Priced {
  return { statement: { regexMatchStatement: { fieldToMatch, regexString, textTransformations: transformations(transforms) } }, wcu: 3 + 10 * transforms.length };
}

/** Size constraint "present and not empty": 1 WCU. */
function present(fieldToMatch: wafv2.CfnWebACL.FieldToMatchProperty): Priced {
  return { statement: { sizeConstraintStatement: { fieldToMatch, comparisonOperator: 'GT', size: 0, textTransformations: transformations([]) } }, wcu: 1 };
}

/** Exact byte match: 2 WCU. */
function exactly(fieldToMatch: wafv2.CfnWebACL.FieldToMatchProperty, searchString: string): Priced {
  return { statement: { byteMatchStatement: { fieldToMatch, positionalConstraint: 'EXACTLY', searchString, textTransformations: transformations([]) } }, wcu: 2 };
}

/** IP set reference: 1 WCU. */
function inIpSet(ipSet: wafv2.CfnIPSet): Priced {
  return { statement: { ipSetReferenceStatement: { arn: ipSet.attrArn } }, wcu: 1 };
}

/** Label match: 1 WCU. */
function hasLabel(key: string): Priced {
  return { statement: { labelMatchStatement: { scope: 'LABEL', key } }, wcu: 1 };
}

/** Logical statements cost what they nest. */
function allOf(parts: readonly Priced[]): Priced {
  return parts.length === 1 ? parts[0] : { statement: { andStatement: { statements: parts.map((p) => p.statement) } }, wcu: sum(parts) };
}
function anyOf(parts: readonly Priced[]): Priced {
  return parts.length === 1 ? parts[0] : { statement: { orStatement: { statements: parts.map((p) => p.statement) } }, wcu: sum(parts) };
}
function negate(part: Priced): Priced {
  return { statement: { notStatement: { statement: part.statement } }, wcu: part.wcu };
}
function sum(parts: readonly Priced[]): number {
  return parts.reduce((total, p) => total + p.wcu, 0);
}

/** The URI path of a source's route, with or without a stage or base-path prefix. */
function sourcePath(sourceName: string): string {
  return `/${WEBHOOKS_PATH}/${sourceName.replace(/[^a-z0-9-]/g, (c) => `\\${c}`)}/?$`;
}

/**
 * The web ACL in front of the API. The signature is the control: requests that carry a provider
 * signature header (or query credential) are never blocked by a managed rule, and one blocked
 * for any other reason pages on-call. In order:
 *
 * 1. `SignedRequest` labels requests carrying a configured signature header or query credential.
 * 2. hookgate's own refusals only label (`hookgate:refused`): `AllowList-<source>` (client not
 *    in the source's ranges, on the decoded and normalized path), `MissingSignature` (a request
 *    to a source whose provider always signs, without its header; a handshake GET excepted) and
 *    `RateLimitPerClientIp`.
 * 3. `RefuseSigned` blocks refused requests that carry a signature (its BlockedRequests metric
 *    pages on-call at one); `RefuseUnsigned` blocks the rest (junk: dashboard only).
 * 4. AWS managed groups (IP reputation, known bad inputs, common rule set) for unsigned requests
 *    only, body-inspecting rules counted ({@link MANAGED_RULE_DECISIONS}); no Bot Control:
 *    every provider is a bot.
 */
export class WebhookFirewall extends Construct {
  public readonly webAcl: wafv2.CfnWebACL;
  public readonly logGroup: logs.LogGroup;
  public readonly ipSets: readonly wafv2.CfnIPSet[];
  /** The web ACL's name, the `WebACL` dimension of its CloudWatch metrics. */
  public readonly webAclName: string;
  /** Capacity units the rules use, as the WAF docs price each statement and managed group. */
  public readonly capacity: number;

  constructor(scope: Construct, id: string, props: WebhookFirewallProps) {
    super(scope, id);
    const sources = props.sources ?? [];
    const rules: wafv2.CfnWebACL.RuleProperty[] = [];
    const ipSets: wafv2.CfnIPSet[] = [];
    let wcu = 0;
    let labelsDefined = 0;
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const add = (name: string, priced: Priced, rule: { action?: 'count' | 'block'; labels?: readonly string[] }): void => {
      rules.push({
        name,
        priority: rules.length,
        action: rule.action === 'block' ? { block: {} } : { count: {} },
        statement: priced.statement,
        ...(rule.labels === undefined ? {} : { ruleLabels: rule.labels.map((label) => ({ name: label })) }),
        visibilityConfig: visibility(name),
      });
      wcu += priced.wcu;
      labelsDefined += rule.labels?.length ?? 0;
    };
    const lower = (names: readonly string[] | undefined): string[] => [...new Set((names ?? []).map((n) => n.toLowerCase()))];

    // 1. Signed: any configured signature header or query credential, present and not empty.
    const signedBy = [
      ...[...new Set(sources.flatMap((s) => lower(s.signatureHeaders)))].map((name) => present({ singleHeader: { Name: name } })),
      ...[...new Set(sources.flatMap((s) => s.credentialQueryArguments ?? []))].map((name) => present({ singleQueryArgument: { Name: name } })),
    ];
    const labelsSigned = signedBy.length > 0;
    if (labelsSigned) add('SignedRequest', anyOf(signedBy), { labels: [SIGNED_LABEL] });

    // 2. hookgate's refusals, labelled so the block below can tell signed from unsigned.
    const refuse = { labels: [REFUSED_LABEL] };
    for (const source of sources) {
      const cidrs = source.allowedIps ?? [];
      if (cidrs.length === 0) continue;
      const allowed: Priced[] = [];
      for (const [version, ranges] of [
        ['IPV4', cidrs.filter((c) => !c.includes(':'))],
        ['IPV6', cidrs.filter((c) => c.includes(':'))],
      ] as const) {
        if (ranges.length === 0) continue;
        const ipSet = new wafv2.CfnIPSet(this, `AllowList-${source.sourceName}-${version}`, {
          scope: 'REGIONAL',
          ipAddressVersion: version,
          addresses: [...ranges],
          description: `hookgate: clients allowed on /${WEBHOOKS_PATH}/${source.sourceName}`,
        });
        ipSets.push(ipSet);
        allowed.push(inIpSet(ipSet));
      }
      // Decoded, then dot segments and repeated slashes resolved, so /webhooks/x/../orders or
      // /webhooks/%6frders cannot slip past. The API's resource policy enforces the same list
      // after API Gateway's own routing.
      add(`AllowList-${source.sourceName}`, allOf([regexMatch({ uriPath: {} }, sourcePath(source.sourceName), ['URL_DECODE', 'NORMALIZE_PATH']), negate(anyOf(allowed))]), refuse);
    }
    // One rule for every source (WAF bills per rule): a request to the source's path without
    // any of its signature headers. No normalization needed: a path that evades this reaches the
    // verifier, which answers 401 without a signature. Methods other than POST have no route
    // (API Gateway answers them itself), except a handshake GET, which is unsigned.
    const unsignedToSource = sources.flatMap((source) => {
      const headers = lower(source.signatureHeaders);
      if (headers.length === 0) return [];
      return [
        allOf([
          regexMatch({ uriPath: {} }, sourcePath(source.sourceName)),
          ...(source.handshake === true ? [exactly({ method: {} }, 'POST')] : []),
          negate(anyOf(headers.map((name) => present({ singleHeader: { Name: name } })))),
        ]),
      ];
    });
    if (unsignedToSource.length > 0) add(MISSING_SIGNATURE_RULE, anyOf(unsignedToSource), refuse);
    // Counts every request; labels only while the client is over the limit.
    add(
      'RateLimitPerClientIp',
      {
        statement: {
          rateBasedStatement: {
            limit: props.rateLimit ?? DEFAULT_RATE_LIMIT,
            evaluationWindowSec: props.rateLimitWindowSeconds ?? DEFAULT_RATE_WINDOW_SECONDS,
            aggregateKeyType: 'IP',
          },
        },
        wcu: 2,
      },
      refuse,
    );

    // 3. The only blocks of hookgate's own rules, split so that a signed one pages.
    add(REFUSE_SIGNED_RULE, allOf([hasLabel(REFUSED_LABEL), hasLabel(SIGNED_LABEL)]), { action: 'block' });
    add(REFUSE_UNSIGNED_RULE, hasLabel(REFUSED_LABEL), { action: 'block' });

    // 4. Managed groups, for unsigned requests only.
    const unsigned = negate(hasLabel(SIGNED_LABEL));
    for (const { name: group, capacity } of MANAGED_GROUPS) {
      const overrides = MANAGED_RULE_DECISIONS.filter((d) => d.group === group && d.action === 'count' && d.awsDefault === 'block').map((d) => ({
        name: d.rule,
        actionToUse: { count: {} },
      }));
      rules.push({
        name: group,
        priority: rules.length,
        overrideAction: { none: {} },
        statement: {
          managedRuleGroupStatement: {
            vendorName: 'AWS',
            name: group,
            ...(overrides.length === 0 ? {} : { ruleActionOverrides: overrides }),
            ...(labelsSigned ? { scopeDownStatement: unsigned.statement } : {}),
          },
        },
        visibilityConfig: visibility(group),
      });
      wcu += capacity + (labelsSigned ? unsigned.wcu : 0);
    }
    this.ipSets = ipSets;
    // Labels cost 1 WCU per 5 defined.
    this.capacity = wcu + Math.ceil(labelsDefined / 5);

    const redactedHeaders = [...new Set([...SIGNATURE_HEADERS, ...sources.flatMap((s) => lower(s.signatureHeaders))])];
    const redactedQuery = [...new Set(sources.flatMap((s) => s.credentialQueryArguments ?? []))];
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'hookgate: signature-aware refusals, rate limit, allow-lists and managed rules for unsigned requests',
      rules,
      visibilityConfig: visibility('hookgate'),
      // Applies to the logs and to the sampled requests of the console (logging redaction alone
      // does not cover those): signature and token headers, and query credentials.
      dataProtectionConfig: {
        dataProtections: [
          { field: { fieldType: 'SINGLE_HEADER', fieldKeys: redactedHeaders }, action: 'SUBSTITUTION' },
          ...(redactedQuery.length === 0 ? [] : [{ field: { fieldType: 'SINGLE_QUERY_ARGUMENT', fieldKeys: redactedQuery }, action: 'SUBSTITUTION' }]),
        ],
      },
    });
    // Ref of a web ACL is "name|id|scope": the generated name without hard-coding one.
    this.webAclName = Fn.select(0, Fn.split('|', this.webAcl.ref));

    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    // WAF only logs to groups whose name starts with aws-waf-logs-; the rest is derived from
    // the construct path, so each stack gets its own.
    this.logGroup = encryptedLogGroup(this, 'Logs', props, `aws-waf-logs-${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`);
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
      // The whole query string too: on webhook URLs it holds credentials (tokens, Meta's verify
      // token) or provider plumbing (Twilio's bodySHA256), nothing on-call needs, and a query
      // credential added later is then never logged by mistake.
      redactedFields: [...redactedHeaders.map((name) => ({ singleHeader: { Name: name } })), { queryString: {} }],
      // Only what WAF blocked, and what a managed rule counted instead of blocking (an override):
      // allowed requests are already in the API access log, and logging every request would cost
      // about as much as the rest of the logs (docs/cost.md). Not COUNT: SignedRequest counts
      // every signed delivery.
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: [{ ActionCondition: { Action: 'BLOCK' } }, { ActionCondition: { Action: 'EXCLUDED_AS_COUNT' } }],
          },
        ],
      },
    });

    const maxCapacity = props.maxCapacity ?? 1500;
    const keys = [...redactedHeaders, ...redactedQuery];
    this.node.addValidation({
      validate: () => [
        ...(this.capacity > maxCapacity ? [`the web ACL needs about ${this.capacity} WCU, more than ${maxCapacity}: fewer sources with allowedIps per stack, or raise maxCapacity (WAF bills above 1,500)`] : []),
        ...keys.filter((k) => k.length > 64).map((k) => `header or query argument ${k} is longer than the 64 characters WAF data protection accepts`),
        ...(redactedHeaders.length > 100 || redactedQuery.length > 100 ? ['more than 100 signature headers or query credentials to protect'] : []),
      ],
    });
  }
}
