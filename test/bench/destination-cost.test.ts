import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { PRICES } from '../../bench/cost';
import { DESTINATION_ASSUMPTIONS, destinationCostModel, destinationLevers, destinationScenario, type DestinationScenario } from '../../bench/destination-cost';
import { buildVariant, readDestinationFacts, resourcesOf } from '../../bench/destination-facts';
import { MEASURED_SOURCE } from '../../bench/stack-facts';
import { destinationFactsOf, destinationsResult, runSummary, stackFactsOf } from './destination-fixtures';

/**
 * The destinations cost model: each line worked out by hand from round inputs, and the facts it
 * prices read off a synthesized variant of the reference stack, so a change in a measurement or
 * in lib/ changes the figure.
 */

const M = 1_000_000;
const GB_SECOND = PRICES.lambdaGbSecondArm64;
const RECEIVER_MS = DESTINATION_ASSUMPTIONS.receiverResponseMs;
/** Synthesis of the variant takes seconds, more on a loaded machine. */
const SYNTH_TIMEOUT_MS = 180_000;

const item = (scenario: DestinationScenario | undefined, name: string): number => scenario?.items.find((i) => i.item === name)?.dollars ?? Number.NaN;

describe('per million source events, batches of 10 (1 GB delivery function, 10 ms per message measured)', () => {
  const model = destinationCostModel(destinationsResult(), destinationFactsOf(), stackFactsOf());
  const [one, three, oneTrickle, threeTrickle] = model.scenarios;

  test('one destination: a send per 10 events, a receive and a delete per 10, a history write per event, the function billed for 10 x (10 ms + the receiver)', () => {
    // Assess
    expect(item(one, 'Fan-out: SQS SendMessageBatch')).toBeCloseTo(0.1 * PRICES.sqsPerM, 9);
    expect(item(one, 'Destination queues: receive + delete')).toBeCloseTo(0.2 * PRICES.sqsPerM, 9);
    expect(item(one, 'Delivery function requests')).toBeCloseTo(0.1 * PRICES.lambdaPerM, 9);
    expect(item(one, 'Delivery function duration')).toBeCloseTo((M / 10) * ((10 * (10 + RECEIVER_MS)) / 1000) * GB_SECOND, 9);
    expect(item(one, 'DynamoDB: history writes')).toBeCloseTo(PRICES.dynamoWruPerM, 9);
    expect(item(one, 'DynamoDB: breaker reads')).toBeCloseTo(0.1 * PRICES.dynamoRruPerM, 9);
    expect(item(one, 'KMS (cached data keys)')).toBeCloseTo((1000 * PRICES.kmsPer10k) / 10_000, 9);
    expect(one?.items.some((i) => i.item === 'NAT data processing')).toBe(false);
    expect(one?.total).toBeCloseTo(one?.items.reduce((s, i) => s + i.dollars, 0) ?? Number.NaN, 9);
  });

  test('three destinations triple what each destination does; the fan-out reads the source once', () => {
    // Assess
    for (const name of ['Fan-out: SQS SendMessageBatch', 'Destination queues: receive + delete', 'Delivery function duration', 'DynamoDB: history writes', 'CloudWatch Logs (delivery functions)']) {
      expect(item(three, name)).toBeCloseTo(3 * item(one, name), 9);
    }
    expect(item(three, 'Fan-out: processor duration')).toBeCloseTo(item(one, 'Fan-out: processor duration'), 9);
  });

  test('events that trickle in (batch 1) pay a send, a receive, a delete, an invocation and a breaker read per event', () => {
    // Assess
    expect(item(oneTrickle, 'Fan-out: SQS SendMessageBatch')).toBeCloseTo(PRICES.sqsPerM, 9);
    expect(item(oneTrickle, 'Destination queues: receive + delete')).toBeCloseTo(2 * PRICES.sqsPerM, 9);
    expect(item(oneTrickle, 'Delivery function requests')).toBeCloseTo(PRICES.lambdaPerM, 9);
    expect(item(oneTrickle, 'DynamoDB: breaker reads')).toBeCloseTo(PRICES.dynamoRruPerM, 9);
    expect(item(threeTrickle, 'Delivery function requests')).toBeCloseTo(3 * PRICES.lambdaPerM, 9);
    expect(item(oneTrickle, 'Delivery function duration')).toBeCloseTo(item(one, 'Delivery function duration'), 9);
  });

  test('the fixed monthly cost counts the template\'s alarms and the metric names seen per destination, and no NAT without one', () => {
    // Assess
    expect(model.fixed.find((f) => f.item === 'CloudWatch alarms')?.perMonth).toBeCloseTo(7 * PRICES.alarmMonth, 9);
    expect(model.fixed.find((f) => f.item.startsWith('Custom metrics'))?.perMonth).toBeCloseTo(3 * PRICES.metricMonth, 9);
    expect(model.fixed.some((f) => f.per === 'environment')).toBe(false);
  });

  test('the levers: 128 MB saves 7/8 of the duration; parallel attempts bill the receiver once per batch', () => {
    // Act
    const levers = destinationLevers(one as DestinationScenario, runSummary(1), destinationsResult().serial, destinationFactsOf());
    const duration = item(one, 'Delivery function duration');

    // Assess
    expect(levers[0]?.dollars).toBeCloseTo(duration * (1 - 128 / 1024), 9);
    expect(levers[1]?.dollars).toBeCloseTo(duration * (1 - (10 * 10 + RECEIVER_MS) / (10 * (10 + RECEIVER_MS))), 9);
    expect(levers[3]?.dollars).toBeCloseTo(item(one, 'DynamoDB: history writes'), 9);
  });
});

