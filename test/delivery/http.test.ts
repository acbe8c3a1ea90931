import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { gzipSync } from 'node:zlib';
import { Webhook } from 'standardwebhooks';
import { destinationSchema, type DestinationConfigInput } from '../../lambda/config/destinations';
import type { AttemptContext, DeliveryEvent } from '../../lambda/delivery/contract';
import { webhookIdOf } from '../../lambda/delivery/contract';
import { createHttpTarget, type HttpDestination, type HttpTargetOptions, type ResolvedAddress, RESPONSE_BODY_CAP, retryAfterSeconds, verdictOf } from '../../lambda/delivery/http';

const SECRET = 'whsec_aG9va2dhdGUtbG9jYWwtZGV2LXNlY3JldC0zMmJ5dGU=';
const OLD_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const CONTEXT: AttemptContext = { attempt: 1, timeoutMs: 5000 };
/** Short enough to keep the suite fast; the tests that use it wait for a verdict, never time it. */
const SHORT: AttemptContext = { attempt: 1, timeoutMs: 300 };

/** One request a test server got. */
interface Seen {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The TLS server name the client asked for (https only). */
  readonly servername?: string;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A real local server; `handler` answers (200 by default), `seen` records what arrived. */
interface TestServer {
  readonly port: number;
  readonly seen: Seen[];
  handler: Handler;
  close(): Promise<void>;
}

const ok: Handler = (_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
};

async function listen(server: Server): Promise<TestServer> {
  const state: TestServer = {
    port: 0,
    seen: [],
    handler: ok,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const servername = (request.socket as Partial<TLSSocket>).servername;
      state.seen.push({ headers: request.headers, body: Buffer.concat(chunks), ...(typeof servername === 'string' ? { servername } : {}) });
      state.handler(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return Object.assign(state, { port: (server.address() as AddressInfo).port });
}

/** An answer with this status (and headers), after the body was read. */
const answer =
  (status: number, headers: Record<string, string> = {}): Handler =>
  (_request, response) => {
    response.writeHead(status, headers).end();
  };

function httpDestination(url: string, extra: Partial<DestinationConfigInput> = {}): HttpDestination {
  const parsed = destinationSchema.parse({ type: 'http', url, secrets: [SECRET], ...extra });
  if (parsed.type !== 'http') throw new Error('not an http destination');
  return { ...parsed, name: 'billing', source: 'stripe' };
}

function event(overrides: Partial<DeliveryEvent> = {}): DeliveryEvent {
  return {
    source: 'stripe',
    destination: 'billing',
    dedupeKey: 'stripe:evt_1',
    eventId: 'evt_1',
    eventType: 'payment_intent.succeeded',
    typeSigned: true,
    receivedAt: '2026-12-01T12:00:00.000Z',
    body: Buffer.from('{"id":"evt_1","type":"payment_intent.succeeded"}'),
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': 't=1,v1=abc', 'user-agent': 'Stripe/1.0', 'x-request-id': 'req_1' },
    ...overrides,
  };
}

/** A resolver answering from a table, recording every name it was asked. */
function resolver(answers: (hostname: string, call: number) => readonly string[]): { resolve: (hostname: string) => Promise<readonly ResolvedAddress[]>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    resolve: async (hostname) => {
      calls.push(hostname);
      return answers(hostname, calls.length).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
  };
}

let server: TestServer;
let dns: ReturnType<typeof resolver>;

beforeAll(async () => {
  server = await listen(createServer());
});
afterAll(() => server.close());
beforeEach(() => {
  server.seen.length = 0;
  server.handler = ok;
  dns = resolver((hostname) => (hostname === 'receiver.test' ? ['127.0.0.1'] : []));
});

/** A target for the test server, reached by name through the test resolver. */
function target(options: Partial<HttpTargetOptions> & { readonly extra?: Partial<DestinationConfigInput>; readonly path?: string } = {}): ReturnType<typeof createHttpTarget> {
  const { extra, path, ...rest } = options;
  return createHttpTarget({
    destination: httpDestination(`http://receiver.test:${server.port}${path ?? '/hooks?tenant=1'}`, extra),
    signingSecrets: async () => [SECRET],
    resolve: dns.resolve,
    allowHttp: true,
    allowLoopback: true,
    ...rest,
  });
}

/** The seen request's headers as the Record a verifier takes. */
const headersOf = (seen: Seen): Record<string, string> => Object.fromEntries(Object.entries(seen.headers).map(([name, value]) => [name, String(value)]));

describe('signing', () => {
  it('signs so that the standardwebhooks library verifies the request', async () => {
    const result = await target().deliver(event(), CONTEXT);

    expect(result).toMatchObject({ verdict: 'delivered', statusCode: 200 });
    expect(result.errorClass).toBeUndefined();
    const [seen] = server.seen;
    expect(() => new Webhook(SECRET).verify(seen!.body, headersOf(seen!))).not.toThrow();
    expect(() => new Webhook(OTHER_SECRET).verify(seen!.body, headersOf(seen!))).toThrow();
  });

  it('during a rotation signs once per secret, so a receiver holding either verifies', async () => {
    await target({ signingSecrets: async () => [SECRET, OLD_SECRET] }).deliver(event(), CONTEXT);

    const [seen] = server.seen;
    expect(String(seen!.headers['webhook-signature']).split(' ')).toEqual([expect.stringMatching(/^v1,/), expect.stringMatching(/^v1,/)]);
    expect(() => new Webhook(SECRET).verify(seen!.body, headersOf(seen!))).not.toThrow();
    expect(() => new Webhook(OLD_SECRET).verify(seen!.body, headersOf(seen!))).not.toThrow();
    expect(() => new Webhook(OTHER_SECRET).verify(seen!.body, headersOf(seen!))).toThrow();
  });

  it('keeps webhook-id stable across attempts of the same event, and distinct between events', async () => {
    let now = new Date('2026-12-01T12:00:00Z');
    const attempts = target({ now: () => now });

    await attempts.deliver(event(), { attempt: 1, timeoutMs: 5000 });
    now = new Date('2026-12-01T12:05:00Z');
    await attempts.deliver(event(), { attempt: 2, timeoutMs: 5000 });
    await attempts.deliver(event({ dedupeKey: 'stripe:evt_2' }), CONTEXT);

    const [first, second, other] = server.seen;
    expect(first!.headers['webhook-id']).toBe(webhookIdOf('stripe:evt_1'));
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(other!.headers['webhook-id']).toBe(webhookIdOf('stripe:evt_2'));
    expect(other!.headers['webhook-id']).not.toBe(first!.headers['webhook-id']);
    expect([first!.headers['webhook-timestamp'], second!.headers['webhook-timestamp']]).toEqual(['1796126400', '1796126700']);
  });

  it('posts the body byte for byte, non-UTF-8 bytes included, signed over those exact bytes', async () => {
    const body = Buffer.concat([gzipSync('{"id":"evt_1"}'), Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0d, 0x0a])]);

    await target().deliver(event({ body, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }), CONTEXT);

    const [seen] = server.seen;
    expect(seen!.body.equals(body)).toBe(true);
    expect(seen!.headers['content-encoding']).toBe('gzip');
    expect(seen!.headers['content-length']).toBe(String(body.length));
    // The JS reference library reads a body as UTF-8 text, so these bytes are checked by hand, per the spec.
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`${String(seen!.headers['webhook-id'])}.${String(seen!.headers['webhook-timestamp'])}.`).update(body).digest('base64');
    expect(seen!.headers['webhook-signature']).toBe(`v1,${expected}`);
  });
});

