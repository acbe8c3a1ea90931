import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { DEFAULT_RATE_LIMIT, type NamedSource, namedSource, namedSources, PROVIDERS, type ProviderName } from '../../lambda/config/schema';
import { signatureHeaders } from '../../lambda/signatures';
import { signRequest } from '../../lambda/signatures/sign';
import {
  type FirewallSource,
  MANAGED_GROUPS,
  MANAGED_RULE_DECISIONS,
  MISSING_SIGNATURE_RULE,
  REFUSE_SIGNED_RULE,
  REFUSE_UNSIGNED_RULE,
  REFUSED_LABEL,
  SIGNED_LABEL,
  WebhookFirewall,
} from '../../lib/constructs/webhook-firewall';
import type { HookgateStack } from '../../lib/hookgate-stack';
import { RUNBOOK } from '../../lib/runbook';
import { MAX_SOURCES } from '../../lib/stack-props';
import { ROOT, asArray, logicalId, resources, shippedConfig, synthShipped, type CfnResource, type Statement } from './helpers';

// The edge must not drop signed events silently: WAF rules as the template states them.
// Template assertions only, so the functions are not bundled.

interface Rule {
  readonly Name: string;
  readonly Priority: number;
  readonly Action?: { Block?: object; Count?: object };
  readonly Statement: Record<string, unknown>;
  readonly RuleLabels?: { Name: string }[];
  readonly VisibilityConfig: { MetricName: string };
}

let stacks: Record<string, HookgateStack>;
let templates: Record<string, Template>;

beforeAll(() => {
  ({ stacks, templates } = synthShipped({ bundle: false }));
}, 120_000);

const ENVS = ['dev', 'prod'] as const;
const aclOf = (template: Template): CfnResource => Object.values(resources(template, 'AWS::WAFv2::WebACL'))[0];
const rulesOf = (template: Template): Rule[] => aclOf(template).Properties?.Rules as Rule[];
const ruleNamed = (template: Template, name: string): Rule | undefined => rulesOf(template).find((r) => r.Name === name);
const managedName = (rule: Rule): string | undefined => (rule.Statement.ManagedRuleGroupStatement as { Name: string } | undefined)?.Name;
const notSigned = { NotStatement: { Statement: { LabelMatchStatement: { Scope: 'LABEL', Key: SIGNED_LABEL } } } };

/** A bare stack holding only a firewall. */
function firewallAlone(props: { sources?: readonly FirewallSource[]; rateLimit?: number; maxCapacity?: number }): { stack: Stack; firewall: WebhookFirewall } {
  const stack = new Stack(new App(), 'Edge');
  const firewall = new WebhookFirewall(stack, 'Firewall', {
    stageArn: 'arn:aws:apigateway:eu-west-1::/restapis/abc/stages/v1',
    logEncryptionKey: new kms.Key(stack, 'Key'),
    ...props,
  });
  return { stack, firewall };
}

/** Every rule that may name itself as the terminating one of a blocked request. */
function blockingRules(template: Template): Rule[] {
  return rulesOf(template).filter((r) => r.Action?.Block !== undefined);
}