describe('a change in a measured input or a fact changes the figure', () => {
  const result = destinationsResult();
  const base = destinationScenario('1', result.one, result.serial, destinationFactsOf(), stackFactsOf());

  test('a delivery function that logs warnings only pays no line per delivered attempt, and that lever is gone', () => {
    // Act
    const quiet = destinationScenario('1', result.one, result.serial, destinationFactsOf({ infoLogLines: false }), stackFactsOf());
    const levers = destinationLevers(quiet, result.one, result.serial, destinationFactsOf({ infoLogLines: false }));

    // Assess
    expect(item(quiet, 'CloudWatch Logs (delivery functions)')).toBeLessThan(item(base, 'CloudWatch Logs (delivery functions)'));
    expect(levers.map((l) => l.item)).not.toContainEqual(expect.stringContaining('No INFO line'));
    expect(levers).toHaveLength(3);
  });

  test('a slower delivery per message bills more duration', () => {
    // Act
    const slower = destinationScenario('1', result.one, runSummary(1, { delivery: { batch: 10, msPerRecord: 20 } }), destinationFactsOf(), stackFactsOf());

    // Assess
    expect(item(slower, 'Delivery function duration')).toBeCloseTo((item(base, 'Delivery function duration') * 10 * (20 + RECEIVER_MS)) / (10 * (10 + RECEIVER_MS)), 9);
  });

  test('a retry (two history writes per event) and more log bytes are paid', () => {
    // Act
    const calls = { ...result.one.callsPerEvent, 'delivery DynamoDB PutItem': 2 };
    const retried = destinationScenario('1', runSummary(1, { callsPerEvent: calls, logBytesPerDelivery: 600 }), result.serial, destinationFactsOf(), stackFactsOf());

    // Assess
    expect(item(retried, 'DynamoDB: history writes')).toBeCloseTo(2 * PRICES.dynamoWruPerM, 9);
    expect(item(retried, 'CloudWatch Logs (delivery functions)')).toBeGreaterThan(item(base, 'CloudWatch Logs (delivery functions)'));
  });

  test('twice the memory doubles the duration; x86 costs more; a NAT gateway adds data processing and a fixed hourly cost', () => {
    // Act
    const big = destinationScenario('1', result.one, result.serial, destinationFactsOf({ memoryMb: 2048 }), stackFactsOf());
    const x86 = destinationScenario('1', result.one, result.serial, destinationFactsOf({ architecture: 'x86_64' }), stackFactsOf());
    const natFacts = destinationFactsOf({ natGateways: 1 });
    const nat = destinationCostModel(result, natFacts, stackFactsOf());

    // Assess
    expect(item(big, 'Delivery function duration')).toBeCloseTo(2 * item(base, 'Delivery function duration'), 9);
    expect(item(x86, 'Delivery function duration')).toBeGreaterThan(item(base, 'Delivery function duration'));
    expect(item(nat.scenarios[0], 'NAT data processing')).toBeCloseTo((((2048 + DESTINATION_ASSUMPTIONS.wireOverheadBytes) * M) / 1024 ** 3) * PRICES.natGatewayGb, 9);
    expect(nat.fixed.find((f) => f.per === 'environment')?.perMonth).toBeCloseTo(730 * PRICES.natGatewayHour, 9);
  });
});

describe('the facts of a destination, from the synthesized variant of the reference stack', () => {
  test('memory, alarms and NAT are the template\'s, so a change in lib/ changes them and the figure', () => {
    // Prepare: the variant, changed as lib/ could change it (one synthesis: the tree cannot change after it).
    const { stack } = buildVariant(1);
    const cell = stack.cells.find((c) => c.sourceName === MEASURED_SOURCE)?.destinations[0];
    const delivery = cell?.delivery.function.node.defaultChild;
    if (cell === undefined || !(delivery instanceof lambda.CfnFunction)) throw new Error('the variant changed shape');
    const shipped = delivery.memorySize;
    delivery.memorySize = 1536;
    new cloudwatch.Alarm(cell.alarms, 'Extra', { metric: cell.delivery.function.metricDuration(), threshold: 1, evaluationPeriods: 1 });

    // Act
    const template = Template.fromStack(stack);
    const facts = readDestinationFacts(stack, resourcesOf(template), { interfaceEndpoints: 0, natGateways: 0 }, 'variant');

    // Assess: the facts are the template's...
    const alarmIds = new Set(Object.keys(template.findResources('AWS::CloudWatch::Alarm')));
    const cellAlarms = cell.node.findAll().filter((c) => CfnElement.isCfnElement(c) && alarmIds.has(stack.getLogicalId(c))).length;
    expect(facts.memoryMb).toBe(1536);
    expect(facts.alarms).toBe(cellAlarms);
    expect(facts.alarms).toBe(cell.alarms.all.length + 1);
    expect(facts.natGateways).toBe(Object.keys(template.findResources('AWS::EC2::NatGateway')).length);
    // ...and so is the figure.
    const result = destinationsResult();
    const figure = (memoryMb: number): number => item(destinationScenario('1', result.one, result.serial, { ...facts, memoryMb }, stackFactsOf()), 'Delivery function duration');
    expect(figure(facts.memoryMb)).toBeCloseTo((figure(shipped ?? Number.NaN) * 1536) / (shipped ?? Number.NaN), 9);
  }, SYNTH_TIMEOUT_MS);
});
