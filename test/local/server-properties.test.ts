import { connect } from 'node:net';
import fc from 'fast-check';
import type { NamedSource, SourceSecrets } from '../../lambda/config/schema';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { type LocalStack, startLocalStack } from '../../local/emulators';
import { createLocalKms, localKeyring } from '../../local/kms';
import { type LocalServer, type ProxyHandler, startServer } from '../../local/server';
import { createLocalVerifier } from '../../local/verifier';
import { testSource } from '../config/sources';
import { telemetry } from '../verifier/harness';

/**
 * Bad input is a 4xx, never a 5xx: random request targets, query strings and headers go over
 * real sockets to the local server, in front of the real verifiers of several providers.
 */

const SOURCES: readonly { readonly source: NamedSource; readonly secrets: SourceSecrets }[] = [
  { source: testSource({ name: 'orders', provider: 'token', header: 'x-webhook-token' }), secrets: { secrets: ['tok-1'] } },
  { source: testSource({ name: 'by-query', provider: 'token', query: 'token' }), secrets: { secrets: ['tok-2'] } },
  { source: testSource({ name: 'twilio', provider: 'twilio' }), secrets: { secrets: ['auth-token'] } },
  { source: testSource({ name: 'whatsapp', provider: 'meta' }), secrets: { secrets: ['app-secret'], verifyToken: 'vt' } },
  { source: testSource({ name: 'svix', provider: 'standard' }), secrets: { secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] } },
];

let stack: LocalStack;
let server: LocalServer;
const closers: (() => void)[] = [];
const serverErrors: string[] = [];
const handlerErrors: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ sources: SOURCES.map(({ source }) => source) });
  const envelope = createEnvelope(localKeyring(createLocalKms()));
  const verifiers = new Map<string, ProxyHandler>();
  for (const { source, secrets } of SOURCES) {
    const verifier = createLocalVerifier({ source, secrets, endpoints: stack.endpoints, resources: stack.resources, envelope, dedupeTtlDays: 7, ...telemetry(source.name, { quiet: true }) });
    closers.push(() => verifier.close());
    verifiers.set(source.name, verifier);
  }
  server = await startServer({
    port: 0,
    verifiers,
    onServerError: (name) => serverErrors.push(name),
    onHandlerError: (_source, name) => handlerErrors.push(name),
  });
}, 30_000);

afterAll(async () => {
  await server.close();
  for (const close of closers) close();
  await stack.stop();
});

/** Sends one raw HTTP/1.1 request and reads the status code of the answer (0 when there is none). */
function sendRaw(request: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'))?.[1] ?? 0)));
  });
}

/** Pieces that parsers and records trip on: escapes, broken UTF-8, prototype names, separators. */
const TRICKY = [
  '%', '%2', '%25', '%E0%A4%A', '%C3%A9', '%FF', '%00', '%2F', '+', '&', '=', '?', ';', ',', ':', '@', '/', '.', '..', "'", '!', '$', '(', ')', '*', '~',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'hub.mode', 'hub.challenge', 'hub.verify_token', 'token', 'bodySHA256',
  'a', 'B', '0', '9', '-', '_', 'é', '[', ']', '<', '>', '"', '\\', '^', '`', '{', '|', '}',
];
const piece = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.~%'.split('')), maxLength: 6 }));
const text = fc.array(piece, { maxLength: 6 }).map((parts) => parts.join(''));

const source = fc.constantFrom(...SOURCES.map((s) => s.source.name), 'nope', '');
const path = fc.oneof(
  fc.tuple(source, fc.constantFrom('', '/')).map(([name, slash]) => `/webhooks/${name}${slash}`),
  text.map((t) => `/webhooks/${t}`),
  text.map((t) => `/${t}`),
  fc.tuple(fc.constantFrom('[bad', '[::1]', 'hooks.example.com', '127.0.0.1:99999', '%', 'a@b', ''), source).map(([host, name]) => `http://${host}/webhooks/${name}`),
  text.map((t) => `//${t}/webhooks/orders`),
);
const query = fc.array(fc.tuple(text, text), { maxLength: 5 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
const target = fc.tuple(path, fc.option(query, { nil: undefined })).map(([p, q]) => (q === undefined ? p : `${p}?${q}`));

const headerName = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'X-Twilio-Signature', 'X-Hub-Signature-256', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-webhook-token', 'Host', 'X-Forwarded-Proto', 'Content-Type'),
  fc.string({ unit: fc.constantFrom(..."abcXYZ019!#$%&'*+-.^_`|~".split('')), minLength: 1, maxLength: 12 }),
);
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const headers = fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 });

const request = fc.record({
  method: fc.constantFrom('POST', 'GET', 'PUT'),
  target,
  headers,
  body: fc.uint8Array({ maxLength: 64 }),
});

describe('local API server under random input', () => {
  it('never answers a 5xx to random paths, query strings and headers, and never fails silently', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ method, target: t, headers: hs, body }) => {
        const lines = [`${method} ${t} HTTP/1.1`, 'Host: 127.0.0.1', ...hs.map(([n, v]) => `${n}: ${v}`), `Content-Length: ${body.length}`, 'Connection: close'];
        const status = await sendRaw(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body)]));

        expect(status).toBeGreaterThanOrEqual(200);
        expect(status).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );

    expect(serverErrors).toEqual([]);
    expect(handlerErrors).toEqual([]);
  }, 60_000);
});
