import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsError } from '../../lambda/ingest/errors';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { createLocalKms, localKeyring } from '../../local/kms';
import { payloadKey } from '../../lambda/ingest/message';
import { createLocalVerifier } from '../../local/verifier';
import { bodyKey } from '../../lambda/signatures/dedupe-key';
import { type LocalStack, startLocalStack } from '../../local/emulators';
import { deferred, lambdaContext } from '../ingest/helpers';
import { testSource } from '../config/sources';
import { apiEvent, captureOutput, failNext, harness, type Harness, telemetry, TOKEN, TOKEN_HEADER, tokenSource } from './harness';

const SOURCES = [
  'accept', 'base64', 'dup', 'conc', 'expired', 'sqsfail', 'kmsfail', 'dynfail', 'crash', 'lease', 'large',
  's3fail', 'limit', 'reject', 'telemetry', 'secretsfail', 'updatefail', 'kmsbudget', 'rotation', 'localfactory', 'weakkey', 'weaktoken',
];

let stack: LocalStack;
const open: Harness[] = [];
const make = (...args: Parameters<typeof harness>): Harness => {
  const h = harness(...args);
  open.push(h);
  return h;
};

beforeAll(async () => {
  stack = await startLocalStack({ sources: SOURCES.map((name) => tokenSource(name)) });
}, 30_000);
afterAll(async () => {
  for (const h of open) h.close();
  await stack.stop();
});

const NON_UTF8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0xfe, 0x00, 0xc3, 0x28, 0x7d]);
const json = (body: string): Record<string, unknown> => JSON.parse(body) as Record<string, unknown>;
const record = async (h: Harness, key: string) =>
  (await h.dynamodb.send(new GetItemCommand({ TableName: stack.resources.tableName, Key: { id: { S: key } }, ConsistentRead: true }))).Item;

