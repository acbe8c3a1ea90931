/**
 * `hookgate/runtime`: what code running in a Lambda imports from hookgate. Nothing here pulls in
 * aws-cdk-lib, so a team's handlers module bundles small:
 *
 * - the processor API: {@link defineHandlers} and the {@link WebhookEvent} its handlers receive
 *   (a source's `processorEntry`, a `lambda` destination's `entry`);
 * - {@link DeliveryEvent}, what a destination receives.
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
