/**
 * Environment variables the stack sets on the functions. Names, ARNs and non-secret JSON only:
 * secret values never travel in the environment (they are read from Secrets Manager).
 */
export const ENV = {
  /** JSON of the source's NamedSource without secret values (verifier and processor). */
  source: 'HOOKGATE_SOURCE',
  /** DynamoDB dedupe table name (verifier). */
  table: 'HOOKGATE_TABLE',
  /** SQS work queue URL of the source (verifier). */
  queueUrl: 'HOOKGATE_QUEUE_URL',
  /** SQS dead-letter queue URL of the source (processor: records that can never open go there at once). */
  deadLetterQueueUrl: 'HOOKGATE_DLQ_URL',
  /** S3 bucket for encrypted bodies too large for an SQS message (verifier writes, processor reads). */
  payloadBucket: 'HOOKGATE_PAYLOAD_BUCKET',
  /** ARN of the KMS key that wraps data keys (verifier and processor). */
  keyArn: 'HOOKGATE_KEY_ARN',
  /** Days a dedupe record lives (verifier). */
  dedupeTtlDays: 'HOOKGATE_DEDUPE_TTL_DAYS',
  /** JSON list of the source's destinations for the fan-out: `[{ name, events?, queueUrl }]` (processor of a source with destinations). */
  destinationQueues: 'HOOKGATE_DESTINATION_QUEUES',
  /** JSON of the NamedDestination without secret values (delivery function). */
  destination: 'HOOKGATE_DESTINATION',
  /** DynamoDB table of circuit-breaker state and delivery attempts (delivery function). */
  deliveryTable: 'HOOKGATE_DELIVERY_TABLE',
  /** Days a delivery attempt record lives (delivery function). */
  deliveryHistoryDays: 'HOOKGATE_DELIVERY_HISTORY_DAYS',
  /** S3 bucket of the archive of every accepted event (a source's processor writes `archive/<source>/`). */
  archiveBucket: 'HOOKGATE_ARCHIVE_BUCKET',
  /** Name of the Secrets Manager secret with the destination's signing secrets (http delivery function). */
  signingSecretName: 'HOOKGATE_SIGNING_SECRET_NAME',
} as const;

/** The value of an environment variable the stack sets; throws (name only) when it is missing. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.length === 0) throw new Error(`environment variable ${name} is not set`);
  return value;
}
