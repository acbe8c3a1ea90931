import { LambdaClient } from '@aws-sdk/client-lambda';
import { type DeliveryEvent, webhookIdOf } from '../../lambda/delivery/contract';
import { createLambdaTarget, type LambdaDestination, type LambdaDestinationEvent } from '../../lambda/delivery/lambda-target';
import { clientConfig, type FakeLambda, type FunctionBehaviour, LAMBDA_MAX_PAYLOAD_BYTES, startFakeLambda } from './aws-fakes';

/**
 * The `lambda` target against a local server speaking Lambda's Invoke wire protocol, through the
 * real SDK client: what the function receives, and what each answer means for the event.
 */

const ARN = (name: string): string => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
const FUNCTIONS: Record<string, FunctionBehaviour> = {
  [ARN('ok')]: 'ok',
  [ARN('handled')]: 'handled-error',
  [ARN('unhandled')]: 'unhandled-error',
  [ARN('throttled')]: 'throttled',
  [ARN('broken')]: 'service-error',
  [ARN('denied')]: 'access-denied',
  [ARN('slow')]: 'hang',
};

let fake: FakeLambda;
let lambda: LambdaClient;
beforeAll(async () => {
  fake = await startFakeLambda(FUNCTIONS);
  lambda = new LambdaClient(clientConfig(fake));
});
afterAll(async () => {
  lambda.destroy();
  await fake.stop();
});

function destination(functionName: string): LambdaDestination {
  return { type: 'lambda', name: 'ehr', source: 'stripe', functionArn: ARN(functionName), maxReceiveCount: 5, memorySize: 256, retryWindowHours: 24, backoffBaseSeconds: 30, maxBackoffSeconds: 3600, timeoutSeconds: 15, maxInFlight: 10, batchSize: 10, circuitBreaker: { failureThreshold: 5, openSeconds: 60 } };
}

const BODY = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x00, 0x7d]); // not UTF-8: base64 keeps every byte
const EVENT: DeliveryEvent = {
  source: 'stripe',
  destination: 'ehr',
  dedupeKey: 'stripe:evt_1',
  eventId: 'evt_1',
  eventType: 'payment_intent.succeeded',
  typeSigned: true,
  receivedAt: '2026-12-01T10:00:00.000Z',
  body: BODY,
  headers: { 'content-type': 'application/json' },
};
const ATTEMPT = { attempt: 1, timeoutMs: 5000 };

/** A clock that advances 25 ms per reading. */
function steppingClock(): () => number {
  let t = 1000;
  return () => (t += 25);
}