describe.each(ENVS)('%s: the edge and signed requests', (env) => {
  it('body-inspecting managed rules, and those genuine providers trip, count instead of blocking', () => {
    const counted = rulesOf(templates[env]).flatMap((r) =>
      ((r.Statement.ManagedRuleGroupStatement as { RuleActionOverrides?: { Name: string; ActionToUse: object }[] } | undefined)?.RuleActionOverrides ?? [])
        .filter((o) => JSON.stringify(o.ActionToUse) === '{"Count":{}}')
        .map((o) => o.Name),
    );
    expect(counted.sort()).toEqual(
      [
        'CrossSiteScripting_BODY',
        'EC2MetaDataSSRF_BODY',
        'GenericLFI_BODY',
        'GenericRFI_BODY',
        'JavaDeserializationRCE_BODY',
        'Log4JRCE_BODY',
        'NoUserAgent_HEADER',
        'SizeRestrictions_BODY',
      ].sort(),
    );
  });

  it('managed rules never evaluate a request that carries a signature header or query credential', () => {
    const rules = rulesOf(templates[env]);
    const signed = ruleNamed(templates[env], 'SignedRequest');
    expect(signed?.RuleLabels).toEqual([{ Name: SIGNED_LABEL }]);
    expect(signed?.Action).toEqual({ Count: {} });
    const managed = rules.filter((r) => managedName(r) !== undefined);
    expect(managed.map(managedName)).toEqual(MANAGED_GROUPS.map((g) => g.name));
    for (const rule of managed) {
      expect(rule.Priority).toBeGreaterThan(signed?.Priority ?? Infinity);
      expect((rule.Statement.ManagedRuleGroupStatement as { ScopeDownStatement?: unknown }).ScopeDownStatement).toEqual(notSigned);
    }
    // Every configured source's signature headers mark a request as signed.
    const marked = JSON.stringify(signed?.Statement);
    for (const source of namedSources(shippedConfig(env))) {
      for (const name of signatureHeaders(source)) expect(marked).toContain(`{"SingleHeader":{"Name":"${name.toLowerCase()}"}}`);
    }
  });

  it('a request that carries a signature can be blocked only by RefuseSigned, whose metric counts it', () => {
    expect(blockingRules(templates[env]).map((r) => r.Name)).toEqual([REFUSE_SIGNED_RULE, REFUSE_UNSIGNED_RULE]);
    const signed = ruleNamed(templates[env], REFUSE_SIGNED_RULE);
    const unsigned = ruleNamed(templates[env], REFUSE_UNSIGNED_RULE);
    expect(signed?.Statement).toEqual({
      AndStatement: {
        Statements: [
          { LabelMatchStatement: { Scope: 'LABEL', Key: REFUSED_LABEL } },
          { LabelMatchStatement: { Scope: 'LABEL', Key: SIGNED_LABEL } },
        ],
      },
    });
    expect(unsigned?.Statement).toEqual({ LabelMatchStatement: { Scope: 'LABEL', Key: REFUSED_LABEL } });
    expect(signed?.Priority).toBeLessThan(unsigned?.Priority ?? -1);
    expect(signed?.VisibilityConfig.MetricName).toBe(REFUSE_SIGNED_RULE);
    // Every other rule of hookgate's own only counts and labels.
    for (const rule of rulesOf(templates[env]).filter((r) => managedName(r) === undefined && r.Action?.Block === undefined)) {
      expect(rule.Action).toEqual({ Count: {} });
    }
  });

  it('a request to a source whose provider always signs is refused at the edge without its signature header (Meta\'s handshake GET excepted)', () => {
    const rule = ruleNamed(templates[env], MISSING_SIGNATURE_RULE);
    expect(rule?.RuleLabels).toEqual([{ Name: REFUSED_LABEL }]);
    expect(rule?.Action).toEqual({ Count: {} });
    const clauses = (rule?.Statement.OrStatement as { Statements: unknown[] } | undefined)?.Statements ?? [];
    const expected = namedSources(shippedConfig(env)).flatMap((source) => {
      const headers = signatureHeaders(source).map((h) => h.toLowerCase());
      if (headers.length === 0) return [];
      const present = headers.map((name) => ({
        SizeConstraintStatement: { FieldToMatch: { SingleHeader: { Name: name } }, ComparisonOperator: 'GT', Size: 0, TextTransformations: [{ Priority: 0, Type: 'NONE' }] },
      }));
      // Meta's subscription handshake is an unsigned GET: only its POSTs need the header.
      const onlyPost =
        source.provider === 'meta'
          ? [{ ByteMatchStatement: { FieldToMatch: { Method: {} }, PositionalConstraint: 'EXACTLY', SearchString: 'POST', TextTransformations: [{ Priority: 0, Type: 'NONE' }] } }]
          : [];
      return [
        {
          AndStatement: {
            Statements: [
              { RegexMatchStatement: { FieldToMatch: { UriPath: {} }, RegexString: `/webhooks/${source.name}/?$`, TextTransformations: [{ Priority: 0, Type: 'NONE' }] } },
              ...onlyPost,
              { NotStatement: { Statement: present.length === 1 ? present[0] : { OrStatement: { Statements: present } } } },
            ],
          },
        },
      ];
    });
    expect(expected.length).toBeGreaterThan(1);
    expect(clauses).toEqual(expected);
  });

  it('a blocked request that carried a signature pages on-call at the first one', () => {
    const stack = stacks[env];
    const alarm = resources(templates[env], 'AWS::CloudWatch::Alarm')[logicalId(stack, stack.edgeAlarms.wafBlockedSigned)];
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/WAFV2',
      MetricName: 'BlockedRequests',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: logicalId(stack, stack.onCall.topic) }],
    });
    const dimensions = alarm.Properties?.Dimensions as { Name: string; Value: unknown }[];
    expect(dimensions).toContainEqual({ Name: 'Rule', Value: REFUSE_SIGNED_RULE });
    expect(JSON.stringify(dimensions.find((d) => d.Name === 'WebACL')?.Value)).toContain(stack.getLogicalId(stack.firewall.webAcl));
    expect(alarm.Properties?.AlarmDescription).toContain(RUNBOOK.wafBlockedSigned);
  });

  it('blocked junk (no signature) shows on the dashboard and pages no one', () => {
    const stack = stacks[env];
    const alarm = resources(templates[env], 'AWS::CloudWatch::Alarm')[logicalId(stack, stack.edgeAlarms.wafBlocks)];
    expect(alarm.Properties).toMatchObject({ Namespace: 'AWS/WAFV2', MetricName: 'BlockedRequests', Threshold: shippedConfig(env).alarms?.wafBlockedCount ?? 500 });
    expect(alarm.Properties?.AlarmActions).toBeUndefined();
    expect(alarm.Properties?.OKActions).toBeUndefined();
  });

  it('query credentials and signature headers never reach WAF logs or sampled requests', () => {
    const logging = Object.values(resources(templates[env], 'AWS::WAFv2::LoggingConfiguration'))[0];
    expect(logging.Properties?.RedactedFields).toContainEqual({ QueryString: {} });
    const protections = (aclOf(templates[env]).Properties?.DataProtectionConfig as { DataProtections: { Field: { FieldType: string; FieldKeys: string[] }; Action: string }[] }).DataProtections;
    const keysOf = (type: string): string[] => protections.filter((p) => p.Field.FieldType === type && p.Action === 'SUBSTITUTION').flatMap((p) => p.Field.FieldKeys);
    const sources = namedSources(shippedConfig(env));
    for (const source of sources) for (const name of signatureHeaders(source)) expect(keysOf('SINGLE_HEADER')).toContain(name.toLowerCase());
    if (sources.some((s) => s.provider === 'meta')) expect(keysOf('SINGLE_QUERY_ARGUMENT')).toContain('hub.verify_token');
  });

  it('API access logs carry neither the query string nor the raw path', () => {
    const stage = Object.values(resources(templates[env], 'AWS::ApiGateway::Stage'))[0];
    const format = (stage.Properties?.AccessLogSetting as { Format: string }).Format;
    expect(format).not.toMatch(/\$context\.path|querystring|\$input|requestOverride|\$method\.request/i);
  });
});

