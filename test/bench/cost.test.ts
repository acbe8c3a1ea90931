import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ASSUMPTIONS, costModel, type CostModel, xrayPerMillion } from '../../bench/cost';
import type { BenchResults } from '../../bench/results';
import { buildReferenceStack, MEASURED_SOURCE, readStackFacts, REFERENCE_ENVIRONMENT, type StackFacts } from '../../bench/stack-facts';
import type { HookgateStack } from '../../lib/hookgate-stack';
import { shippedConfig } from '../stack/helpers';

/**
 * The cost model: the arithmetic of X-Ray sampling, and the stack's facts, which must be the
 * synthesized template's so that a change in lib/ changes the model's figures.
 */

const DEFAULT_RULE = ASSUMPTIONS.defaultSampling;
const STACK_RULE = { reservoirPerSecond: 0, rate: 0.01 };
/** Synthesis of the reference stack takes seconds, more on a loaded machine. */
const SYNTH_TIMEOUT_MS = 180_000;

test('under the default rule a quiet service is traced in full: every request beyond the free 100,000 costs $5 per million', () => {
  // Prepare: 1 M a month is 0.39 requests/s, under the 1 request/s reservoir.
  const monthly = 1_000_000;

  // Act
  const perMillion = xrayPerMillion(monthly, DEFAULT_RULE);

  // Assess
  expect(perMillion).toBeCloseTo(4.5, 6);
});

test('above the default reservoir only 5 % of the rest is traced, so the cost per million falls with volume', () => {
  // Prepare
  const reservoir = DEFAULT_RULE.reservoirPerSecond * 30 * 86_400;
  const monthly = 10_000_000;
  const traced = reservoir + 0.05 * (monthly - reservoir);

  // Act
  const perMillion = xrayPerMillion(monthly, DEFAULT_RULE);

  // Assess
  expect(perMillion).toBeCloseTo((((traced - 100_000) / 1_000_000) * 5) / 10, 6);
  expect(xrayPerMillion(100_000_000, DEFAULT_RULE)).toBeLessThan(perMillion);
});

test('under the free tier X-Ray costs nothing', () => {
  // Act and assess
  expect(xrayPerMillion(50_000, DEFAULT_RULE)).toBe(0);
});

test('a 1 % rule with no reservoir traces 1 in 100 requests, free up to 10 M a month', () => {
  // Act and assess: 100 M a month is 1 M traces, 0.9 M billed at $5 per million, spread over 100 M webhooks.
  expect(xrayPerMillion(10_000_000, STACK_RULE)).toBe(0);
  expect(xrayPerMillion(100_000_000, STACK_RULE)).toBeCloseTo((0.9 * 5) / 100, 6);
});

