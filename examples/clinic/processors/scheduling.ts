import { defineHandlers } from 'hookgate/runtime';

/**
 * The processor of the scheduling source: hookgate bundles this module into that source's
 * processor (the Hookgate construct's `processorEntries`). Metadata only in logs, never a body.
 */
export const handlers = defineHandlers({
  scheduling: {
    'appointment.booked': async (event, { logger }) => {
      // Reserve the room in the clinic's own system here, keyed by dedupeKey.
      logger.info('appointment booked', { dedupeKey: event.dedupeKey, eventId: event.eventId });
    },
  },
});
