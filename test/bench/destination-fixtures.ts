import type { DestinationFacts } from '../../bench/destination-facts';
import type { DestinationsResult, RunSummary } from '../../bench/destinations';
import type { StackFacts } from '../../bench/stack-facts';

/**
 * Hand-made inputs of the destinations cost model: round numbers, so each figure can be worked
 * out by hand in the tests.
 */

/** A run of 1,000 events to `destinations` destinations in batches of 10, everything delivered on the first attempt. */
export function runSummary(destinations: number, overrides: Partial<RunSummary> = {}): RunSummary {
  const events = 1000;
  const batches = (events / 10) * destinations;
  const calls = {
    'fan-out SQS SendMessageBatch': batches,
    'delivery poller SQS ReceiveMessage': batches,
    'delivery poller SQS ReceiveMessage (empty)': 7,
    'delivery poller SQS DeleteMessageBatch': batches,
    'delivery DynamoDB GetItem': batches,
    'delivery DynamoDB PutItem': events * destinations,
    'source poller SQS ReceiveMessage': events / 10,
  };
  return {
    destinations,
    bodyBytes: 2048,
    events,
    delivered: events * destinations,
    left: 0,
    perSecond: 100,
    calls,
    callsPerEvent: Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, v / events])),
    kms: { generateDataKey: 0, encrypt: 0, decrypt: destinations },
    sendBatchBytes: 30_000,
    receiveBytes: 30_000,
    fanOut: { batch: 10, msPerRecord: 2 },
    delivery: { batch: 10, msPerRecord: 50 },
    logBytesPerDelivery: 300,
    logLinesPerDelivery: 1,
    emfBytesPerDelivery: 30,
    emfBlobsPerDelivery: 0.1,
    metricNames: ['Delivered', 'DeliveryLatency'],
    ...overrides,
  };
}

/** A destinations result: serial durations 10 ms per delivered message and 2 ms per fanned-out one. */
export function destinationsResult(overrides: Partial<DestinationsResult> = {}): DestinationsResult {
  return {
    ran: { date: '2026-12-01T12:00:00.000Z', loadAverage: 1 },
    options: { rounds: 1, events: 1000, baselineSeconds: 1, serialEvents: 100, concurrency: 10, bodyBytes: 2048 },
    rounds: [{ forwardingPerSecond: 100, baselinePerSecond: 1000, ratio: 0.1 }],
    ratio: 0.1,
    one: runSummary(1),
    three: runSummary(3),
    serial: runSummary(1, { delivery: { batch: 10, msPerRecord: 10 }, fanOut: { batch: 10, msPerRecord: 2 } }),
    ...overrides,
  };
}

/** A delivery function of 1024 MB arm64 (1 GB: the duration arithmetic stays readable), no NAT. */
export function destinationFactsOf(overrides: Partial<DestinationFacts> = {}): DestinationFacts {
  return {
    from: 'test',
    memoryMb: 1024,
    architecture: 'arm64',
    platformLogLines: false,
    infoLogLines: true,
    logRetentionDays: 30,
    alarms: 7,
    batchSize: 10,
    maxInFlight: 10,
    secrets: 1,
    natGateways: 0,
    extraInterfaceEndpoints: 0,
    ...overrides,
  };
}

/** Stack facts with a 1024 MB processor. */
export function stackFactsOf(overrides: Partial<StackFacts> = {}): StackFacts {
  return {
    from: 'test',
    sources: 1,
    verifierMemoryMb: 512,
    processorMemoryMb: 1024,
    architecture: 'arm64',
    platformLogLines: false,
    logRetentionDays: 30,
    accessLog: true,
    executionLogLevel: 'ERROR',
    wafLogsAllowed: false,
    tracing: true,
    sampling: { reservoirPerSecond: 0, rate: 0.01 },
    alarmsPerSource: 5,
    optionalSourceAlarms: 0,
    edgeAlarms: 2,
    wafRules: ['rate'],
    dashboards: 1,
    kmsKeys: 1,
    interfaceEndpoints: 0,
    endpointAzs: 0,
    metricsPerSource: 10,
    archive: { processorBatch: 100, processorWindowSeconds: 1, processorConcurrency: 5, fanOutBatch: 100, fanOutWindowSeconds: 1, days: 30, bucketKey: true },
    ...overrides,
  };
}
