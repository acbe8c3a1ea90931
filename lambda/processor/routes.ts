import { defineHandlers } from './api';

/**
 * The processors of this deployment: edit this table. Each handler receives a decrypted
 * WebhookEvent and must be idempotent on `event.dedupeKey` (delivery is at-least-once).
 * Events no entry matches go to the default handler, which logs metadata only.
 *
 * @example
 * ```ts
 * export const handlers = defineHandlers({
 *   stripe: { 'payment_intent.succeeded': async (event) => savePayment(event.dedupeKey, event.json()) },
 *   '*': { '*': logMetadata },
 * });
 * ```
 */
export const handlers = defineHandlers({});
