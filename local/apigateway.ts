import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/**
 * Translation between a Node HTTP request and what API Gateway (REST, proxy integration, stage
 * `local`, binaryMediaTypes `*\/*`) hands a Lambda function, so the verifier runs locally on the
 * same event shape as on AWS.
 */

/** The parts of a Node request the event is built from. */
export interface RawRequest {
  readonly method: string;
  /** Path and query as sent, for example `/webhooks/orders?x=1`. */
  readonly url: string;
  /** `req.rawHeaders`: names in the sender's case, name/value alternating. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  /** The local server's port (API Gateway adds `X-Forwarded-Port`). */
  readonly serverPort: number;
}

/** Where the event pretends to come from. */
export interface ProxyEventOptions {
  /** `requestContext.requestTimeEpoch`. @default Date.now() */
  readonly now?: number;
  /** The stage name. @default 'local' */
  readonly stage?: string;
  /** `X-Forwarded-Proto`: `http` locally, so URL-signing schemes match the local URL. @default 'http' */
  readonly proto?: 'http' | 'https';
}

/** The API Gateway stage local mode pretends to be. */
export const LOCAL_STAGE = 'local';
/** The resource every source shares, as the stack declares it. */
export const WEBHOOK_RESOURCE = '/webhooks/{source}';

/** `dd/MMM/yyyy:HH:mm:ss +0000`, the format of `requestContext.requestTime`. */
function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${month}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/**
 * An empty record without a prototype, for names that come from the sender: `__proto__`,
 * `constructor` and the like must be ordinary keys, never the prototype's.
 */
function record<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Path and query of a request target; `undefined` when it is not a URL (a bad host in absolute form). */
export interface RequestTarget {
  /** `/webhooks/orders`, as `new URL()` normalizes it (percent-escapes kept). */
  readonly path: string;
  /** `?x=1`, or '' when there is none. */
  readonly search: string;
}

/**
 * Splits a request target (origin form `/path?query`, or absolute form `http://host/path?query`
 * as a proxy sends it) without throwing: `undefined` when it is not a URL.
 */
export function parseTarget(target: string): RequestTarget | undefined {
  try {
    const url = new URL(target, 'http://localhost');
    return { path: url.pathname, search: url.search };
  } catch {
    return undefined;
  }
}

/**
 * Headers as API Gateway passes them: the sender's case kept (the first spelling of a name
 * wins), `headers` with repeated values joined by ',', `multiValueHeaders` with every value.
 */
export function proxyHeaders(rawHeaders: readonly string[]): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  const spelled = new Map<string, string>();
  const multiValueHeaders = record<string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    const lower = name.toLowerCase();
    const key = spelled.get(lower) ?? name;
    spelled.set(lower, key);
    (multiValueHeaders[key] ??= []).push(value);
  }
  const headers = record<string>();
  for (const [key, values] of Object.entries(multiValueHeaders)) headers[key] = values.join(',');
  return { headers, multiValueHeaders };
}

/**
 * Query parameters as API Gateway passes them: decoded, `null` when there are none, the last
 * value in `queryStringParameters` and every value in `multiValueQueryStringParameters`.
 */
export function proxyQuery(search: string): {
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
} {
  const params = new URLSearchParams(search);
  const multi = record<string[]>();
  for (const [key, value] of params) (multi[key] ??= []).push(value);
  if (Object.keys(multi).length === 0) return { queryStringParameters: null, multiValueQueryStringParameters: null };
  const single = record<string>();
  for (const [key, values] of Object.entries(multi)) single[key] = values[values.length - 1] as string;
  return { queryStringParameters: single, multiValueQueryStringParameters: multi };
}

/** Builds the REST API proxy event for a request routed to `/webhooks/{source}`. */
export function toProxyEvent(request: RawRequest, source: string, options: ProxyEventOptions = {}): APIGatewayProxyEvent {
  const { now = Date.now(), stage = LOCAL_STAGE, proto = 'http' } = options;
  const url = parseTarget(request.url);
  // The server answers 400 before building an event for such a target.
  if (url === undefined) throw new Error('the request target is not a URL');
  // API Gateway sets these (appending to a sent X-Forwarded-For, replacing port and proto).
  const kept: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] as string;
    if (!/^x-forwarded-(port|proto)$/i.test(name)) kept.push(name, request.rawHeaders[i + 1] as string);
  }
  const { headers, multiValueHeaders } = proxyHeaders([
    ...kept,
    'X-Forwarded-For', request.sourceIp,
    'X-Forwarded-Port', String(request.serverPort),
    'X-Forwarded-Proto', proto,
  ]);
  const host = Object.entries(headers).find(([k]) => k.toLowerCase() === 'host')?.[1] ?? '127.0.0.1';
  const userAgent = Object.entries(headers).find(([k]) => k.toLowerCase() === 'user-agent')?.[1] ?? null;
  const requestId = randomUUID();
  // API Gateway gives no body as null; with binaryMediaTypes */* every body arrives base64.
  const hasBody = request.body.length > 0;
  return {
    resource: WEBHOOK_RESOURCE,
    path: url.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    ...proxyQuery(url.search),
    pathParameters: { source },
    stageVariables: null,
    body: hasBody ? request.body.toString('base64') : null,
    isBase64Encoded: hasBody,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      domainName: host.replace(/:\d+$/, ''),
      domainPrefix: 'local',
      extendedRequestId: requestId,
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: null,
        userAgent,
        userArn: null,
      },
      path: `/${stage}${url.path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: requestTime(now),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: WEBHOOK_RESOURCE,
      stage,
    },
  };
}

/**
 * A Lambda context whose `getRemainingTimeInMillis()` counts down from the function timeout,
 * as on AWS (the verifier sizes its dedupe lease from it).
 */
export function lambdaContext(functionName: string, timeoutMs: number, clock: () => number = Date.now): Context {
  const deadline = clock() + timeoutMs;
  const awsRequestId = randomUUID();
  const unsupported = (): never => {
    throw new Error('callback-style completion is not supported by hookgate handlers');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${awsRequestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - clock()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/**
 * Invokes a handler the way Lambda bounds it: past `timeoutMs` the call fails with a
 * `FunctionTimeout` error (the caller answers as AWS would), though the code keeps running here.
 */
export async function invokeWithTimeout<E, R>(handler: (event: E, context: Context) => Promise<R>, event: E, context: Context, timeoutMs: number): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('function timed out'), { name: 'FunctionTimeout' })), timeoutMs);
  });
  try {
    return await Promise.race([handler(event, context), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
