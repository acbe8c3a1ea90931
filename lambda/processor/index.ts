import { ENV } from '../runtime/env';
import { createFanOutEntry, createProcessorEntry } from './entry';
import { handlers } from './routes';

/**
 * The processor Lambda entry point on AWS (one function per source, its SQS event source
 * mapping with `reportBatchItemFailures`): the handlers of routes.ts, or, for a source with
 * destinations (`HOOKGATE_DESTINATION_QUEUES` set), the fan-out to their queues. Built once per
 * execution environment (entry.ts).
 */
export const handler = (process.env[ENV.destinationQueues] ?? '') === '' ? createProcessorEntry({ handlers }) : createFanOutEntry();
