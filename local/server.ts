import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { errorName } from '../lambda/runtime/error-names';
import { invokeWithTimeout, lambdaContext, parseTarget, toProxyEvent } from './apigateway';

/** A verifier Lambda handler, as API Gateway invokes it. */
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** API Gateway's own payload limit (10 MiB); sources enforce their smaller limit in the verifier. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Bytes of an oversized upload read and discarded so the client sees the 413 before the socket closes. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** The verifier of each source, by source name. */
  readonly verifiers: ReadonlyMap<string, ProxyHandler>;
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** The verifier function's timeout (its context counts down from it). @default 10000 */
  readonly functionTimeoutMs?: number;
  /** @default {@link API_GATEWAY_MAX_BODY_BYTES} */
  readonly maxBodyBytes?: number;
  /** Told about a verifier that threw or timed out (the name of the error only). */
  readonly onHandlerError?: (source: string, errorName: string) => void;
  /** Told about a request the server itself failed on, answered 500 (the name of the error only). */
  readonly onServerError?: (errorName: string) => void;
}

/** A running local API. */
export interface LocalServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const WEBHOOK_PATH = /^\/webhooks\/([^/]+)\/?$/;

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...extra });
  res.end(text);
}

/** Reads the body up to `limit` bytes; `undefined` when it is larger (the rest is drained). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  const chunks: Buffer[] = [];
  let size = 0;
  let over = Number.isFinite(declared) && declared > limit;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) over = true;
    if (over) {
      // Keep reading (and dropping) so the client finishes its upload and reads the 413,
      // but never without bound.
      if (size > limit + DRAIN_LIMIT_BYTES) {
        req.destroy();
        break;
      }
      continue;
    }
    chunks.push(chunk);
  }
  return over ? undefined : Buffer.concat(chunks, size);
}

/** A percent-encoded path segment, decoded; `undefined` when it is not valid UTF-8 escapes. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body ?? '', 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
  for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v.map(String);
  headers['content-length'] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

/**
 * The local API: `POST|GET /webhooks/{source}` become API Gateway proxy events for that
 * source's verifier; everything else answers as API Gateway would for an unknown route.
 * Listens on 127.0.0.1 only.
 */
export async function startServer(options: ServerOptions): Promise<LocalServer> {
  const timeoutMs = options.functionTimeoutMs ?? 10_000;
  const maxBody = options.maxBodyBytes ?? API_GATEWAY_MAX_BODY_BYTES;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = parseTarget(req.url ?? '/');
    // A target that is no URL (`http://[bad/...`) or a segment that is no UTF-8 (`%`, `%E0%A4%A`)
    // is the client's mistake: 400, as API Gateway answers, never a 5xx.
    if (target === undefined) return sendJson(res, 400, { error: 'bad_request' });
    const match = WEBHOOK_PATH.exec(target.path);
    if (match === null) return sendJson(res, 404, { error: 'not_found' });
    const source = decodeSegment(match[1] as string);
    if (source === undefined) return sendJson(res, 400, { error: 'bad_request' });
    // Same answer for every unknown source, whatever the request carries.
    const verifier = options.verifiers.get(source);
    if (verifier === undefined) return sendJson(res, 404, { error: 'unknown_source' });
    if (req.method !== 'POST' && req.method !== 'GET') return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, POST' });
    const body = await readBody(req, maxBody);
    if (body === undefined) return sendJson(res, 413, { message: 'Request Too Long' }, { connection: 'close' });
    const event = toProxyEvent(
      { method: req.method, url: req.url ?? '/', rawHeaders: req.rawHeaders, body, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', serverPort: req.socket.localPort ?? 0 },
      source,
    );
    try {
      writeResult(res, await invokeWithTimeout(verifier, event, lambdaContext(`hookgate-verifier-${source}`, timeoutMs), timeoutMs));
    } catch (err) {
      // What API Gateway answers when the function fails or times out.
      options.onHandlerError?.(source, errorName(err));
      sendJson(res, 502, { message: 'Internal server error' });
    }
  }

  let closing = false;
  const server: Server = createServer((req, res) => {
    // Once closing, a connection is closed as soon as its response is out (no keep-alive wait).
    res.on('finish', () => {
      if (closing) server.closeIdleConnections();
    });
    handle(req, res).catch((err: unknown) => {
      options.onServerError?.(errorName(err));
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal server error' });
      else res.destroy();
    });
  });
  server.listen(options.port, '127.0.0.1');
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        // Requests in flight finish (their verifier may be enqueueing); past the function
        // timeout, whatever is left is cut, as API Gateway would have given up by then.
        const cut = setTimeout(() => server.closeAllConnections(), timeoutMs + 1000);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
