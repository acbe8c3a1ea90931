import { lookup } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { NamedDestination } from '../config/destinations';
import { type AddressPolicy, type AddressRefusal, addressRefusal, literalAddress } from './addresses';
import { type AttemptContext, type AttemptResult, type DeliveryEvent, OUTBOUND_HEADERS, type Target, type Verdict, webhookIdOf } from './contract';
import { signStandardWebhook, type StandardWebhookHeaders } from './signing';
import type { SigningSecrets } from './signing-secrets';

/**
 * The `http` destination: one signed POST of the event's exact body to the configured URL,
 * behind the SSRF guard. The host is resolved once per attempt, every address it resolved to is
 * checked (lambda/delivery/addresses.ts), and the connection goes to a checked address: a DNS
 * answer that changes between the check and the connection (rebinding) is never used.
 */

/** One address a host name resolved to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has (the attempt checks them all). */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** An `http` destination as its delivery function sees it. */
export type HttpDestination = NamedDestination & { readonly type: 'http' };

/** Options of {@link createHttpTarget}. */
export interface HttpTargetOptions {
  readonly destination: HttpDestination;
  /** The destination's signing secrets, new first (lambda/delivery/signing-secrets.ts). */
  readonly signingSecrets: SigningSecrets;
  /** @default the system resolver (dns.promises.lookup, every address, in its order) */
  readonly resolve?: Resolver;
  /** Local mode only (never set by the stack): loopback addresses, for a receiver on 127.0.0.1. @default false */
  readonly allowLoopback?: boolean;
  /** Local mode and tests only (never set by the stack): plain http URLs. @default false */
  readonly allowHttp?: boolean;
  /** Trusted certificate authorities for https (tests). @default Node's bundled CAs */
  readonly ca?: string | Buffer;
  /** The signing time (`webhook-timestamp`) and the clock `Retry-After` dates are read against. @default () => new Date() */
  readonly now?: () => Date;
  /** @default 'hookgate' */
  readonly userAgent?: string;
}

/** Bytes of a response body read at most; the rest is never read. The body is never logged or returned. */
export const RESPONSE_BODY_CAP = 4096;

/** 4xx answers that mean "not now" rather than "never": retried like a 5xx. */
const RETRYABLE_4XX: ReadonlySet<number> = new Set([408, 409, 425, 429]);

/** Answers whose `Retry-After` is honoured. */
const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** Idle keep-alive sockets are closed before the usual 5 s server keep-alive timeout closes them under a request. */
const IDLE_SOCKET_MS = 4000;

/** What an answer means for the event (redirects are never followed: a 3xx is retried). */
export function verdictOf(statusCode: number): Verdict {
  if (statusCode >= 200 && statusCode <= 299) return 'delivered';
  if (statusCode === 410) return 'gone';
  if (statusCode >= 400 && statusCode <= 499 && !RETRYABLE_4XX.has(statusCode)) return 'reject';
  return 'retry';
}

/**
 * Seconds a `Retry-After` value asks to wait: delta-seconds, or an HTTP-date read against `now`
 * (0 when it is past); undefined when absent or unreadable.
 */
export function retryAfterSeconds(value: string | undefined, now: Date): number | undefined {
  const text = value?.trim();
  if (text === undefined || text.length === 0) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  // An HTTP-date (IMF-fixdate or the obsolete RFC 850 form) ends in GMT; Date.parse alone reads "5.5" as a date.
  const at = /^[A-Za-z]{3,9}, .+ GMT$/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/** The system resolver: every address, in the order the system gives them. */
const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

/** The attempt's timeout fired (connect, headers or body). */
class AttemptTimeout extends Error {
  constructor() {
    super('the attempt timed out');
    this.name = 'AttemptTimeout';
  }
}

/** A short error class: `timeout`, or the Node error code (`ECONNREFUSED`, `ENOTFOUND`, `ERR_TLS_CERT_ALTNAME_INVALID`...). */
function errorClassOf(err: unknown): string {
  if (err instanceof AttemptTimeout) return 'timeout';
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code) ? code : 'network';
}

/** `work`, or an AttemptTimeout as soon as `signal` aborts. */
function beforeTimeout<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AttemptTimeout());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The first refusal among the addresses (every one is checked), or undefined when all may be connected to. */
function refusalOf(addresses: readonly ResolvedAddress[], policy: AddressPolicy): AddressRefusal | undefined {
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, policy);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

/** What an answer says, once its body has been read up to the cap. */
interface Answer {
  readonly statusCode: number;
  readonly retryAfter?: string;
}

/**
 * Sends one request and reads its answer: the status, `Retry-After`, and at most
 * RESPONSE_BODY_CAP bytes of the body, which are dropped. The signal aborting destroys the
 * request wherever it is (connecting, waiting for headers, reading the body).
 */
