import { request } from 'node:http';
import { connect } from 'node:net';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { API_GATEWAY_MAX_BODY_BYTES, type LocalServer, type ProxyHandler, startServer } from '../../local/server';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http keeps header names in the case given, which fetch does not. */
function send(port: number, method: string, path: string, headers: Record<string, string | string[]>, body?: Buffer, chunked = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body !== undefined && chunked) {
      // Several writes without Content-Length: the server must count, not trust a header.
      const step = 1024 * 1024;
      for (let at = 0; at < body.length; at += step) req.write(body.subarray(at, at + step));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** Sends `head` (request line and headers, CRLF-separated, no final blank line) and an empty body over a raw socket. */
function sendRaw(port: number, head: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`${head}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

describe('local API server', () => {
  const calls: { event: APIGatewayProxyEvent; context: Context; remainingAtStart: number }[] = [];
  const verifier: ProxyHandler = async (event, context) => {
    calls.push({ event, context, remainingAtStart: context.getRemainingTimeInMillis() });
    return { statusCode: 202, headers: { 'X-Answer': 'yes' }, body: JSON.stringify({ id: 'orders:1', status: 'accepted' }) };
  };
  const failing: ProxyHandler = async () => {
    throw new Error('bug with payload inside');
  };
  let server: LocalServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, functionTimeoutMs: 5000, verifiers: new Map([['orders', verifier], ['broken', failing]]) });
  });
  afterAll(() => server.close());
  beforeEach(() => void (calls.length = 0));

  it('builds a REST proxy event with the sender header case, a base64 body and decoded query parameters', async () => {
    const body = Buffer.from([0x7b, 0x22, 0xe9, 0x00, 0xff, 0x7d]);

    const reply = await send(server.port, 'POST', '/webhooks/orders?a=1&a=2&b=x%20y', { 'X-Webhook-Token': 't0k', 'X-Multi': ['one', 'two'], 'Content-Type': 'application/json' }, body);

    expect(reply.status).toBe(202);
    expect(calls).toHaveLength(1);
    const { event } = calls[0]!;
    expect(event.resource).toBe('/webhooks/{source}');
    expect(event.path).toBe('/webhooks/orders');
    expect(event.httpMethod).toBe('POST');
    expect(event.pathParameters).toEqual({ source: 'orders' });
    expect(event.headers['X-Webhook-Token']).toBe('t0k');
    expect(event.headers['x-webhook-token']).toBeUndefined();
    expect(event.headers['X-Multi']).toBe('one,two');
    expect(event.multiValueHeaders['X-Multi']).toEqual(['one', 'two']);
    expect(event.headers['X-Forwarded-Proto']).toBe('http');
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').equals(body)).toBe(true);
    expect(event.queryStringParameters).toEqual({ a: '2', b: 'x y' });
    expect(event.multiValueQueryStringParameters).toEqual({ a: ['1', '2'], b: ['x y'] });
    expect(event.requestContext).toMatchObject({ stage: 'local', path: '/local/webhooks/orders', resourcePath: '/webhooks/{source}', domainName: '127.0.0.1', identity: { sourceIp: '127.0.0.1' } });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(event.requestContext.requestTimeEpoch - Date.now())).toBeLessThan(5000);
  });

  it('passes no body as null and no query as null, as API Gateway does for a GET', async () => {
    await send(server.port, 'GET', '/webhooks/orders', {});

    const { event } = calls[0]!;
    expect(event.body).toBeNull();
    expect(event.isBase64Encoded).toBe(false);
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
  });

  it('gives the function a context that counts down from its timeout', async () => {
    await send(server.port, 'POST', '/webhooks/orders', {}, Buffer.from('{}'));
    const { context, remainingAtStart } = calls[0]!;
    await new Promise((r) => setTimeout(r, 50));

    expect(remainingAtStart).toBeLessThanOrEqual(5000);
    expect(remainingAtStart).toBeGreaterThan(4000);
    expect(context.getRemainingTimeInMillis()).toBeLessThan(remainingAtStart);
  });

  it('answers with the function result: status, headers and body', async () => {
    const reply = await send(server.port, 'POST', '/webhooks/orders', {}, Buffer.from('{}'));

    expect(reply.status).toBe(202);
    expect(reply.headers['x-answer']).toBe('yes');
    expect(JSON.parse(reply.body)).toEqual({ id: 'orders:1', status: 'accepted' });
  });

  it('answers 404 unknown_source for a source not in the config, whatever the request carries', async () => {
    const reply = await send(server.port, 'POST', '/webhooks/nope', { 'X-Webhook-Token': 'anything' }, Buffer.from('{}'));

    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.body)).toEqual({ error: 'unknown_source' });
    expect(calls).toHaveLength(0);
  });

  it('answers 404 for paths outside /webhooks/{source}', async () => {
    const replies = await Promise.all(['/', '/webhooks', '/webhooks/orders/extra', '/other/orders'].map((p) => send(server.port, 'POST', p, {})));

    expect(replies.map((r) => r.status)).toEqual([404, 404, 404, 404]);
    expect(calls).toHaveLength(0);
  });

  it.each([
    ['a lone percent sign', 'POST /webhooks/% HTTP/1.1'],
    ['a truncated UTF-8 escape', 'POST /webhooks/%E0%A4%A HTTP/1.1'],
    ['an absolute-form target with a bad host', 'POST http://[bad/webhooks/orders HTTP/1.1'],
  ])('answers 400 bad_request to a path with %s, without calling the function', async (_label, requestLine) => {
    const reply = await sendRaw(server.port, `${requestLine}\r\nHost: 127.0.0.1`);

    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({ error: 'bad_request' });
    expect(calls).toHaveLength(0);
  });

  it('routes an absolute-form target with a good host by its path', async () => {
    const reply = await sendRaw(server.port, 'POST http://hooks.example.com/webhooks/orders?a=1 HTTP/1.1\r\nHost: hooks.example.com');

    expect(reply.status).toBe(202);
    expect(calls[0]?.event.multiValueQueryStringParameters).toEqual({ a: ['1'] });
  });

  it('passes a header named __proto__ and query names __proto__ and constructor as ordinary names', async () => {
    const reply = await sendRaw(server.port, 'POST /webhooks/orders?__proto__=x&constructor=y&constructor=z HTTP/1.1\r\nHost: 127.0.0.1\r\n__proto__: polluted');

    expect(reply.status).toBe(202);
    const { event } = calls[0]!;
    expect(Object.entries(event.headers)).toContainEqual(['__proto__', 'polluted']);
    expect(Object.entries(event.multiValueHeaders)).toContainEqual(['__proto__', ['polluted']]);
    expect(Object.entries(event.queryStringParameters ?? {})).toEqual([['__proto__', 'x'], ['constructor', 'z']]);
    expect(Object.entries(event.multiValueQueryStringParameters ?? {})).toEqual([['__proto__', ['x']], ['constructor', ['y', 'z']]]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('tells onServerError the name of an error the server itself failed on, and answers 500 without details', async () => {
    const failures: string[] = [];
    const verifiers = new Map<string, ProxyHandler>();
    verifiers.get = () => {
      throw Object.assign(new Error('lookup failed with payload'), { name: 'LookupBroken' });
    };
    const broken = await startServer({ port: 0, verifiers, onServerError: (name) => failures.push(name) });

    try {
      const reply = await send(broken.port, 'POST', '/webhooks/orders', {}, Buffer.from('{}'));

      expect(reply.status).toBe(500);
      expect(reply.body).not.toContain('payload');
      expect(failures).toEqual(['LookupBroken']);
    } finally {
      await broken.close();
    }
  });

  it('answers 405 for a method other than GET and POST', async () => {
    const reply = await send(server.port, 'PUT', '/webhooks/orders', {}, Buffer.from('{}'));

    expect(reply.status).toBe(405);
    expect(calls).toHaveLength(0);
  });

  it('cuts off a body over 10 MiB with 413 without calling the function, declared or streamed', async () => {
    const big = Buffer.alloc(API_GATEWAY_MAX_BODY_BYTES + 1, 0x61);

    const declared = await send(server.port, 'POST', '/webhooks/orders', { 'Content-Type': 'application/json' }, big);
    const streamed = await send(server.port, 'POST', '/webhooks/orders', { 'Transfer-Encoding': 'chunked' }, big, true);

    expect(declared.status).toBe(413);
    expect(streamed.status).toBe(413);
    expect(calls).toHaveLength(0);
  });

  it('passes a body of exactly 10 MiB to the function', async () => {
    const reply = await send(server.port, 'POST', '/webhooks/orders', {}, Buffer.alloc(API_GATEWAY_MAX_BODY_BYTES, 0x61));

    expect(reply.status).toBe(202);
    expect(Buffer.from(calls[0]!.event.body ?? '', 'base64').length).toBe(API_GATEWAY_MAX_BODY_BYTES);
  });

  it('answers 502 without details when the function throws, as API Gateway does', async () => {
    const reply = await send(server.port, 'POST', '/webhooks/broken', {}, Buffer.from('{}'));

    expect(reply.status).toBe(502);
    expect(reply.body).not.toContain('payload');
  });

  it('lets a request in flight finish when it closes, then refuses new connections', async () => {
    let release: () => void = () => undefined;
    const slow: ProxyHandler = async () => {
      await new Promise<void>((r) => (release = r));
      return { statusCode: 200, body: '{"status":"accepted"}' };
    };
    const closing = await startServer({ port: 0, verifiers: new Map([['slow', slow]]) });
    const inFlight = send(closing.port, 'POST', '/webhooks/slow', {}, Buffer.from('{}'));
    await new Promise((r) => setTimeout(r, 100));

    const closed = closing.close();
    release();
    const reply = await inFlight;
    await closed;

    expect(reply.status).toBe(200);
    await expect(send(closing.port, 'POST', '/webhooks/slow', {}, Buffer.from('{}'))).rejects.toThrow();
  });
});