describe('headers', () => {
  it("sends the original content type, the signature and hookgate's headers, and none of the provider's", async () => {
    await target().deliver(event(), CONTEXT);

    const [seen] = server.seen;
    expect(seen!.headers).toEqual({
      host: `receiver.test:${server.port}`,
      connection: 'keep-alive',
      'user-agent': 'hookgate',
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(event().body.length),
      'webhook-id': webhookIdOf('stripe:evt_1'),
      'webhook-timestamp': expect.stringMatching(/^\d{10}$/),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
      'hookgate-source': 'stripe',
      'hookgate-event-type': 'payment_intent.succeeded',
    });
    expect(seen!.headers['hookgate-replay']).toBeUndefined();
  });

  it('names a replay, leaves out an unknown event type, and defaults the content type', async () => {
    await target({ userAgent: 'hookgate/test' }).deliver(event({ replayId: 'rpl_7', headers: {}, eventType: undefined }), CONTEXT);

    const [seen] = server.seen;
    expect(seen!.headers).toMatchObject({ 'hookgate-replay': 'rpl_7', 'content-type': 'application/octet-stream', 'user-agent': 'hookgate/test' });
    expect(seen!.headers['hookgate-event-type']).toBeUndefined();
  });
});

describe('what each answer means', () => {
  it.each<[number, string]>([
    [200, 'delivered'],
    [201, 'delivered'],
    [202, 'delivered'],
    [204, 'delivered'],
    [301, 'retry'],
    [302, 'retry'],
    [307, 'retry'],
    [308, 'retry'],
    [400, 'reject'],
    [401, 'reject'],
    [403, 'reject'],
    [404, 'reject'],
    [413, 'reject'],
    [422, 'reject'],
    [408, 'retry'],
    [409, 'retry'],
    [425, 'retry'],
    [429, 'retry'],
    [410, 'gone'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
  ])('%i: %s', async (status, verdict) => {
    server.handler = answer(status, status >= 300 && status < 400 ? { location: '/elsewhere' } : {});

    const result = await target().deliver(event(), CONTEXT);

    expect(result).toMatchObject({ verdict, statusCode: status });
    expect(result.errorClass).toBe(verdict === 'delivered' ? undefined : `http-${status}`);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(verdictOf(status)).toBe(verdict);
  });

  it('a 500 is retried and the next attempt can succeed', async () => {
    const attempts = target();
    server.handler = answer(500);
    const failed = await attempts.deliver(event(), { attempt: 1, timeoutMs: 5000 });
    server.handler = ok;
    const delivered = await attempts.deliver(event(), { attempt: 2, timeoutMs: 5000 });

    expect([failed.verdict, delivered.verdict]).toEqual(['retry', 'delivered']);
    expect(server.seen.map((s) => s.headers['webhook-id'])).toEqual([webhookIdOf('stripe:evt_1'), webhookIdOf('stripe:evt_1')]);
  });
});

describe('Retry-After', () => {
  const now = new Date('2026-12-01T12:00:00Z');

  it('429 with delta-seconds', async () => {
    server.handler = answer(429, { 'retry-after': '120' });
    expect(await target({ now: () => now }).deliver(event(), CONTEXT)).toMatchObject({ verdict: 'retry', statusCode: 429, errorClass: 'http-429', retryAfterSeconds: 120 });
  });

  it('503 with an HTTP date', async () => {
    server.handler = answer(503, { 'retry-after': new Date(now.getTime() + 90_000).toUTCString() });
    expect(await target({ now: () => now }).deliver(event(), CONTEXT)).toMatchObject({ verdict: 'retry', statusCode: 503, retryAfterSeconds: 90 });
  });

  it('is ignored on other answers and when unreadable', async () => {
    server.handler = answer(500, { 'retry-after': '120' });
    expect((await target({ now: () => now }).deliver(event(), CONTEXT)).retryAfterSeconds).toBeUndefined();
    server.handler = answer(429, { 'retry-after': 'soon' });
    expect((await target({ now: () => now }).deliver(event(), CONTEXT)).retryAfterSeconds).toBeUndefined();
    server.handler = answer(429);
    expect((await target({ now: () => now }).deliver(event(), CONTEXT)).retryAfterSeconds).toBeUndefined();
  });

  it.each<[string | undefined, number | undefined]>([
    ['0', 0],
    [' 30 ', 30],
    ['Tue, 01 Dec 2026 12:01:00 GMT', 60],
    ['Tuesday, 01-Dec-26 12:00:10 GMT', 10],
    ['Tue, 01 Dec 2026 11:00:00 GMT', 0],
    ['Tue, 01 Dec 2026 12:00:00.5 GMT', 1],
    ['5.5', undefined],
    ['-3', undefined],
    ['2026-12-01T12:01:00Z', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('reads %j as %j seconds', (value, seconds) => {
    expect(retryAfterSeconds(value, now)).toBe(seconds);
  });
});

describe('redirects are never followed', () => {
  it('a redirect to the metadata service is a failed attempt, and nothing else is resolved or requested', async () => {
    server.handler = answer(302, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' });

    const result = await target().deliver(event(), CONTEXT);

    expect(result).toMatchObject({ verdict: 'retry', statusCode: 302, errorClass: 'http-302' });
    expect(server.seen).toHaveLength(1);
    expect(dns.calls).toEqual(['receiver.test']);
  });

  it('a server the redirect points at never sees a request', async () => {
    const elsewhere = await listen(createServer());
    try {
      server.handler = answer(307, { location: `http://127.0.0.1:${elsewhere.port}/latest/meta-data/` });
      const result = await target().deliver(event(), CONTEXT);

      expect(result).toMatchObject({ verdict: 'retry', errorClass: 'http-307' });
      expect(elsewhere.seen).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('timeouts', () => {
  it('a receiver that never answers is retried as a timeout', async () => {
    server.handler = () => undefined;

    const result = await target().deliver(event(), SHORT);

    expect(result).toMatchObject({ verdict: 'retry', errorClass: 'timeout' });
    expect(result.statusCode).toBeUndefined();
  });

  it('a body that never ends is a timeout, even after a 200', async () => {
    server.handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('still going');
    };

    expect(await target().deliver(event(), SHORT)).toMatchObject({ verdict: 'retry', errorClass: 'timeout' });
  });

  it('a resolver that never answers is a timeout', async () => {
    const result = await target({ resolve: () => new Promise<never>(() => undefined) }).deliver(event(), SHORT);

    expect(result).toMatchObject({ verdict: 'retry', errorClass: 'timeout' });
    expect(server.seen).toHaveLength(0);
  });
});

describe('the response body', () => {
  it('is read up to the cap only: an endless body still ends the attempt, and the connection is dropped', async () => {
    let closed!: Promise<void>;
    server.handler = (_request, response) => {
      closed = new Promise((resolve) => response.on('close', () => resolve()));
      response.writeHead(200);
      response.write(Buffer.alloc(RESPONSE_BODY_CAP * 4, 'x'));
    };

    // With no cap this attempt would wait for the end of the body and time out.
    const result = await target().deliver(event(), { attempt: 1, timeoutMs: 10_000 });

    expect(result).toMatchObject({ verdict: 'delivered', statusCode: 200 });
    await closed;
  });

  it('is never part of the result', async () => {
    server.handler = (_request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"patient 12345 unknown"}');
    };

    const result = await target().deliver(event(), CONTEXT);

    expect(result).toMatchObject({ verdict: 'reject', statusCode: 400 });
    expect(JSON.stringify(result)).not.toContain('12345');
  });
});

describe('the SSRF guard', () => {
  it('refuses a host that resolves to a public address first and a private one second, without connecting', async () => {
    dns = resolver(() => ['93.184.216.34', '10.0.0.5']);
    expect(await target().deliver(event(), CONTEXT)).toMatchObject({ verdict: 'refused-address', errorClass: 'private' });

    dns = resolver(() => ['127.0.0.1', '10.0.0.5']);
    const result = await target().deliver(event(), CONTEXT);

    expect(result).toMatchObject({ verdict: 'refused-address', errorClass: 'private' });
    expect(result.statusCode).toBeUndefined();
    expect(server.seen).toHaveLength(0);
  });

  it('refuses a host with the metadata address among its answers, whatever the destination allows', async () => {
    for (const metadata of ['169.254.169.254', 'fd00:ec2::254', '::ffff:169.254.169.254']) {
      dns = resolver(() => ['127.0.0.1', metadata]);
      expect(await target({ extra: { allowPrivateNetwork: true } }).deliver(event(), CONTEXT)).toMatchObject({ verdict: 'refused-address', errorClass: 'metadata' });
    }
    expect(server.seen).toHaveLength(0);
  });

  it('connects to a private address only with allowPrivateNetwork, and then to the first checked address', async () => {
    dns = resolver(() => ['127.0.0.1', '10.0.0.5']);

    expect(await target({ extra: { allowPrivateNetwork: true } }).deliver(event(), CONTEXT)).toMatchObject({ verdict: 'delivered' });
    expect(server.seen).toHaveLength(1);
  });

  it('refuses loopback outside local mode', async () => {
    expect(await target({ allowLoopback: false }).deliver(event(), CONTEXT)).toMatchObject({ verdict: 'refused-address', errorClass: 'loopback' });
    expect(server.seen).toHaveLength(0);
  });

  it('resolves once per attempt and connects to the address it checked, never to a second answer', async () => {
    // A rebinding name: safe when checked, the metadata service on every later lookup.
    dns = resolver((_hostname, call) => (call === 1 ? ['127.0.0.1'] : ['169.254.169.254']));
    const attempts = target();

    const first = await attempts.deliver(event(), { attempt: 1, timeoutMs: 5000 });

    // receiver.test exists only in the test resolver: the connection used the checked address.
    expect(first).toMatchObject({ verdict: 'delivered' });
    expect(dns.calls).toEqual(['receiver.test']);
    expect(server.seen[0]!.headers.host).toBe(`receiver.test:${server.port}`);

    const second = await attempts.deliver(event(), { attempt: 2, timeoutMs: 5000 });

    expect(second).toMatchObject({ verdict: 'refused-address', errorClass: 'metadata' });
    expect(dns.calls).toEqual(['receiver.test', 'receiver.test']);
    expect(server.seen).toHaveLength(1);
  });

  it('checks a literal address host the same way, without resolving it', async () => {
    // The URL is set after the schema, which refuses a literal metadata address at load already.
    const literal = (url: string, allowLoopback: boolean) =>
      createHttpTarget({ destination: { ...httpDestination('http://receiver.test/'), url }, signingSecrets: async () => [SECRET], resolve: dns.resolve, allowHttp: true, allowLoopback });

    expect(await literal(`http://127.0.0.1:${server.port}/hooks`, true).deliver(event(), CONTEXT)).toMatchObject({ verdict: 'delivered' });
    expect(await literal(`http://127.0.0.1:${server.port}/hooks`, false).deliver(event(), CONTEXT)).toMatchObject({ verdict: 'refused-address', errorClass: 'loopback' });
    expect(await literal('http://[::ffff:a9fe:a9fe]/latest/meta-data/', true).deliver(event(), CONTEXT)).toMatchObject({ verdict: 'refused-address', errorClass: 'metadata' });
    expect(dns.calls).toEqual([]);
    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]!.headers.host).toBe(`127.0.0.1:${server.port}`);
  });

  it('refuses an answer that is not an address', async () => {
    dns = resolver(() => ['receiver.test']);
    expect(await target().deliver(event(), CONTEXT)).toMatchObject({ verdict: 'refused-address', errorClass: 'invalid' });
  });
});

describe('network errors are retried with their code', () => {
  it('connection refused', async () => {
    const closed = await listen(createServer());
    await closed.close();
    const result = await createHttpTarget({
      destination: httpDestination(`http://receiver.test:${closed.port}/`),
      signingSecrets: async () => [SECRET],
      resolve: dns.resolve,
      allowHttp: true,
      allowLoopback: true,
    }).deliver(event(), CONTEXT);

    expect(result).toMatchObject({ verdict: 'retry', errorClass: 'ECONNREFUSED' });
  });

  it('a connection dropped before the answer', async () => {
    server.handler = (request) => request.socket.destroy();
    expect(await target().deliver(event(), CONTEXT)).toMatchObject({ verdict: 'retry', errorClass: 'ECONNRESET' });
  });

  it('a name that does not resolve', async () => {
    const failing = async (): Promise<never> => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND receiver.test'), { code: 'ENOTFOUND' }));
    expect(await target({ resolve: failing }).deliver(event(), CONTEXT)).toMatchObject({ verdict: 'retry', errorClass: 'ENOTFOUND' });
    dns = resolver(() => []);
    expect(await target().deliver(event(), CONTEXT)).toMatchObject({ verdict: 'retry', errorClass: 'ENOTFOUND' });
  });

  it('the system resolver by default', async () => {
    const result = await createHttpTarget({
      destination: httpDestination('https://receiver.invalid/hooks'),
      signingSecrets: async () => [SECRET],
    }).deliver(event(), CONTEXT);

    expect(result.verdict).toBe('retry');
    expect(result.errorClass).toMatch(/^(ENOTFOUND|EAI_AGAIN|timeout)$/);
  });
});

describe('configuration', () => {
  it('requires https unless plain http is allowed (local mode)', () => {
    expect(() => createHttpTarget({ destination: httpDestination('http://receiver.test/hooks'), signingSecrets: async () => [SECRET] })).toThrow(
      'destination stripe.billing: the url must use https (http only in local mode)',
    );
  });

  it('sends nothing when the signing secrets cannot be loaded', async () => {
    const failing = target({ signingSecrets: async () => Promise.reject(new Error('secrets unavailable')) });

    await expect(failing.deliver(event(), CONTEXT)).rejects.toThrow('secrets unavailable');
    expect(server.seen).toHaveLength(0);
    expect(dns.calls).toEqual([]);
  });
});

describe('https', () => {
  let tls: TestServer;
  let ca: Buffer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookgate-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=receiver.test', '-addext', 'subjectAltName=DNS:receiver.test',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' }); // prettier-ignore
    ca = readFileSync(join(dir, 'cert.pem'));
    tls = await listen(createTlsServer({ key: readFileSync(join(dir, 'key.pem')), cert: ca }));
  });
  afterAll(async () => {
    await tls.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    tls.seen.length = 0;
    dns = resolver((hostname) => (hostname.endsWith('.test') ? ['127.0.0.1'] : []));
  });

  const secureTarget = (host: string, options: Partial<HttpTargetOptions> = {}) =>
    createHttpTarget({ destination: httpDestination(`https://${host}:${tls.port}/hooks`), signingSecrets: async () => [SECRET], resolve: dns.resolve, allowLoopback: true, ca, ...options });

  it('connects to the checked address while TLS (SNI, certificate) and Host name the URL host', async () => {
    const result = await secureTarget('receiver.test').deliver(event(), CONTEXT);

    expect(result).toMatchObject({ verdict: 'delivered', statusCode: 200 });
    const [seen] = tls.seen;
    expect(seen!.servername).toBe('receiver.test');
    expect(seen!.headers.host).toBe(`receiver.test:${tls.port}`);
    expect(dns.calls).toEqual(['receiver.test']);
    expect(() => new Webhook(SECRET).verify(seen!.body, headersOf(seen!))).not.toThrow();
  });

  it('checks the certificate against the name, not the address', async () => {
    const result = await secureTarget('other.test').deliver(event(), CONTEXT);

    expect(result).toMatchObject({ verdict: 'retry', errorClass: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(tls.seen).toHaveLength(0);
  });

  it('trusts only the configured authorities', async () => {
    const result = await secureTarget('receiver.test', { ca: undefined }).deliver(event(), CONTEXT);

    expect(result.verdict).toBe('retry');
    expect(result.errorClass).toMatch(/SELF_SIGNED/);
    expect(tls.seen).toHaveLength(0);
  });
});
