import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/**
 * Placeholder of the delivery function's entry point, so the stack synthesizes (NodejsFunction
 * needs its entry to exist). The delivery engine replaces it. Until then every record is
 * reported failed: it stays on the destination's queue and is never dropped.
 */
export function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  return Promise.resolve({ batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })) });
}