describe('prod: per-source IP allow-list', () => {
  it('the allow-list matches the URL-decoded, normalized path, so dot segments and encodings cannot slip past', () => {
    const rule = ruleNamed(templates.prod, 'AllowList-orders');
    expect(rule?.RuleLabels).toEqual([{ Name: REFUSED_LABEL }]);
    const path = (rule?.Statement.AndStatement as { Statements: Record<string, { RegexString: string; TextTransformations: unknown[] }>[] }).Statements[0].RegexMatchStatement;
    expect(path.TextTransformations).toEqual([
      { Priority: 0, Type: 'URL_DECODE' },
      { Priority: 1, Type: 'NORMALIZE_PATH' },
    ]);
    // What WAF matches once it decoded and normalized /v1/webhooks/x/../%6frders/.
    const regex = new RegExp(path.RegexString);
    for (const normalized of ['/v1/webhooks/orders', '/v1/webhooks/orders/', '/webhooks/orders']) expect(regex.test(normalized)).toBe(true);
    for (const other of ['/v1/webhooks/orders-eu', '/v1/webhooks/stripe']) expect(regex.test(other)).toBe(false);
  });

  it('the API resource policy denies the allow-listed source to other clients, after API Gateway routed the request', () => {
    const api = Object.values(resources(templates.prod, 'AWS::ApiGateway::RestApi'))[0];
    const statements = (api.Properties?.Policy as { Statement: Statement[] }).Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'execute-api:Invoke', Resource: 'execute-api:/*' }));
    const denies = statements.filter((s) => s.Effect === 'Deny');
    expect(denies).toEqual([
      expect.objectContaining({
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*/*/webhooks/orders',
        Condition: { NotIpAddress: { 'aws:SourceIp': ['198.51.100.0/24'] } },
      }),
    ]);
  });

  it('dev (no allow-list) has no resource policy', () => {
    const api = Object.values(resources(templates.dev, 'AWS::ApiGateway::RestApi'))[0];
    expect(api.Properties?.Policy).toBeUndefined();
  });
});

describe('the firewall construct', () => {
  it('limits each client IP to 10,000 requests per 5 minutes by default, sized for provider bursts', () => {
    const { stack } = firewallAlone({});
    const rule = ruleNamed(Template.fromStack(stack), 'RateLimitPerClientIp');
    expect(DEFAULT_RATE_LIMIT).toBe(10_000);
    expect(rule?.Statement).toEqual({ RateBasedStatement: { Limit: 10_000, EvaluationWindowSec: 300, AggregateKeyType: 'IP' } });
    expect(rule?.Action).toEqual({ Count: {} });
    expect(rule?.RuleLabels).toEqual([{ Name: REFUSED_LABEL }]);
  });

  it('a source whose credential is in the query string gets no signature-header rule, and its argument is protected', () => {
    const { stack } = firewallAlone({ sources: [{ sourceName: 'legacy', signatureHeaders: [], credentialQueryArguments: ['key'] }] });
    const template = Template.fromStack(stack);
    expect(ruleNamed(template, MISSING_SIGNATURE_RULE)).toBeUndefined();
    const acl = aclOf(template);
    expect(JSON.stringify(ruleNamed(template, 'SignedRequest')?.Statement)).toContain('{"SingleQueryArgument":{"Name":"key"}}');
    expect(acl.Properties?.DataProtectionConfig).toEqual({
      DataProtections: expect.arrayContaining([{ Field: { FieldType: 'SINGLE_QUERY_ARGUMENT', FieldKeys: ['key'] }, Action: 'SUBSTITUTION' }]),
    });
  });

  it(`stays within 1,500 WCU with ${MAX_SOURCES} sources, each allow-listed and with its own signature header`, () => {
    const sources: FirewallSource[] = Array.from({ length: MAX_SOURCES }, (_, i) => ({
      sourceName: `source-${i}`,
      signatureHeaders: [`x-sender-${i}-signature`, `x-sender-${i}-signature-v2`],
      credentialQueryArguments: [`token${i}`],
      allowedIps: ['192.0.2.0/24', '2001:db8::/32'],
    }));
    const { stack, firewall } = firewallAlone({ sources });
    expect(firewall.capacity).toBeGreaterThan(MANAGED_GROUPS.reduce((total, g) => total + g.capacity, 0));
    expect(firewall.capacity).toBeLessThanOrEqual(1500);
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  it('refuses to synthesize a web ACL above its capacity', () => {
    const { stack } = firewallAlone({ sources: [{ sourceName: 'a', signatureHeaders: ['x-a'], allowedIps: ['192.0.2.0/24'] }], maxCapacity: 100 });
    expect(() => Template.fromStack(stack)).toThrow(/the web ACL needs about \d+ WCU, more than 100/);
  });
});

describe('provider signature headers', () => {
  const sourceFor = (provider: ProviderName): NamedSource =>
    provider === 'hmac'
      ? namedSource({ name: 'any', provider, secretName: 'hookgate/test/any', hmac: { header: 'X-Partner-Signature' } })
      : provider === 'token'
        ? namedSource({ name: 'any', provider, secretName: 'hookgate/test/any', header: 'X-Webhook-Token' })
        : namedSource({ name: 'any', provider, secretName: 'hookgate/test/any' });

  it.each(PROVIDERS)('a genuine %s delivery carries one of the headers the edge requires', (provider) => {
    const source = sourceFor(provider);
    const secret = provider === 'standard' ? `whsec_${Buffer.from('k'.repeat(24)).toString('base64')}` : 'secret';
    const signed = signRequest(source, secret, Buffer.from('{"id":"evt_1","type":"x"}'), { now: Date.UTC(2026, 0, 1), url: 'https://hooks.example.com/webhooks/any' });
    const sent = Object.keys(signed.headers).map((h) => h.toLowerCase());
    const required = signatureHeaders(source).map((h) => h.toLowerCase());
    expect(required.length).toBeGreaterThan(0);
    expect(required.some((h) => sent.includes(h))).toBe(true);
  });
});

describe('docs/deploy.md', () => {
  it('records every managed rule decision the web ACL applies', () => {
    const deploy = readFileSync(join(ROOT, 'docs', 'deploy.md'), 'utf8');
    const rows = new Map(
      [...deploy.matchAll(/^\| `([A-Za-z0-9_]+)` \| [^|]+ \| (block|count) \|/gm)].map((m) => [m[1], m[2]]),
    );
    for (const decision of MANAGED_RULE_DECISIONS) expect([decision.rule, rows.get(decision.rule)]).toEqual([decision.rule, decision.action]);
    expect(asArray([...rows.keys()]).sort()).toEqual(MANAGED_RULE_DECISIONS.map((d) => d.rule).sort());
  });
});