describe('the stack facts of the cost model', () => {
  const results = JSON.parse(readFileSync(join(__dirname, '..', '..', 'bench', 'results.json'), 'utf8')) as BenchResults;
  let stack: HookgateStack;
  let template: Template;
  let facts: StackFacts;
  let changedFacts: StackFacts;

  const item = (model: CostModel, name: string): number => model.scenarios[0]?.items.find((i) => i.item === name)?.dollars ?? Number.NaN;
  const fixed = (model: CostModel, name: string, sources: number): number => model.fixed.find((f) => f.item === name)?.perMonth(sources) ?? Number.NaN;

  beforeAll(() => {
    stack = buildReferenceStack();
    template = Template.fromStack(stack);
    facts = readStackFacts(stack, template, `config/${REFERENCE_ENVIRONMENT}.json`);

    // The same stack with what a change in lib/ could do to the measured source: more memory,
    // another alarm, longer log retention, platform log lines on, a higher sampling rate.
    const changed = buildReferenceStack();
    const cell = changed.cells.find((c) => c.sourceName === MEASURED_SOURCE);
    const verifier = cell?.verifier.function.node.defaultChild;
    const logGroup = cell?.verifier.logGroup.node.defaultChild;
    if (cell === undefined || !(verifier instanceof lambda.CfnFunction) || !(logGroup instanceof logs.CfnLogGroup)) throw new Error('the reference stack changed shape');
    verifier.memorySize = 1024;
    verifier.addPropertyOverride('LoggingConfig.SystemLogLevel', 'INFO');
    logGroup.retentionInDays = 731;
    new cloudwatch.Alarm(cell.alarms, 'Extra', { metric: cell.verifier.function.metricDuration(), threshold: 1, evaluationPeriods: 1 });
    changed.ingress.samplingRule.addPropertyOverride('SamplingRule.FixedRate', 0.05);
    changedFacts = readStackFacts(changed, Template.fromStack(changed), 'changed');
  }, SYNTH_TIMEOUT_MS);

  test('every function of the reference stack has the memory size the model prices', () => {
    // Prepare
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as { Properties: { MemorySize?: number } }[];

    // Assess
    expect(functions).toHaveLength(2 * facts.sources);
    for (const f of functions) expect([facts.verifierMemoryMb, facts.processorMemoryMb]).toContain(f.Properties.MemorySize);
  });

  test('the model counts every alarm, WAF rule, interface endpoint and source of the template', () => {
    // Prepare
    const count = (type: string): number => Object.keys(template.findResources(type)).length;
    const acl = Object.values(template.findResources('AWS::WAFv2::WebACL'))[0] as { Properties: { Rules: unknown[] } };
    const interfaces = Object.values(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }));

    // Assess
    expect(facts.sources).toBe(Object.keys(shippedConfig(REFERENCE_ENVIRONMENT).sources).length);
    expect(facts.alarmsPerSource * facts.sources + facts.optionalSourceAlarms + facts.edgeAlarms).toBe(count('AWS::CloudWatch::Alarm'));
    expect(facts.wafRules).toHaveLength(acl.Properties.Rules.length);
    expect(facts.interfaceEndpoints).toBe(interfaces.length);
    expect(facts.dashboards).toBe(count('AWS::CloudWatch::Dashboard'));
    expect(facts.kmsKeys).toBe(count('AWS::KMS::Key'));
  });

  test('the model keeps logs for the retention of the template, and samples X-Ray at its rule', () => {
    // Prepare
    const retentions = Object.values(template.findResources('AWS::Logs::LogGroup')).map((g) => (g as { Properties: { RetentionInDays?: number } }).Properties.RetentionInDays);
    const rule = Object.values(template.findResources('AWS::XRay::SamplingRule'))[0] as { Properties: { SamplingRule: { FixedRate: number; ReservoirSize: number } } };

    // Assess
    expect(retentions).toContain(facts.logRetentionDays);
    expect(facts.sampling).toEqual({ rate: rule.Properties.SamplingRule.FixedRate, reservoirPerSecond: rule.Properties.SamplingRule.ReservoirSize });
  });

  test('a change of the stack in lib/ changes the facts and the model\'s figures', () => {
    // Act
    const before = costModel(results, facts);
    const after = costModel(results, changedFacts);

    // Assess: the facts follow the template...
    expect(changedFacts.verifierMemoryMb).toBe(1024);
    expect(changedFacts.alarmsPerSource).toBe(facts.alarmsPerSource + 1);
    expect(changedFacts.logRetentionDays).toBe(Math.max(731, facts.logRetentionDays));
    expect(changedFacts.platformLogLines).toBe(true);
    expect(changedFacts.sampling?.rate).toBe(0.05);
    // ...and so do the figures.
    expect(item(after, 'Lambda verifier duration')).toBeCloseTo((item(before, 'Lambda verifier duration') * 1024) / facts.verifierMemoryMb, 9);
    expect(fixed(after, 'CloudWatch alarms', 1)).toBeCloseTo(fixed(before, 'CloudWatch alarms', 1) + 0.1, 9);
    expect(item(after, 'CloudWatch Logs')).toBeGreaterThan(item(before, 'CloudWatch Logs'));
    expect(after.xray[2]?.perMillion).toBeGreaterThan(before.xray[2]?.perMillion ?? Infinity);
  });
});