describe('lambda target', () => {
  it('invokes the function synchronously with the decrypted event as JSON, the body base64, and reports delivered', async () => {
    const target = createLambdaTarget({ destination: destination('ok'), lambda, now: steppingClock() });
    const before = fake.invocations.length;

    const result = await target.deliver({ ...EVENT, replayId: 'rpl_1' }, ATTEMPT);

    expect(result).toEqual({ verdict: 'delivered', statusCode: 200, latencyMs: 25 });
    const call = fake.invocations[before];
    expect(call?.functionName).toBe(ARN('ok'));
    expect(call?.invocationType).toBe('RequestResponse');
    const received = JSON.parse(call?.payload.toString('utf8') ?? '') as LambdaDestinationEvent;
    expect(received).toEqual({
      source: 'stripe',
      destination: 'ehr',
      dedupeKey: 'stripe:evt_1',
      webhookId: webhookIdOf('stripe:evt_1'),
      eventId: 'evt_1',
      eventType: 'payment_intent.succeeded',
      typeSigned: true,
      receivedAt: '2026-12-01T10:00:00.000Z',
      headers: { 'content-type': 'application/json' },
      body: BODY.toString('base64'),
      bodyEncoding: 'base64',
      replayId: 'rpl_1',
    });
    expect(Buffer.from(received.body, 'base64').equals(BODY)).toBe(true);
  });

  it('leaves out the optional facts the event does not have', async () => {
    const target = createLambdaTarget({ destination: destination('ok'), lambda });
    const before = fake.invocations.length;
    const { eventId, eventType, ...bare } = EVENT;
    void eventId;
    void eventType;

    await target.deliver({ ...bare, typeSigned: false }, ATTEMPT);

    const received = JSON.parse(fake.invocations[before]?.payload.toString('utf8') ?? '') as Record<string, unknown>;
    expect(Object.keys(received).sort()).toEqual(['body', 'bodyEncoding', 'dedupeKey', 'destination', 'headers', 'receivedAt', 'source', 'typeSigned', 'webhookId']);
  });

  it.each([
    ['handled', 'a handled function error'],
    ['unhandled', 'an unhandled function error (crash, timeout)'],
  ])('retries after %s: %s', async (name) => {
    const target = createLambdaTarget({ destination: destination(name), lambda });

    const result = await target.deliver(EVENT, ATTEMPT);

    expect(result).toMatchObject({ verdict: 'retry', errorClass: 'function-error', statusCode: 200 });
  });

  it('retries when throttled, passing on the wait Lambda asked for', async () => {
    const target = createLambdaTarget({ destination: destination('throttled'), lambda });

    const result = await target.deliver(EVENT, ATTEMPT);

    expect(result).toMatchObject({ verdict: 'retry', errorClass: 'TooManyRequestsException', statusCode: 429, retryAfterSeconds: 7 });
  });

  it('retries on a Lambda service error', async () => {
    const result = await createLambdaTarget({ destination: destination('broken'), lambda }).deliver(EVENT, ATTEMPT);

    expect(result).toMatchObject({ verdict: 'retry', errorClass: 'ServiceException', statusCode: 500 });
  });

  it('retries when the function is missing or not permitted, so on-call can fix it without losing the event', async () => {
    const missing = await createLambdaTarget({ destination: destination('deleted'), lambda }).deliver(EVENT, ATTEMPT);
    const denied = await createLambdaTarget({ destination: destination('denied'), lambda }).deliver(EVENT, ATTEMPT);

    expect(missing).toMatchObject({ verdict: 'retry', errorClass: 'ResourceNotFoundException', statusCode: 404 });
    expect(denied).toMatchObject({ verdict: 'retry', errorClass: 'AccessDeniedException', statusCode: 403 });
  });

  it('rejects an event whose payload is over the synchronous invocation limit: no retry can fit it', async () => {
    const target = createLambdaTarget({ destination: destination('ok'), lambda });
    const before = fake.invocations.length;
    const huge = Buffer.alloc(Math.ceil((LAMBDA_MAX_PAYLOAD_BYTES * 3) / 4), 0x61);

    const result = await target.deliver({ ...EVENT, body: huge }, ATTEMPT);

    expect(result).toMatchObject({ verdict: 'reject', errorClass: 'RequestTooLargeException', statusCode: 413 });
    expect(fake.invocations.length).toBe(before);
  });

  it('gives up the attempt at its timeout and retries', async () => {
    const target = createLambdaTarget({ destination: destination('slow'), lambda });

    const result = await target.deliver(EVENT, { attempt: 2, timeoutMs: 50 });

    expect(result).toMatchObject({ verdict: 'retry', errorClass: 'timeout' });
  });

  it('retries on a network error', async () => {
    const unreachable = new LambdaClient({ ...clientConfig(fake), endpoint: 'http://127.0.0.1:9' });
    try {
      const result = await createLambdaTarget({ destination: destination('ok'), lambda: unreachable }).deliver(EVENT, ATTEMPT);

      expect(result.verdict).toBe('retry');
      expect(result.statusCode).toBeUndefined();
      // Jest's realms make the SDK wrap Node's error (its code is lost here, kept on Lambda): the class only, never the message.
      expect(['ECONNREFUSED', 'Error']).toContain(result.errorClass);
    } finally {
      unreachable.destroy();
    }
  });

  it('refuses to build a target for an entry destination, which reads its own queue', () => {
    const { functionArn, ...entryDestination } = destination('ok');
    void functionArn;

    expect(() => createLambdaTarget({ destination: { ...entryDestination, entry: 'processors/ehr.ts' }, lambda })).toThrow('destination ehr has no functionArn');
  });
});
