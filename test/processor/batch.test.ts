import { BatchFailedError, createProcessorHandler } from '../../lambda/processor/batch';
import { defineHandlers, type WebhookEvent } from '../../lambda/processor/api';
import { context, fakeOpen, memoryLogger, record } from './fixtures';

describe('processor handler', () => {
  it('reports only the record whose handler failed, and runs the others', async () => {
    const seen: string[] = [];
    const handler = createProcessorHandler({
      open: fakeOpen,
      logger: memoryLogger(),
      handlers: defineHandlers({
        stripe: {
          '*': (event) => {
            if (event.dedupeKey === 'stripe:b') throw new Error('downstream refused');
            seen.push(event.dedupeKey);
          },
        },
      }),
    });

    const response = await handler({ Records: [record('a'), record('b'), record('c')] }, context);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'b' }]);
    expect(seen.sort()).toEqual(['stripe:a', 'stripe:c']);
  });

  it('reports a record that cannot be opened as failed instead of dropping it', async () => {
    const handler = createProcessorHandler({
      open: async (r) => {
        if (r.messageId === 'bad') throw new Error('cannot decrypt');
        return fakeOpen(r);
      },
      logger: memoryLogger(),
      handlers: defineHandlers({}),
    });

    const response = await handler({ Records: [record('ok'), record('bad')] }, context);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
  });

  it('throws a cause-free error when every record fails, so Lambda counts an error and retries all', async () => {
    const handler = createProcessorHandler({
      open: fakeOpen,
      logger: memoryLogger(),
      handlers: defineHandlers({ '*': { '*': () => Promise.reject(new Error('patient Jane Doe')) } }),
    });

    const run = handler({ Records: [record('a'), record('b')] }, context);

    await expect(run).rejects.toBeInstanceOf(BatchFailedError);
    await run.catch((err: Error) => {
      expect(err.message).not.toContain('Jane');
      expect(err.cause).toBeUndefined();
    });
  });

  it('hands handlers the exact bytes, parsed views and the delivery attempt', async () => {
    const raw = Buffer.from('{"id":"evt_1", "amount":  2000}\n');
    let got: { event: WebhookEvent; attempt: number } | undefined;
    const handler = createProcessorHandler({
      open: fakeOpen,
      logger: memoryLogger(),
      handlers: defineHandlers({ stripe: { '*': (event, { attempt }) => void (got = { event, attempt }) } }),
    });

    await handler({ Records: [record('a', { body: raw }, 3)] }, context);

    expect(got?.event.body.equals(raw)).toBe(true);
    expect(got?.event.json<{ amount: number }>().amount).toBe(2000);
    expect(got?.attempt).toBe(3);
  });

  it('counts processed and failed records in metrics and flushes once per batch', async () => {
    const counts: Record<string, number> = {};
    let flushes = 0;
    const handler = createProcessorHandler({
      open: fakeOpen,
      logger: memoryLogger(),
      handlers: defineHandlers({ stripe: { '*': (e) => { if (e.dedupeKey === 'stripe:x') throw new Error('no'); } } }),
      metrics: { count: (name, value) => void (counts[name] = (counts[name] ?? 0) + value), flush: () => void (flushes += 1) },
    });

    await handler({ Records: [record('x'), record('y'), record('z')] }, context);

    expect(counts).toEqual({ Processed: 2, ProcessingFailures: 1 });
    expect(flushes).toBe(1);
  });

  it('logs a failed handler with metadata and the error name, never the error message or body', async () => {
    const logger = memoryLogger();
    const handler = createProcessorHandler({
      open: fakeOpen,
      logger,
      handlers: defineHandlers({ stripe: { '*': (e) => { if (e.dedupeKey === 'stripe:a') throw new TypeError(`bad ${e.body.toString()}`); } } }),
    });

    await handler({ Records: [record('a', { body: Buffer.from('{"ssn":"123-45-6789"}') }), record('b')] }, context);

    const text = logger.lines.join('\n');
    expect(text).toContain('"error":"TypeError"');
    expect(text).toContain('"dedupeKey":"stripe:a"');
    expect(text).not.toContain('123-45-6789');
  });
});
