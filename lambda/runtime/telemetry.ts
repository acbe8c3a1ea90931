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
} as const;
