import { defineHandlers } from 'hookgate/runtime';

/**
 * The `ehr` destination of the stripe source (config/prod.json): hookgate bundles this module
 * into the destination's own function and calls the handler for each matching event, decrypted.
 * Handlers are idempotent on `event.dedupeKey`: delivery is at least once.
 */
export const handlers = defineHandlers({
  stripe: {
    'invoice.paid': async (event, { logger }) => {
      const invoice = event.json<{ data: { object: { id: string } } }>();
      // Record the payment against the patient's chart here (the EHR's API), keyed by dedupeKey.
      logger.info('invoice paid: chart updated', { dedupeKey: event.dedupeKey, invoice: invoice.data.object.id });
    },
  },
});
