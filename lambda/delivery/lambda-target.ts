import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { LambdaDestinationConfig } from '../config/destinations';
import { type Clock, monotonic, timedCall } from './aws-call';
import type { AttemptResult, DeliveryEvent, Target, Verdict } from './contract';
import { type EventFacts, eventFacts } from './event-facts';

/**
 * The `lambda` destination with `functionArn`: one attempt is one synchronous Invoke
 * (RequestResponse) of the team's existing function with the decrypted event as JSON
 * ({@link LambdaDestinationEvent}). The function is expected to be idempotent on `dedupeKey` (or
 * `webhookId`): delivery is at-least-once.
 *
 * What each answer means:
 * - the function returned: delivered;
 * - the function threw or timed out (`FunctionError`, handled or unhandled): retry
 *   (`function-error`), then the destination's DLQ;
 * - throttling (TooManyRequestsException, with its Retry-After), Lambda's 5xx errors (service,
 *   EC2/ENI/EFS/KMS/SnapStart troubles of the function), a timeout or network error: retry;
 * - the function or permission is missing (ResourceNotFoundException, AccessDeniedException,
 *   KMSAccessDeniedException...) or the function is not ready: retry as well, so on-call can fix
 *   the configuration within the retry window without losing an event;
 * - the payload can never be accepted (RequestTooLargeException: over Lambda's 6 MB synchronous
 *   limit; InvalidRequestContentException): reject, the DLQ at once.
 *
 * The function's answer and error payloads are never read: they may quote the event.
 */

/** The JSON a function given as `functionArn` receives: the event's facts and its exact body, base64. */
export interface LambdaDestinationEvent extends EventFacts {
  /** The exact body the provider sent, base64. */
  readonly body: string;
  readonly bodyEncoding: 'base64';
}

/** A `lambda` destination as its delivery function sees it. */
export type LambdaDestination = LambdaDestinationConfig & { readonly name: string; readonly source: string };

/** Options of {@link createLambdaTarget}. */
export interface LambdaTargetOptions {
  /** The destination; it must have `functionArn` (an `entry` destination reads its queue itself). */
  readonly destination: LambdaDestination;
  /** A Lambda client; give it `maxAttempts: 1`, the delivery engine retries. */
  readonly lambda: LambdaClient;
  /** Clock for the attempt's latency, ms. @default performance.now */
  readonly now?: Clock;
}

/** Errors a retry of the same payload can never get past. */
const REJECTED = new Set(['RequestTooLargeException', 'InvalidRequestContentException']);

/** The event as the function receives it. */
export function lambdaDestinationEvent(event: DeliveryEvent): LambdaDestinationEvent {
  return { ...eventFacts(event), body: event.body.toString('base64'), bodyEncoding: 'base64' };
}

/** Creates the target of a `lambda` destination with `functionArn` (see the module comment). */
export function createLambdaTarget(options: LambdaTargetOptions): Target {
  const { destination, lambda } = options;
  const functionArn = destination.functionArn;
  if (functionArn === undefined) throw new Error(`destination ${destination.name} has no functionArn: an entry destination reads its own queue`);
  return {
    async deliver(event, context): Promise<AttemptResult> {
      const payload = Buffer.from(JSON.stringify(lambdaDestinationEvent(event)), 'utf8');
      const outcome = await timedCall(
        (abortSignal) => lambda.send(new InvokeCommand({ FunctionName: functionArn, InvocationType: 'RequestResponse', Payload: payload }), { abortSignal }),
        context.timeoutMs,
        options.now ?? monotonic,
      );
      const { latencyMs } = outcome;
      if (outcome.ok) {
        const { StatusCode: statusCode, FunctionError: functionError } = outcome.output;
        const status = statusCode === undefined ? {} : { statusCode };
        if (functionError !== undefined && functionError !== '') return { verdict: 'retry', errorClass: 'function-error', latencyMs, ...status };
        return { verdict: 'delivered', latencyMs, ...status };
      }
      const verdict: Verdict = REJECTED.has(outcome.error.errorClass) ? 'reject' : 'retry';
      return { verdict, ...outcome.error, latencyMs };
    },
  };
}
