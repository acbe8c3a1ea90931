import type { SQSRecord } from 'aws-lambda';
import { EncryptionError, EnvelopeMismatchError, MessageFormatError, PayloadStoreError } from '../../lambda/ingest/errors';
import { BatchFailedError, createProcessorHandler, type OpenedMessage } from '../../lambda/processor/batch';
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

  it('hands handlers the replay id of a replayed event (a well-formed attribute only), and logs it with a failure', async () => {
    const got = new Map<string, string | undefined>();
    const logger = memoryLogger();
    const handler = createProcessorHandler({
      open: fakeOpen,
      logger,
      handlers: defineHandlers({
        stripe: {
          '*': (event) => {
            got.set(event.dedupeKey, event.replayId);
            if (event.dedupeKey === 'stripe:c') throw new Error('downstream refused');
          },
        },
      }),
    });
    const withReplay = (r: ReturnType<typeof record>, value: string): ReturnType<typeof record> => ({ ...r, messageAttributes: { replayId: { stringValue: value, dataType: 'String', stringListValues: [], binaryListValues: [] } } });

    await handler({ Records: [record('a'), withReplay(record('b'), 'b7e1c2d4-replay'), withReplay(record('c'), 'c-replay'), withReplay(record('d'), 'not a replay id\n')] }, context);

    expect(Object.fromEntries(got)).toEqual({ 'stripe:a': undefined, 'stripe:b': 'b7e1c2d4-replay', 'stripe:c': 'c-replay', 'stripe:d': undefined });
    expect(logger.lines.map((l) => JSON.parse(l) as { replayId?: string }).find((l) => l.replayId !== undefined)?.replayId).toBe('c-replay');
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

  it('hands handlers the sealed type and whether the signature covered it', async () => {
    const seen: [string | undefined, boolean][] = [];
    const handler = createProcessorHandler({
      open: fakeOpen,
      logger: memoryLogger(),
      handlers: defineHandlers({ '*': { '*': (e) => void seen.push([e.eventType, e.typeSigned]) } }),
    });

    await handler({ Records: [record('s', { eventType: 'invoice.paid', typeSigned: true }), record('g', { source: 'github', eventType: 'push', typeSigned: false })] }, context);

    expect(seen.sort()).toEqual([['invoice.paid', true], ['push', false]]);
  });
});

describe('processor handler, records that can never open', () => {
  const failing = (err: Error) => async (r: SQSRecord): Promise<OpenedMessage> => {
    if (r.messageId.startsWith('bad')) throw err;
    return fakeOpen(r);
  };

  it('moves them to the DLQ at once with the error code, reports them done, and counts them apart', async () => {
    const moved: [string, string][] = [];
    const counts: Record<string, number> = {};
    const logger = memoryLogger();
    const handler = createProcessorHandler({
      open: async (r) => {
        if (r.messageId === 'bad-format') throw new MessageFormatError('missing attribute source');
        if (r.messageId === 'bad-binding') throw new EnvelopeMismatchError('dedupe_key');
        return fakeOpen(r);
      },
      deadLetter: async (r, reason) => void moved.push([r.messageId, reason]),
      logger,
      handlers: defineHandlers({}),
      metrics: { count: (name, value) => void (counts[name] = (counts[name] ?? 0) + value), flush: () => undefined },
    });

    const response = await handler({ Records: [record('ok'), record('bad-format'), record('bad-binding')] }, context);

    expect(response.batchItemFailures).toEqual([]);
    expect(moved.sort()).toEqual([['bad-binding', 'envelope_mismatch'], ['bad-format', 'message_format']]);
    expect(counts).toEqual({ Processed: 1, DeadLettered: 2 });
    expect(logger.lines.join('\n')).toContain('"message":"message can never open; moved to the DLQ"');
  });

  it('leaves them to the normal retries when the move to the DLQ fails', async () => {
    const logger = memoryLogger();
    const handler = createProcessorHandler({
      open: failing(new MessageFormatError('bad pointer')),
      deadLetter: () => Promise.reject(new TypeError('queue unreachable')),
      logger,
      handlers: defineHandlers({}),
    });

    const response = await handler({ Records: [record('ok'), record('bad')] }, context);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(logger.lines.join('\n')).toContain('"moveError":"TypeError"');
  });

  it('never moves a record whose failure may pass (KMS, S3), so it is retried', async () => {
    const moved: string[] = [];
    for (const err of [new EncryptionError(), new PayloadStoreError()]) {
      const handler = createProcessorHandler({ open: failing(err), deadLetter: async (r) => void moved.push(r.messageId), logger: memoryLogger(), handlers: defineHandlers({}) });

      const response = await handler({ Records: [record('ok'), record('bad')] }, context);

      expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    }
    expect(moved).toEqual([]);
  });
});

describe('processor handler, payload objects', () => {
  it('releases a message once its handler succeeded, and never one whose handler failed', async () => {
    const released: string[] = [];
    const handler = createProcessorHandler({
      open: fakeOpen,
      release: async (m) => void released.push(m.dedupeKey),
      logger: memoryLogger(),
      handlers: defineHandlers({ stripe: { '*': (e) => { if (e.dedupeKey === 'stripe:b') throw new Error('no'); } } }),
    });

    await handler({ Records: [record('a', { payload: 's3' }), record('b', { payload: 's3' })] }, context);

    expect(released).toEqual(['stripe:a']);
  });

  it('keeps a record done when its payload cannot be deleted: the error name is logged and counted', async () => {
    const counts: Record<string, number> = {};
    const logger = memoryLogger();
    const handler = createProcessorHandler({
      open: fakeOpen,
      release: () => Promise.reject(new PayloadStoreError({ cause: new Error('AccessDenied for patient Jane') })),
      logger,
      handlers: defineHandlers({}),
      metrics: { count: (name, value) => void (counts[name] = (counts[name] ?? 0) + value), flush: () => undefined },
    });

    const response = await handler({ Records: [record('a', { payload: 's3' })] }, context);

    expect(response.batchItemFailures).toEqual([]);
    expect(counts).toEqual({ Processed: 1, PayloadDeleteFailures: 1 });
    const warning = logger.lines.find((l) => l.includes('payload object not deleted'));
    expect(warning).toContain('"error":"PayloadStoreError"');
    expect(warning).toContain('"dedupeKey":"stripe:a"');
    expect(logger.lines.join('\n')).not.toContain('Jane');
  });
});
