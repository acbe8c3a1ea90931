import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { namedSource, namedSources, type EnvironmentConfig } from '../lambda/config/schema';
import { literalAddress } from '../lambda/delivery/addresses';
import { OUTBOUND_HEADERS } from '../lambda/delivery/contract';
import { verifyWebhook } from '../lambda/signatures';
import { parse, port, UsageError } from './args';
import { DEFAULT_CONFIG } from './cli';

/**
 * `npm run receive`: a local receiver for hookgate's `http` destinations. It verifies each
 * request's Standard Webhooks signature with the reference library (`standardwebhooks`), prints
 * one line per event, and answers 204 (verified) or 401, or whatever `--status` forces, to try
 * retries. The way to see the whole loop locally, and to check a team's own receiver against.
 */

/** One request the receiver got. */
export interface ReceivedEvent {
  readonly id?: string;
  readonly source?: string;
  readonly eventType?: string;
  readonly replay?: string;
  readonly verified: boolean;
  /** The status it was answered. */
  readonly status: number;
  readonly body: Buffer;
  /** Request headers, lower-case names (a repeated header keeps its first value). */
  readonly headers: Readonly<Record<string, string>>;
}

/** Options of {@link startReceiver}. */
export interface ReceiverOptions {
  /** The destination's signing secrets (`whsec_...`); a request verifying under any is accepted. */
  readonly secrets: readonly string[];
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Answer this status to every request, verified or not. @default 204 when verified, else 401 */
  readonly status?: number;
  /** Print each body after its line (local bodies only: never in hookgate's own logs). @default false */
  readonly printBody?: boolean;
  /** Requests kept in `events`; older ones are dropped, so a long session does not grow without end. @default 1000 */
  readonly keepEvents?: number;
  /** Where lines go. @default stdout */
  readonly print?: (line: string) => void;
}

/** A running receiver. */
export interface Receiver {
  readonly url: string;
  readonly port: number;
  /** The last requests (`keepEvents`), in arrival order. */
  readonly events: readonly ReceivedEvent[];
  close(): Promise<void>;
}

/**
 * True when the request carries a valid signature under one of the secrets. A UTF-8 body is
 * checked with `standardwebhooks`, which reads the body as a string; other bytes (which that
 * library cannot take byte for byte) with hookgate's own `standard` verifier.
 */
export function verifiedOutbound(secrets: readonly string[], body: Buffer, headers: Readonly<Record<string, string>>): boolean {
  if (!isUtf8(body)) {
    const source = namedSource({ name: 'receiver', provider: 'standard', secrets: [...secrets] });
    return verifyWebhook({ method: 'POST', headers, body, url: '/' }, { source, secrets: { secrets }, now: Date.now() }).kind === 'accepted';
  }
  return secrets.some((secret) => {
    try {
      new Webhook(secret).verify(body, headers, { jsonParse: false });
      return true;
    } catch {
      return false;
    }
  });
}

/** The line printed for one event: verdict, id, hookgate's headers, size and answer. */
export function eventLine(event: ReceivedEvent): string {
  const field = (name: string, value: string | undefined): string => (value === undefined ? '' : ` ${name}=${value}`);
  return (
    `${event.verified ? 'verified' : 'refused'} ${event.id ?? '(no webhook-id)'}` +
    `${field('source', event.source)}${field('type', event.eventType)}${field('replay', event.replay)}` +
    ` ${event.body.length} bytes -> ${event.status}`
  );
}

function bodyText(body: Buffer): string {
  return isUtf8(body) ? body.toString('utf8') : `(base64) ${body.toString('base64')}`;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = first;
  }
  return headers;
}

/** Starts a receiver on 127.0.0.1. */
export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  if (options.secrets.length === 0) throw new UsageError('the receiver needs at least one signing secret');
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const events: ReceivedEvent[] = [];
  const server = createServer((request, response) => {
    readBody(request).then(
      (body) => {
        const headers = headersOf(request);
        const verified = verifiedOutbound(options.secrets, body, headers);
        const status = options.status ?? (verified ? 204 : 401);
        const event: ReceivedEvent = {
          ...(headers['webhook-id'] !== undefined ? { id: headers['webhook-id'] } : {}),
          ...(headers[OUTBOUND_HEADERS.source] !== undefined ? { source: headers[OUTBOUND_HEADERS.source] } : {}),
          ...(headers[OUTBOUND_HEADERS.eventType] !== undefined ? { eventType: headers[OUTBOUND_HEADERS.eventType] } : {}),
          ...(headers[OUTBOUND_HEADERS.replay] !== undefined ? { replay: headers[OUTBOUND_HEADERS.replay] } : {}),
          verified,
          status,
          body,
          headers,
        };
        events.push(event);
        if (events.length > (options.keepEvents ?? 1000)) events.shift();
        print(eventLine(event));
        if (options.printBody === true) print(bodyText(body));
        response.writeHead(status).end();
      },
      () => response.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const listening = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${listening}`,
    port: listening,
    events,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Options of `npm run receive`. */
export interface ReceiveOptions {
  readonly port: number;
  /** `--secret`, repeatable; without it, the secrets of the config's destinations on this port. */
  readonly secrets?: readonly string[];
  readonly config: string;
  readonly status?: number;
  readonly body: boolean;
}

export const DEFAULT_RECEIVE_PORT = 4000;

/** Parses `npm run receive -- [--port N] [--secret whsec_...]... [--config F] [--status N] [--body]`. */
export function parseReceiveArgs(args: readonly string[]): ReceiveOptions {
  const { values } = parse(
    args,
    { port: { type: 'string' }, secret: { type: 'string', multiple: true }, config: { type: 'string' }, status: { type: 'string' }, body: { type: 'boolean' } },
    false,
  );
  const status = values.status as string | undefined;
  if (status !== undefined && !/^[1-5]\d\d$/.test(status)) throw new UsageError(`--status must be an HTTP status from 100 to 599, not ${JSON.stringify(status)}`);
  const secrets = values.secret as string[] | undefined;
  return {
    port: values.port === undefined ? DEFAULT_RECEIVE_PORT : port(values.port as string),
    config: (values.config as string | undefined) ?? DEFAULT_CONFIG,
    body: values.body === true,
    ...(secrets !== undefined ? { secrets } : {}),
    ...(status !== undefined ? { status: Number(status) } : {}),
  };
}

/** True when `url` points at a loopback receiver on `port`. */
function pointsAt(url: string, receiverPort: number): boolean {
  const parsed = new URL(url);
  const host = literalAddress(parsed.hostname) ?? parsed.hostname;
  return ['127.0.0.1', '::1', 'localhost'].includes(host) && Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)) === receiverPort;
}

/** The inline signing secrets of the config's `http` destinations whose URL points at this port, without repeats. */
export function receiverSecrets(config: EnvironmentConfig, receiverPort: number): string[] {
  const secrets = new Set<string>();
  for (const source of namedSources(config)) {
    for (const destination of Object.values(source.destinations ?? {})) {
      if (destination.type === 'http' && pointsAt(destination.url, receiverPort)) destination.secrets?.forEach((secret) => secrets.add(secret));
    }
  }
  return [...secrets];
}
