import { createProcessorHandler, toWebhookEvent } from '../../lambda/processor/batch';
import { defineHandlers, type EventHandler, logMetadata } from '../../lambda/processor/api';
import { context, fakeOpen, memoryLogger, record } from './fixtures';

describe('handler routing', () => {
  const named = (name: string, calls: string[]): EventHandler => () => void calls.push(name);

  it('routes by source and event type, most specific first', () => {
    const calls: string[] = [];
    const handlers = defineHandlers(
      {
        stripe: { 'payment_intent.succeeded': named('stripe/succeeded', calls), '*': named('stripe/*', calls) },
        '*': { 'ping': named('*/ping', calls), '*': named('*/*', calls) },
      },
      { fallback: named('fallback', calls) },
    );
    const ctx = { logger: memoryLogger(), attempt: 1 };
    const event = toWebhookEvent({ source: 'x', dedupeKey: 'x:1', receivedAt: '', typeSigned: false, body: Buffer.alloc(0), headers: {} });

    void handlers.resolve('stripe', 'payment_intent.succeeded')(event, ctx);
    void handlers.resolve('stripe', 'charge.failed')(event, ctx);
    void handlers.resolve('stripe', undefined)(event, ctx);
    void handlers.resolve('github', 'ping')(event, ctx);
    void handlers.resolve('github', 'push')(event, ctx);

    expect(calls).toEqual(['stripe/succeeded', 'stripe/*', 'stripe/*', '*/ping', '*/*']);
  });

  it('falls back to the default handler when nothing matches, even for inherited names', () => {
    const handlers = defineHandlers({ stripe: { 'charge.failed': () => undefined } });

    expect(handlers.resolve('github', 'push')).toBe(logMetadata);
    expect(handlers.resolve('stripe', 'constructor')).toBe(logMetadata);
    expect(handlers.resolve('__proto__', 'toString')).toBe(logMetadata);
  });

  it('runs the handler of each record own source and type inside one batch', async () => {
    const calls: string[] = [];
    const handler = createProcessorHandler({
      open: fakeOpen,
      logger: memoryLogger(),
      handlers: defineHandlers({
        stripe: { 'invoice.paid': (e) => void calls.push(`stripe-invoice:${e.dedupeKey}`) },
        github: { push: (e) => void calls.push(`github-push:${e.dedupeKey}`) },
      }),
    });

    await handler(
      {
        Records: [
          record('1', { source: 'stripe', dedupeKey: 'stripe:1', eventType: 'invoice.paid' }),
          record('2', { source: 'github', dedupeKey: 'github:2', eventType: 'push' }),
        ],
      },
      context,
    );

    expect(calls.sort()).toEqual(['github-push:github:2', 'stripe-invoice:stripe:1']);
  });
});

describe('default handler', () => {
  it('logs source, ids, type and size, and no body content', async () => {
    const logger = memoryLogger();
    const body = Buffer.from('{"patient":"Jane Doe","dob":"1970-01-01"}');
    const handler = createProcessorHandler({ open: fakeOpen, logger, handlers: defineHandlers({}) });

    await handler({ Records: [record('e1', { eventId: 'evt_1', eventType: 'charge.succeeded', body, headers: { 'content-type': 'application/json' } })] }, context);

    expect(logger.lines).toHaveLength(1);
    expect(JSON.parse(logger.lines[0] as string)).toEqual({
      level: 'info',
      message: 'webhook processed',
      source: 'stripe',
      eventId: 'evt_1',
      dedupeKey: 'stripe:e1',
      eventType: 'charge.succeeded',
      size: body.length,
    });
    expect(logger.lines[0]).not.toMatch(/Jane|1970|patient/);
  });
});
