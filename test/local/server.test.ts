import { request } from 'node:http';
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
