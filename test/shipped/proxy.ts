import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WireRequest } from './calls';

/**
 * A recording HTTP proxy in front of moto: the bundles' SDK clients are pointed at it
 * (`AWS_ENDPOINT_URL`), it keeps each request (method, URL, headers, body) and forwards the same
 * bytes to moto. An SDK middleware cannot be put inside a bundle, so the wire is where every call
 * of the shipped code is seen.
 */

export interface RecordedCall {
  /** Order of arrival. */
  readonly seq: number;
  readonly request: WireRequest;
  /** moto's status code (0 when moto could not be reached). */
  status: number;
}

export interface RecordingProxy {
  readonly endpoint: string;
  readonly calls: readonly RecordedCall[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const calls: RecordedCall[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
      const call: RecordedCall = { seq: calls.length, request: { method: req.method ?? 'GET', url: req.url ?? '/', headers, body }, status: 0 };
      calls.push(call);
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (upstreamRes) => {
          call.status = upstreamRes.statusCode ?? 0;
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
        },
      );
      forward.on('error', () => {
        res.writeHead(502).end();
      });
      forward.end(body);
    })();
  });
  server.keepAliveTimeout = 1000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
