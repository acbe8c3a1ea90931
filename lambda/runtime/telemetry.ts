/**
 * Names shared by the functions that emit metrics (EMF via Powertools) and the stack that
 * alarms on them. The stack sets POWERTOOLS_METRICS_NAMESPACE to `Hookgate/<environment>` and
 * POWERTOOLS_SERVICE_NAME to `hookgate`; every metric carries the dimensions
 * `{ service: 'hookgate', source: <source name> }` and nothing else, so alarms can match exactly.
 */
export const METRICS = {
  namespacePrefix: 'Hookgate',
  service: 'hookgate',
  sourceDimension: 'source',
  /** Count: events accepted and enqueued. */
  accepted: 'Accepted',
  /** Count: events answered as duplicates (not enqueued again). */
  duplicate: 'Duplicate',
  /** Count: requests refused with a 4xx (any reason). */
  rejected: 'Rejected',
  /** Count: signature, token or timestamp failures (401): the spike alarm watches this. */
  signatureFailures: 'SignatureFailures',
  /** Count: 503 answers (DynamoDB, KMS, SQS or S3 failure). */
  downstreamFailures: 'DownstreamFailures',
  /** Count: 503 answers because the source's secret values break the secret rules (on-call fixes the secret). */
  secretConfigurationErrors: 'SecretConfigurationErrors',
  /** Milliseconds from request to answer in the verifier. */
  verifyLatency: 'VerifyLatency',
  /** Count: records a processor handled successfully. */
  processed: 'Processed',
  /** Count: records a processor failed (left for retry, then the DLQ). */
  processingFailures: 'ProcessingFailures',
  /** Count: records that can never open, moved by the processor straight to the DLQ. */
  deadLettered: 'DeadLettered',
  /** Count: payload objects the processor could not delete after success (the lifecycle will). */
  payloadDeleteFailures: 'PayloadDeleteFailures',
  /** Dimension added to the delivery metrics below: the destination's name (with `source`). */
  destinationDimension: 'destination',
  /** Count: events the fan-out sent to a destination's queue (dimensions source, destination). */
  forwarded: 'Forwarded',
  /** Count: events the fan-out dropped on purpose because no destination's `events` filter matches them. */
  unmatched: 'Unmatched',
  /** Count: attempts the destination accepted (2xx, or the Lambda/EventBridge call succeeded). */
  delivered: 'Delivered',
  /** Count: failed attempts that will be retried (5xx, 3xx, 408/409/425/429, timeouts, network errors). */
  deliveryFailures: 'DeliveryFailures',
  /** Count: events refused for good by the destination (other 4xx): moved to the destination's DLQ at once. */
  deliveryRejected: 'DeliveryRejected',
  /** Count: events whose retry window ran out: moved to the destination's DLQ. */
  retriesExhausted: 'RetriesExhausted',
  /** Count: attempts refused by the SSRF guard (the host resolved to a refused address): DLQ at once. */
  addressRefused: 'AddressRefused',
  /** Count: 410 Gone answers: the destination is paused and on-call paged. */
  destinationGone: 'DestinationGone',
  /** Count: the circuit breaker opened. */
  circuitOpened: 'CircuitOpened',
  /** Count: the circuit breaker closed again after a successful probe. */
  circuitClosed: 'CircuitClosed',
  /** Milliseconds of one delivery attempt. */
  deliveryLatency: 'DeliveryLatency',
  /** Count: delivery attempts not recorded in the delivery history (DynamoDB refused; the delivery itself went on). */
  deliveryHistoryFailures: 'DeliveryHistoryFailures',
} as const;
