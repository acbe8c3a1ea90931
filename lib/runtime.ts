/**
 * `hookgate/runtime`: what code running in a Lambda imports from hookgate. Nothing here pulls in
 * aws-cdk-lib, so a team's handlers module bundles small:
 *
 * - the processor API: {@link defineHandlers} and the {@link WebhookEvent} its handlers receive
 *   (a source's `processorEntry`, a `lambda` destination's `entry`);
 * - {@link DeliveryEvent}, what a destination receives;
 * - {@link fetchEventBody}, for consumers of an `eventbridge` destination whose event carries a
 *   `bodyRef` (a body too large for EventBridge), granted by the construct.
 */
export {
  defineHandlers,
  logMetadata,
  type DefineHandlersOptions,
  type EventHandler,
  type HandlerContext,
  type HandlerTable,
  type Handlers,
  type LogFields,
  type ProcessorLogger,
  type SourceHandlers,
  type WebhookEvent,
} from '../lambda/processor/api';
export type { DeliveryEvent } from '../lambda/delivery/contract';
export { fetchEventBody, type BodyRef, type BodyReference, type FetchEventBodyDeps } from '../lambda/delivery/body-ref';
export type { EventBridgeDetail } from '../lambda/delivery/eventbridge-target';
export type { LambdaDestinationEvent } from '../lambda/delivery/lambda-target';