function send(secure: boolean, options: RequestOptions, body: Buffer, signal: AbortSignal): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const request = (secure ? httpsRequest : httpRequest)(options);
    let response: IncomingMessage | undefined;
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = (): void => {
      settle(() => reject(new AttemptTimeout()));
      response?.destroy();
      request.destroy();
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (err) => settle(() => reject(err)));
    request.on('response', (res) => {
      response = res;
      const retryAfter = res.headers['retry-after'];
      const answer: Answer = { statusCode: res.statusCode ?? 0, ...(retryAfter !== undefined ? { retryAfter } : {}) };
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read < RESPONSE_BODY_CAP) return;
        settle(() => resolve(answer));
        res.destroy();
      });
      res.on('end', () => settle(() => resolve(answer)));
      res.on('error', (err) => settle(() => reject(err)));
    });
    request.end(body);
  });
}

/** The request headers: the body's own content type and encoding, the signature, hookgate's; nothing else of the provider's. */
function outboundHeaders(event: DeliveryEvent, signature: StandardWebhookHeaders, host: string, userAgent: string): OutgoingHttpHeaders {
  const encoding = event.headers['content-encoding'];
  return {
    host,
    'user-agent': userAgent,
    'content-type': event.headers['content-type'] ?? 'application/octet-stream',
    ...(encoding !== undefined ? { 'content-encoding': encoding } : {}),
    'content-length': event.body.length,
    ...signature,
    [OUTBOUND_HEADERS.source]: event.source,
    ...(event.eventType !== undefined ? { [OUTBOUND_HEADERS.eventType]: event.eventType } : {}),
    ...(event.replayId !== undefined ? { [OUTBOUND_HEADERS.replay]: event.replayId } : {}),
  };
}

/**
 * The `http` target. Each attempt: resolves the URL's host once (a literal address is not
 * resolved), checks every address (any refused → `refused-address`, errorClass the refusal, no
 * connection made), connects to the first checked address with the URL's host name for TLS (SNI
 * and certificate) and the Host header, POSTs the body byte for byte, signed, and classifies the
 * answer (verdictOf). Redirects are never followed. `context.timeoutMs` bounds the whole attempt:
 * resolution, connection, headers and body (`timeout`). Network errors retry with their code.
 *
 * Throws only when the signing secrets cannot be loaded (SecretsError, SecretConfigurationError):
 * nothing was sent, and the engine leaves the event in its queue.
 *
 * @throws Error at creation when the URL is not https (http needs `allowHttp`)
 */
export function createHttpTarget(options: HttpTargetOptions): Target {
  const { destination } = options;
  const url = new URL(destination.url);
  const secure = url.protocol === 'https:';
  if (!secure && !(url.protocol === 'http:' && options.allowHttp === true)) {
    throw new Error(`destination ${destination.source}.${destination.name}: the url must use https (http only in local mode)`);
  }
  const literal = literalAddress(url.hostname);
  const hostname = literal ?? url.hostname;
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const policy: AddressPolicy = { allowPrivateNetwork: destination.allowPrivateNetwork, allowLoopback: options.allowLoopback === true };
  const resolve = options.resolve ?? systemResolver;
  const now = options.now ?? (() => new Date());
  const userAgent = options.userAgent ?? 'hookgate';
  // Sockets are pooled by address (the agent's key holds the connected host, here the checked address).
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS, ...(options.ca !== undefined ? { ca: options.ca } : {}) })
    : new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  const addressesOf = async (): Promise<readonly ResolvedAddress[]> =>
    literal !== undefined ? [{ address: literal, family: literal.includes(':') ? 6 : 4 }] : resolve(hostname);

  return {
    async deliver(event: DeliveryEvent, context: AttemptContext): Promise<AttemptResult> {
      const secrets = await options.signingSecrets();
      const signature = signStandardWebhook(secrets, webhookIdOf(event.dedupeKey), now().getTime() / 1000, event.body);
      const started = performance.now();
      const latencyMs = (): number => Math.round(performance.now() - started);
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), context.timeoutMs);
      try {
        const addresses = await beforeTimeout(addressesOf(), deadline.signal);
        const first = addresses[0];
        if (first === undefined) return { verdict: 'retry', errorClass: 'ENOTFOUND', latencyMs: latencyMs() };
        const refusal = refusalOf(addresses, policy);
        if (refusal !== undefined) return { verdict: 'refused-address', errorClass: refusal, latencyMs: latencyMs() };
        const answer = await send(
          secure,
          {
            method: 'POST',
            // The checked address itself: nothing is resolved again between the check and the connection.
            host: first.address,
            family: first.family,
            port,
            path: `${url.pathname}${url.search}`,
            headers: outboundHeaders(event, signature, url.host, userAgent),
            agent,
            // TLS checks the certificate against the name (an IP literal has no SNI and is checked as an address).
            ...(secure && literal === undefined ? { servername: hostname } : {}),
          },
          event.body,
          deadline.signal,
        );
        const verdict = verdictOf(answer.statusCode);
        const wait = RETRY_AFTER_STATUSES.has(answer.statusCode) ? retryAfterSeconds(answer.retryAfter, now()) : undefined;
        return {
          verdict,
          statusCode: answer.statusCode,
          ...(verdict !== 'delivered' ? { errorClass: `http-${answer.statusCode}` } : {}),
          latencyMs: latencyMs(),
          ...(wait !== undefined ? { retryAfterSeconds: wait } : {}),
        };
      } catch (err) {
        return { verdict: 'retry', errorClass: errorClassOf(err), latencyMs: latencyMs() };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
