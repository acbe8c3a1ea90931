import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDeliveryFunction } from './function';
import { targetFor } from './targets';

/**
 * The delivery Lambda entry point on AWS: one function per destination, built once per
 * execution environment from the environment the stack sets (function.ts).
 */
const deliver = createDeliveryFunction(targetFor);

/** The Lambda handler. */
export function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return deliver(event, context);
}
