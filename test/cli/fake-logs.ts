import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny CloudWatch Logs API (AWS JSON 1.1 over HTTP) for the audit log's tests: CreateLogStream,
 * PutLogEvents and FilterLogEvents (two events a page, so pagination is exercised), over one
 * log group in memory. `deny` makes an operation answer AccessDeniedException.
 */
export interface FakeLogs {
  readonly endpoint: string;
  readonly streams: Map<string, { timestamp: number; message: string }[]>;
  readonly calls: string[];
  deny: Set<string>;
  stop(): Promise<void>;
}

const PAGE = 2;

export async function startFakeLogs(logGroupName: string): Promise<FakeLogs> {
  const streams = new Map<string, { timestamp: number; message: string }[]>();
  const calls: string[] = [];
  const fake = { streams, calls, deny: new Set<string>() };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '').replace('Logs_20140328.', '');
      calls.push(operation);
      const input = JSON.parse(body || '{}') as Record<string, unknown>;
      const reply = (status: number, value: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(value));
      };
      const error = (type: string): void => reply(400, { __type: type, message: type });
      if (fake.deny.has(operation)) return error('AccessDeniedException');
      if (input.logGroupName !== logGroupName) return error('ResourceNotFoundException');
      const stream = input.logStreamName as string;
      switch (operation) {
        case 'CreateLogStream':
          if (streams.has(stream)) return error('ResourceAlreadyExistsException');
          streams.set(stream, []);
          return reply(200, {});
        case 'PutLogEvents': {
          const events = streams.get(stream);
          if (events === undefined) return error('ResourceNotFoundException');
          events.push(...(input.logEvents as { timestamp: number; message: string }[]));
          return reply(200, {});
        }
        case 'FilterLogEvents': {
          const all = [...streams.entries()]
            .flatMap(([name, events]) => events.map((e) => ({ ...e, logStreamName: name })))
            .filter((e) => input.startTime === undefined || e.timestamp >= (input.startTime as number))
            .sort((a, b) => a.timestamp - b.timestamp);
          const start = Number(input.nextToken ?? 0);
          const page = all.slice(start, start + PAGE);
          return reply(200, { events: page, ...(start + PAGE < all.length ? { nextToken: String(start + PAGE) } : {}) });
        }
        default:
          return error('UnknownOperationException');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
