import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Local HTTP servers that speak the wire protocol of the two AWS APIs the targets call, so the
 * tests run the real SDK clients (serialization, error parsing, abort) against answers shaped as
 * AWS documents them. No emulator exists for either; these model only what the targets use.
 *
 * - Lambda `Invoke` (REST-JSON): `POST /2015-03-31/functions/{name}/invocations`, the payload as
 *   the body; 200 with `X-Amz-Function-Error` when the function failed; errors as a status with
 *   `x-amzn-ErrorType` and a JSON body; `Retry-After` on TooManyRequestsException; 413
 *   RequestTooLargeException over the 6 MB synchronous payload limit.
 * - EventBridge `PutEvents` (JSON 1.1): `POST /` with `X-Amz-Target: AWSEvents.PutEvents`; per
 *   entry an EventId or an ErrorCode; the entry size counted as AWS documents it, over 256 KB a
 *   request-level ValidationException; a Detail that is not a JSON object is MalformedDetail.
 */

export interface FakeServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Client settings for a fake: its endpoint, dummy credentials, one attempt (the engine retries). */
export function clientConfig(server: FakeServer): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number } {
  return { endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 };
}

async function listen(handler: (request: IncomingMessage, body: Buffer, response: ServerResponse) => void): Promise<FakeServer> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handler(request, Buffer.concat(chunks), response));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** How a fake function answers. */
export type FunctionBehaviour = 'ok' | 'handled-error' | 'unhandled-error' | 'throttled' | 'service-error' | 'access-denied' | 'hang';

/** Lambda's synchronous invocation payload limit. */
export const LAMBDA_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

export interface FakeLambda extends FakeServer {
  /** Payloads received, by function name as the request named it. */
  readonly invocations: { readonly functionName: string; readonly invocationType: string | undefined; readonly payload: Buffer }[];
}

/** A Lambda API with the given functions (by ARN); any other name is ResourceNotFoundException. */
export async function startFakeLambda(functions: Readonly<Record<string, FunctionBehaviour>>): Promise<FakeLambda> {
  const invocations: FakeLambda['invocations'] = [];
  const error = (response: ServerResponse, status: number, type: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}): void =>
    json(response, status, { Type: 'User', Message: `${type} (fake)`, ...extra }, { 'x-amzn-errortype': type, ...headers });
  const server = await listen((request, body, response) => {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(request.url ?? '');
    if (request.method !== 'POST' || match === null) return error(response, 404, 'UnknownOperationException');
    const functionName = decodeURIComponent(match[1] as string);
    if (body.length > LAMBDA_MAX_PAYLOAD_BYTES) return error(response, 413, 'RequestTooLargeException');
    const behaviour = functions[functionName];
    if (behaviour === undefined) return error(response, 404, 'ResourceNotFoundException');
    if (behaviour === 'access-denied') return error(response, 403, 'AccessDeniedException');
    invocations.push({ functionName, invocationType: request.headers['x-amz-invocation-type'] as string | undefined, payload: body });
    switch (behaviour) {
      case 'ok':
        return json(response, 200, { ok: true }, { 'x-amz-executed-version': '$LATEST' });
      case 'handled-error':
        return json(response, 200, { errorType: 'Error', errorMessage: 'refused' }, { 'x-amz-function-error': 'Handled', 'x-amz-executed-version': '$LATEST' });
      case 'unhandled-error':
        return json(response, 200, { errorType: 'Runtime.ExitError', errorMessage: 'exited' }, { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' });
      case 'throttled':
        return error(response, 429, 'TooManyRequestsException', { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' }, { 'retry-after': '7' });
      case 'service-error':
        return json(response, 500, { Type: 'Service', Message: 'ServiceException (fake)' }, { 'x-amzn-errortype': 'ServiceException' });
      case 'hang':
        return undefined;
    }
  });
  return { ...server, invocations };
}

/** The size of a PutEvents entry, as the EventBridge user guide counts it. */
function documentedEntrySize(entry: Record<string, unknown>): number {
  const bytes = (value: unknown): number => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  let size = entry.Time === undefined ? 0 : 14;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  if (Array.isArray(entry.Resources)) for (const resource of entry.Resources) size += bytes(resource);
  return size;
}

/** How a fake bus answers. */
export type BusBehaviour = 'ok' | 'throttled-entry' | 'internal-entry' | 'invalid-argument-entry' | 'not-authorized-entry' | 'throttled-request' | 'access-denied' | 'hang';

export interface FakeEventBridge extends FakeServer {
  /** Entries accepted, with the bus they were put on. */
  readonly events: { readonly bus: string; readonly source: string; readonly detailType: string; readonly detail: Record<string, unknown> }[];
}

/** EventBridge's limit on the entries of one PutEvents. */
export const EVENTBRIDGE_MAX_ENTRY_BYTES = 256 * 1024;

/** An EventBridge API with the given buses (by name or ARN); an unknown bus fails its entry. */
export async function startFakeEventBridge(buses: Readonly<Record<string, BusBehaviour>>): Promise<FakeEventBridge> {
  const events: FakeEventBridge['events'] = [];
  let ids = 0;
  const error = (response: ServerResponse, status: number, type: string): void => json(response, status, { __type: type, message: `${type} (fake)` });
  const server = await listen((request, body, response) => {
    if (request.method !== 'POST' || request.headers['x-amz-target'] !== 'AWSEvents.PutEvents') return error(response, 400, 'UnknownOperationException');
    const { Entries: entries } = JSON.parse(body.toString('utf8')) as { Entries: Record<string, unknown>[] };
    if (entries.reduce((total, entry) => total + documentedEntrySize(entry), 0) > EVENTBRIDGE_MAX_ENTRY_BYTES) return error(response, 400, 'ValidationException');
    const behaviours = entries.map((entry) => buses[String(entry.EventBusName ?? 'default')]);
    if (behaviours.includes('hang')) return undefined;
    if (behaviours.includes('access-denied')) return error(response, 400, 'AccessDeniedException');
    if (behaviours.includes('throttled-request')) return error(response, 400, 'ThrottlingException');
    const results = entries.map((entry, index) => {
      const behaviour = behaviours[index];
      if (behaviour === undefined) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Event bus does not exist.' };
      if (behaviour === 'throttled-entry') return { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded.' };
      if (behaviour === 'internal-entry') return { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure.' };
      if (behaviour === 'invalid-argument-entry') return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter is not valid.' };
      if (behaviour === 'not-authorized-entry') return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
      let detail: unknown;
      try {
        detail = JSON.parse(String(entry.Detail));
      } catch {
        detail = undefined;
      }
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      events.push({ bus: String(entry.EventBusName), source: String(entry.Source), detailType: String(entry.DetailType), detail: detail as Record<string, unknown> });
      ids += 1;
      return { EventId: `00000000-0000-0000-0000-${String(ids).padStart(12, '0')}` };
    });
    const failed = results.filter((result) => 'ErrorCode' in result).length;
    return json(response, 200, { FailedEntryCount: failed, Entries: results }, { 'content-type': 'application/x-amz-json-1.1' });
  });
  return { ...server, events };
}
