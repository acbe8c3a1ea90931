import { appendFile } from 'node:fs/promises';
import type { EventHandler } from '../lambda/processor/api';

/**
 * `--sink FILE`: the default local processor appends one JSON line per processed event, so a
 * developer can see (and a test can compare) exactly what a processor would receive. Local only:
 * the file holds decrypted bodies, which never reach the logs.
 */

/** One line of the sink file. */
export interface SinkLine {
  readonly source: string;
  readonly eventId: string | null;
  readonly eventType: string | null;
  readonly dedupeKey: string;
  readonly receivedAt: string;
  /** The safe header subset the verifier kept with the message. */
  readonly headers: Readonly<Record<string, string>>;
  /** The raw body as UTF-8 text, byte for byte; `null` when the bytes are not valid UTF-8. */
  readonly body: string | null;
  /** Present only when `body` is null: the raw bytes in base64. */
  readonly bodyBase64?: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as text when decoding is lossless, else `undefined`. */
function exactText(body: Buffer): string | undefined {
  try {
    return strictUtf8.decode(body);
  } catch {
    return undefined;
  }
}

/** Builds the sink line of one event. */
export function sinkLine(event: Parameters<EventHandler>[0]): SinkLine {
  const text = exactText(event.body);
  return {
    source: event.source,
    eventId: event.eventId ?? null,
    eventType: event.eventType ?? null,
    dedupeKey: event.dedupeKey,
    receivedAt: event.receivedAt,
    headers: event.headers,
    ...(text !== undefined ? { body: text } : { body: null, bodyBase64: event.body.toString('base64') }),
  };
}

/** A handler appending each event to `file` (lines are written one at a time, in order). */
export function createSinkHandler(file: string): EventHandler {
  let queue: Promise<void> = Promise.resolve();
  return (event) => {
    const line = `${JSON.stringify(sinkLine(event))}\n`;
    const write = queue.then(() => appendFile(file, line, { mode: 0o600 }));
    // The chain survives a failed write; that write's own promise still rejects, so the
    // record is retried rather than lost.
    queue = write.catch(() => undefined);
    return write;
  };
}