describe('verifier handler on the emulators', () => {
  it('accepts a signed event with 200 and enqueues exactly one message whose decrypted body is byte-identical', async () => {
    const h = make(stack, tokenSource('accept'));
    const body = Buffer.from('{"patient":"Jane Roe","n":1}', 'utf8');

    const response = await h.handler(apiEvent({ body }), lambdaContext());
    const { messages, opened } = await h.drain();

    expect(response.statusCode).toBe(200);
    expect(json(response.body)).toEqual({ id: bodyKey('accept', body, TOKEN), status: 'accepted' });
    expect(messages).toHaveLength(1);
    expect(opened[0]?.body.equals(body)).toBe(true);
    expect(opened[0]).toMatchObject({ source: 'accept', dedupeKey: bodyKey('accept', body, TOKEN) });
    expect(messages[0]?.Body).not.toContain('Jane');
    expect(JSON.stringify(messages[0]?.MessageAttributes)).not.toContain('Jane');
  });

  it('decodes base64 bodies (isBase64Encoded) and keeps bytes that are not UTF-8', async () => {
    const h = make(stack, tokenSource('base64'));

    const response = await h.handler(apiEvent({ body: NON_UTF8, base64: true }), lambdaContext());
    const { opened } = await h.drain();

    expect(response.statusCode).toBe(200);
    expect(json(response.body).id).toBe(bodyKey('base64', NON_UTF8, TOKEN));
    expect(opened).toHaveLength(1);
    expect(opened[0]?.body.equals(NON_UTF8)).toBe(true);
  });

  it('answers 200 duplicate to the same event again and does not enqueue it twice', async () => {
    const h = make(stack, tokenSource('dup'));
    const event = apiEvent({ body: '{"id":"dup-1"}' });

    const first = await h.handler(event, lambdaContext());
    const second = await h.handler(event, lambdaContext());
    const { messages } = await h.drain();

    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(json(second.body).status).toBe('duplicate');
    expect(messages).toHaveLength(1);
  });

  it('enqueues 25 concurrent copies of one event exactly once; the others get 200 duplicate or 409', async () => {
    const h = make(stack, tokenSource('conc'));
    const event = apiEvent({ body: '{"id":"concurrent"}' });

    const responses = await Promise.all(Array.from({ length: 25 }, () => h.handler(event, lambdaContext())));
    const { messages } = await h.drain();
    const answers = responses.map((r) => `${r.statusCode} ${String(json(r.body).status ?? json(r.body).error)}`);

    expect(messages).toHaveLength(1);
    expect(answers.filter((a) => a === '200 accepted')).toHaveLength(1);
    expect(answers.every((a) => ['200 accepted', '200 duplicate', '409 in_progress'].includes(a))).toBe(true);
  });

  it('treats an expired dedupe record as absent (TTL deletes late) and enqueues the event', async () => {
    const h = make(stack, tokenSource('expired'));
    const body = Buffer.from('{"id":"old"}');
    await h.dynamodb.send(
      new PutItemCommand({
        TableName: stack.resources.tableName,
        Item: { id: { S: bodyKey('expired', body, TOKEN) }, status: { S: 'COMPLETED' }, expiration: { N: String(Math.floor(Date.now() / 1000) - 1) } },
      }),
    );

    const response = await h.handler(apiEvent({ body }), lambdaContext());
    const { messages } = await h.drain();

    expect(json(response.body).status).toBe('accepted');
    expect(messages).toHaveLength(1);
  });

  it('answers 503 with Retry-After when SQS fails after the dedupe write, deletes the record, and the retry is enqueued once', async () => {
    const h = make(stack, tokenSource('sqsfail'));
    const body = Buffer.from('{"id":"sqs"}');
    failNext(h.sqs, 'SendMessageCommand');

    const failed = await h.handler(apiEvent({ body }), lambdaContext());
    const recordAfterFailure = await record(h, bodyKey('sqsfail', body, TOKEN));
    const retried = await h.handler(apiEvent({ body }), lambdaContext());
    const { messages } = await h.drain();

    expect(failed.statusCode).toBe(503);
    expect(failed.headers?.['Retry-After']).toBeDefined();
    expect(json(failed.body)).toEqual({ error: 'unavailable' });
    expect(recordAfterFailure).toBeUndefined();
    expect(json(retried.body).status).toBe('accepted');
    expect(messages).toHaveLength(1);
  });

  it('answers 503 when KMS fails, and the retry succeeds with one message', async () => {
    const h = make(stack, tokenSource('kmsfail'));
    h.kms.failNext();

    const failed = await h.handler(apiEvent({ body: '{"id":"kms"}' }), lambdaContext());
    const retried = await h.handler(apiEvent({ body: '{"id":"kms"}' }), lambdaContext());
    const { messages } = await h.drain();

    expect(failed.statusCode).toBe(503);
    expect(retried.statusCode).toBe(200);
    expect(messages).toHaveLength(1);
  });

  it('answers 503 when DynamoDB is down and enqueues nothing', async () => {
    const down = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 });
    const h = make(stack, tokenSource('dynfail'), { dynamodb: down });

    const response = await h.handler(apiEvent({ body: '{"id":"dyn"}' }), lambdaContext());
    const { messages } = await h.drain();
    down.destroy();

    expect(response.statusCode).toBe(503);
    expect(json(response.body)).toEqual({ error: 'unavailable' });
    expect(messages).toHaveLength(0);
    expect(h.kms.calls.generateDataKey).toBe(0);
  });

  it('answers 409 while a crashed copy holds its lease, and enqueues the retry once the lease expired', async () => {
    const h = make(stack, tokenSource('crash'));
    const body = Buffer.from('{"id":"crash"}');
    const key = bodyKey('crash', body, TOKEN);
    const inProgress = (leaseEnd: number) =>
      h.dynamodb.send(
        new PutItemCommand({
          TableName: stack.resources.tableName,
          Item: { id: { S: key }, status: { S: 'INPROGRESS' }, expiration: { N: String(Math.floor(Date.now() / 1000) + 3600) }, in_progress_expiration: { N: String(leaseEnd) } },
        }),
      );

    await inProgress(Date.now() + 60_000);
    const whileLeased = await h.handler(apiEvent({ body }), lambdaContext());
    await inProgress(Date.now() - 1);
    const afterLease = await h.handler(apiEvent({ body }), lambdaContext());
    const { messages } = await h.drain();

    expect(whileLeased.statusCode).toBe(409);
    expect(json(whileLeased.body)).toEqual({ error: 'in_progress' });
    expect(json(afterLease.body).status).toBe('accepted');
    expect(messages).toHaveLength(1);
  });

  it('lets a retry through once the lease of a copy whose send never returns has run out', async () => {
    const hang = deferred();
    const h = make(stack, tokenSource('lease'));
    let hung = false;
    h.sqs.middlewareStack.add(
      (next) => async (args) => {
        if (!hung) {
          hung = true;
          await hang.promise; // the first copy's SendMessage "never returns" until released
        }
        return next(args);
      },
      { step: 'initialize', name: 'hang-first-send' },
    );
    const event = apiEvent({ body: '{"id":"lease"}' });

    const stuck = h.handler(event, lambdaContext(100));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const retry = await h.handler(event, lambdaContext());
    const afterRetry = await h.drain();
    hang.resolve();
    await stuck;
    await h.drain();

    expect(json(retry.body).status).toBe('accepted');
    expect(afterRetry.messages).toHaveLength(1);
  });

  it('offloads a 900 KiB body to S3 behind a pointer message and round-trips it byte for byte', async () => {
    const h = make(stack, tokenSource('large'));
    const body = Buffer.alloc(900 * 1024);
    for (let i = 0; i < body.length; i += 1) body[i] = (i * 7919) % 256;

    const response = await h.handler(apiEvent({ body, base64: true }), lambdaContext());
    const { messages, opened } = await h.drain();

    expect(response.statusCode).toBe(200);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.MessageAttributes?.payload?.StringValue).toBe('s3');
    expect(json(messages[0]?.Body ?? '{}')).toEqual({ bucket: stack.resources.bucket, key: payloadKey('large', bodyKey('large', body, TOKEN)) });
    expect(opened[0]?.body.equals(body)).toBe(true);
  });

  it('answers 503 when S3 fails for a large body, and the retry succeeds', async () => {
    const h = make(stack, tokenSource('s3fail'));
    const body = Buffer.alloc(900 * 1024, 0x61);
    failNext(h.s3, 'PutObjectCommand');

    const failed = await h.handler(apiEvent({ body }), lambdaContext());
    const retried = await h.handler(apiEvent({ body }), lambdaContext());
    const { opened } = await h.drain();

    expect(failed.statusCode).toBe(503);
    expect(retried.statusCode).toBe(200);
    expect(opened.map((m) => m.body.equals(body))).toEqual([true]);
  });

  it('answers 413 to a body over maxBodyBytes without any secret, KMS or AWS call', async () => {
    const nowhere = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 };
    let secretReads = 0;
    let awsCalls = 0;
    const clients = { dynamodb: new DynamoDBClient(nowhere), sqs: new SQSClient(nowhere), s3: new S3Client(nowhere) };
    for (const client of Object.values(clients)) {
      (client.middlewareStack as SQSClient['middlewareStack']).add(
        (next) => async (args) => {
          awsCalls += 1;
          return next(args);
        },
        { step: 'initialize' },
      );
    }
    const h = make(stack, tokenSource('limit', { maxBodyBytes: 1024 }), {
      ...clients,
      secrets: async () => {
        secretReads += 1;
        return { secrets: [TOKEN] };
      },
    });

    const response = await h.handler(apiEvent({ body: Buffer.alloc(1025, 0x61) }), lambdaContext());
    const atLimit = await h.handler(apiEvent({ body: Buffer.alloc(1024, 0x61) }), lambdaContext());
    for (const client of Object.values(clients)) client.destroy();

    expect(response.statusCode).toBe(413);
    expect(json(response.body)).toEqual({ error: 'payload_too_large' });
    expect(secretReads).toBe(1); // only the request at the limit read secrets
    expect(awsCalls).toBe(1); // ...and reached DynamoDB (closed port: 503)
    expect(atLimit.statusCode).toBe(503);
    expect(h.kms.calls).toEqual({ generateDataKey: 0, encrypt: 0, decrypt: 0 });
  });

  it('refuses verification failures with 401 and a short code, a wrong method with 405, and enqueues nothing', async () => {
    const h = make(stack, tokenSource('reject'));

    const missing = await h.handler(apiEvent({ body: '{}', headers: { [TOKEN_HEADER]: '' } }), lambdaContext());
    const wrong = await h.handler(apiEvent({ body: '{}', headers: { [TOKEN_HEADER]: 'not-the-token' } }), lambdaContext());
    const method = await h.handler(apiEvent({ body: '{}', method: 'PUT' }), lambdaContext());
    const { messages } = await h.drain();

    expect([missing.statusCode, json(missing.body)]).toEqual([401, { error: 'missing_token' }]);
    expect([wrong.statusCode, json(wrong.body)]).toEqual([401, { error: 'bad_token' }]);
    expect([method.statusCode, json(method.body)]).toEqual([405, { error: 'method_not_allowed' }]);
    expect(messages).toHaveLength(0);
  });

  it('answers 503 when the secrets cannot be read', async () => {
    const h = make(stack, tokenSource('secretsfail'), { secrets: async () => Promise.reject(new SecretsError()) });

    const response = await h.handler(apiEvent({ body: '{}' }), lambdaContext());

    expect(response.statusCode).toBe(503);
  });

  it('answers 503 to a Standard source whose loaded secret is too short, logging the rule broken and counting SecretConfigurationErrors, never the value', async () => {
    const weak = 'whsec_AB'; // one zero byte: an HMAC key anyone can guess
    const h = make(stack, testSource({ name: 'weakkey', provider: 'standard' }), { ...telemetry('weakkey'), secrets: async () => ({ secrets: [weak] }) });
    const event = apiEvent({ body: '{}', headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' } });

    const { result: response, lines } = await captureOutput(() => h.handler(event, lambdaContext()));
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const errors = records.filter((r) => r._aws === undefined && r.level === 'ERROR');
    const metricNames = records.flatMap((r) =>
      r._aws === undefined ? [] : (r._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }).CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name)),
    );

    expect(response.statusCode).toBe(503);
    expect(json(response.body)).toEqual({ error: 'unavailable' });
    expect(errors).toEqual([
      expect.objectContaining({ message: 'webhook not accepted: source secret misconfigured', source: 'weakkey', problems: [expect.stringMatching(/^secrets\[0\] must decode to at least 16 bytes/)] }),
    ]);
    expect(metricNames).toContain('SecretConfigurationErrors');
    expect(metricNames).not.toContain('SignatureFailures');
    expect(lines.join('\n')).not.toContain(weak);
    expect((await h.drain()).messages).toEqual([]);
  });

  it('answers 503, not the challenge, to a Meta handshake when the loaded verify token is empty', async () => {
    const h = make(stack, testSource({ name: 'weaktoken', provider: 'meta' }), { secrets: async () => ({ secrets: ['app-secret'], verifyToken: '' }) });

    const response = await h.handler(apiEvent({ method: 'GET', path: '/webhooks/weaktoken?hub.mode=subscribe&hub.verify_token=&hub.challenge=4242' }), lambdaContext());

    expect(response.statusCode).toBe(503);
    expect(response.body).not.toContain('4242');
  });

  it('accepts a token signed with a secret rotated since it was cached, by re-reading the secrets once', async () => {
    let refreshes = 0;
    const rotating = Object.assign(async () => ({ secrets: ['old-token'] }), {
      refresh: async () => {
        refreshes += 1;
        return refreshes === 1 ? { secrets: [TOKEN, 'old-token'] } : undefined;
      },
    });
    const h = make(stack, tokenSource('rotation'), { secrets: rotating });

    const rotated = await h.handler(apiEvent({ body: '{"id":"rotated"}' }), lambdaContext());
    const forged = await h.handler(apiEvent({ body: '{"id":"forged"}', headers: { [TOKEN_HEADER]: 'forged' } }), lambdaContext());

    expect(rotated.statusCode).toBe(200);
    expect(forged.statusCode).toBe(401);
    expect(refreshes).toBe(2);
  });

  it('serves the same contract through the local factory over the emulators', async () => {
    const kms = createLocalKms();
    const reader = make(stack, tokenSource('localfactory'), { envelope: createEnvelope(localKeyring(kms)) });
    const verifier = createLocalVerifier({
      source: tokenSource('localfactory'),
      secrets: { secrets: [TOKEN] },
      dedupeTtlDays: 7,
      endpoints: stack.endpoints,
      resources: stack.resources,
      envelope: createEnvelope(localKeyring(kms)),
      ...telemetry('localfactory', { quiet: true }),
    });

    const response = await verifier(apiEvent({ body: NON_UTF8, base64: true }), lambdaContext());
    verifier.close();
    const { opened } = await reader.drain();

    expect(json(response.body)).toEqual({ id: bodyKey('localfactory', NON_UTF8, TOKEN), status: 'accepted' });
    expect(opened.map((m) => m.body.equals(NON_UTF8))).toEqual([true]);
  });

  it('still answers 200 when SQS accepted but marking the record completed failed (the event is durable)', async () => {
    const h = make(stack, tokenSource('updatefail'));
    failNext(h.dynamodb, 'UpdateItemCommand');

    const response = await h.handler(apiEvent({ body: '{"id":"update"}' }), lambdaContext());
    const { messages } = await h.drain();

    expect(json(response.body).status).toBe('accepted');
    expect(messages).toHaveLength(1);
  });

  it('calls KMS once for 100 distinct events of a warm verifier (data keys are cached per source)', async () => {
    const h = make(stack, tokenSource('kmsbudget'));

    for (let batch = 0; batch < 5; batch += 1) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => h.handler(apiEvent({ body: `{"n":${batch * 20 + i}}` }), lambdaContext())));
    }
    const { messages } = await h.drain();

    expect(messages).toHaveLength(100);
    expect(h.kms.calls.generateDataKey + h.kms.calls.encrypt).toBe(1);
  });

  it('writes logs and metrics with metadata only: no body bytes, no secret, no token value, dimensions {service, source}', async () => {
    const h = make(stack, tokenSource('telemetry'), telemetry('telemetry'));
    const marker = 'PHI-MARKER-Jane-Roe-1970-01-01';
    failNext(h.sqs, 'SendMessageCommand');

    const { lines } = await captureOutput(async () => {
      await h.handler(apiEvent({ body: `{"name":"${marker}"}` }), lambdaContext()); // 503
      await h.handler(apiEvent({ body: `{"name":"${marker}"}` }), lambdaContext()); // accepted
      await h.handler(apiEvent({ body: `{"name":"${marker}"}` }), lambdaContext()); // duplicate
      await h.handler(apiEvent({ body: `{"name":"${marker}"}`, headers: { [TOKEN_HEADER]: 'wrong-TOKEN-456' } }), lambdaContext()); // 401
    });
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const logs = records.filter((r) => r._aws === undefined);
    const emf = records.filter((r) => r._aws !== undefined) as { _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] } }[];
    const metricNames = emf.flatMap((r) => r._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name)));

    expect(lines.join('\n')).not.toContain(marker);
    expect(lines.join('\n')).not.toContain(TOKEN);
    expect(lines.join('\n')).not.toContain('wrong-TOKEN-456');
    expect(lines.join('\n')).not.toContain('injected failure');
    expect(logs.map((l) => l.outcome)).toEqual(['unavailable', 'accepted', 'duplicate', 'rejected']);
    expect(logs.every((l) => l.source === 'telemetry' && typeof l.durationMs === 'number')).toBe(true);
    expect(new Set(metricNames)).toEqual(new Set(['DownstreamFailures', 'Accepted', 'Duplicate', 'Rejected', 'SignatureFailures', 'VerifyLatency']));
    expect(emf.every((r) => JSON.stringify(r._aws.CloudWatchMetrics.map((m) => m.Dimensions)) === '[[["service","source"]]]')).toBe(true);
    expect(emf.every((r) => (r as unknown as Record<string, unknown>).source === 'telemetry')).toBe(true);
  });
});
