import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinModules } from 'node:module';
import { CreateQueueCommand, DeleteQueueCommand, type Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { toSqsRecord } from '../../local/poller';
import { sampleRequest } from '../../local/samples';
import type { Invocation, SourceUnderTest, World } from './harness';
import { callProblems, startWorld } from './harness';
import { MOTO_REGION } from './moto';
import { decide } from './authorization';
import { mapCall, signerOf } from './calls';
import { drain as drainQueue, providerEvent as signedEvent, type ProviderEventOptions } from './traffic';

/**
 * What ships, run against moto: the esbuild bundles `cdk synth` writes for the reference `dev`
 * environment, each loaded in its own process the way the Lambda Node.js runtime loads it, with
 * the environment the template gives it, the AWS SDK the runtime provides (the bundles'
 * externals), and every AWS call it makes recorded and checked against its role's policy in the
 * template.
 *
 * All traffic is sent in `beforeAll`, as providers and SQS would send it; each test then checks
 * one behaviour on what happened. `HOOKGATE_SHIPPED_ENV=prod` runs another config/<env>.json.
 */

const ENVIRONMENT = process.env.HOOKGATE_SHIPPED_ENV ?? 'dev';
const LARGE_BODY_BYTES = 900 * 1024;
/** Stands for PHI in a body: it must never reach a log line. */
const PHI_MARKER = `PHI-MARKER-${Date.now().toString(36)}`;

interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number | boolean>>;
  readonly json: { readonly id?: string; readonly status?: string; readonly error?: string };
  readonly text: string;
}

interface SourceRun {
  readonly accepted: Invocation<APIGatewayProxyResult>;
  readonly acceptedReply: Reply;
  readonly body: Buffer;
  readonly enqueued: readonly Message[];
  readonly duplicate: Reply;
  readonly enqueuedAfterDuplicate: readonly Message[];
  readonly badSignature: Invocation<APIGatewayProxyResult>;
  readonly enqueuedAfterBadSignature: readonly Message[];
  processed?: Invocation<SQSBatchResponse>;
}

let world: World;
const runs = new Map<string, SourceRun>();
let large: { source: SourceUnderTest; reply: Reply; body: Buffer; enqueued: readonly Message[]; processed: Invocation<SQSBatchResponse> } | undefined;
let tampered: { source: SourceUnderTest; good: SQSRecord; bad: SQSRecord; processed: Invocation<SQSBatchResponse>; deadLettered: readonly Message[] } | undefined;
let outage: { source: SourceUnderTest; failed: Invocation<APIGatewayProxyResult>; reply: Reply; retried: Reply; enqueued: readonly Message[] } | undefined;
let handshake: { source: SourceUnderTest; reply: Reply; challenge: string } | undefined;
const allInvocations: Invocation<unknown>[] = [];

function reply(invocation: Invocation<APIGatewayProxyResult>): Reply {
  const result = invocation.result;
  if (result === undefined) throw new Error(`the function failed: ${invocation.error?.name}: ${invocation.error?.message}\n${invocation.logs.map((l) => l.text).join('\n')}`);
  let json: Reply['json'] = {};
  try {
    json = JSON.parse(result.body) as Reply['json'];
  } catch {
    // A text answer (the handshake challenge).
  }
  return { status: result.statusCode, headers: result.headers ?? {}, json, text: result.body };
}

async function invoke<R>(fn: SourceUnderTest['verifier'], event: unknown): Promise<Invocation<R>> {
  const invocation = await world.invoke<R>(fn, event);
  allInvocations.push(invocation);
  return invocation;
}

/** A provider's request for `s`, signed with `secret` (the source's first by default). */
const providerEvent = (s: SourceUnderTest, options: ProviderEventOptions = {}): ReturnType<typeof signedEvent> => signedEvent(s, world.stage, options);

/** Receives and deletes every message now on a queue. */
const drain = (queueUrl: string): Promise<Message[]> => drainQueue(world.admin.sqs, queueUrl);

const attribute = (m: Message, name: string): string | undefined => m.MessageAttributes?.[name]?.StringValue;

/** A JSON sample grown to `size` bytes with a filler field that starts with the PHI marker, for the S3 path. */
function largeJsonBody(s: SourceUnderTest, size: number): Buffer | undefined {
  const sample = sampleRequest(s.source, s.secrets[0] ?? '', Date.now());
  if (!sample.contentType.includes('json')) return undefined;
  const text = sample.body.toString('utf8');
  const head = text.slice(0, text.lastIndexOf('}'));
  const filler = size - Buffer.byteLength(`${head},"filler":"${PHI_MARKER}"}`);
  return Buffer.from(`${head},"filler":"${PHI_MARKER}${'x'.repeat(Math.max(0, filler))}"}`, 'utf8');
}

/** A secret the source does not hold, in its provider's format (a Standard Webhooks key is base64). */
function wrongSecret(s: SourceUnderTest): string {
  return s.source.provider === 'standard' ? `whsec_${Buffer.from(`not-the-secret-${s.name}`.padEnd(24, '-')).toString('base64')}` : `not-the-secret-${s.name}`;
}

async function runSource(s: SourceUnderTest): Promise<void> {
  const first = providerEvent(s);
  const accepted = await invoke<APIGatewayProxyResult>(s.verifier, first.event);
  const enqueued = await drain(s.queue.url);
  const duplicate = reply(await invoke<APIGatewayProxyResult>(s.verifier, first.event));
  const enqueuedAfterDuplicate = await drain(s.queue.url);
  const badSignature = await invoke<APIGatewayProxyResult>(s.verifier, providerEvent(s, { secret: wrongSecret(s) }).event);
  const enqueuedAfterBadSignature = await drain(s.queue.url);
  runs.set(s.name, { accepted, acceptedReply: reply(accepted), body: first.body, enqueued, duplicate, enqueuedAfterDuplicate, badSignature, enqueuedAfterBadSignature });
}

beforeAll(async () => {
  world = await startWorld(ENVIRONMENT);
  await Promise.all(world.sources.map(runSource));

  // A body too big for one SQS message: its ciphertext goes to S3, the queue gets a pointer.
  const bigSource = world.sources.find((s) => largeJsonBody(s, LARGE_BODY_BYTES) !== undefined);
  if (bigSource !== undefined) {
    const body = largeJsonBody(bigSource, LARGE_BODY_BYTES) ?? Buffer.alloc(0);
    const sent = reply(await invoke<APIGatewayProxyResult>(bigSource.verifier, providerEvent(bigSource, { body }).event));
    const enqueued = await drain(bigSource.queue.url);
    const records = enqueued.map((m) => toSqsRecord(m, bigSource.queue.arn, MOTO_REGION));
    const processed = await invoke<SQSBatchResponse>(bigSource.processor, { Records: records });
    large = { source: bigSource, reply: sent, body, enqueued, processed };
  }

  // Each processor gets an SQS event made of the messages its verifier enqueued.
  await Promise.all(
    world.sources.map(async (s) => {
      const run = runs.get(s.name);
      if (run === undefined) return;
      const records = run.enqueued.map((m) => toSqsRecord(m, s.queue.arn, MOTO_REGION));
      run.processed = await invoke<SQSBatchResponse>(s.processor, { Records: records });
    }),
  );

  // One record of a batch whose attributes were changed in transit: only it may fail.
  const tamperSource = world.sources[0];
  const message = tamperSource === undefined ? undefined : runs.get(tamperSource.name)?.enqueued[0];
  if (tamperSource !== undefined && message !== undefined) {
    const good = toSqsRecord(message, tamperSource.queue.arn, MOTO_REGION);
    const bad: SQSRecord = {
      ...good,
      messageId: `${good.messageId}-tampered`,
      messageAttributes: { ...good.messageAttributes, dedupeKey: { dataType: 'String', stringValue: `${tamperSource.name}:someone-else`, stringListValues: [], binaryListValues: [] } },
    };
    const processed = await invoke<SQSBatchResponse>(tamperSource.processor, { Records: [good, bad] });
    tampered = { source: tamperSource, good, bad, processed, deadLettered: await drain(tamperSource.deadLetterQueueUrl) };
  }

  // Meta's subscription handshake (GET) with the verify token from Secrets Manager.
  const metaSource = world.sources.find((s) => s.verifyToken !== undefined && s.routes.some((r) => r.method === 'GET'));
  if (metaSource !== undefined) {
    const { event } = providerEvent(metaSource, { method: 'GET' });
    const challenge = event.queryStringParameters?.['hub.challenge'] ?? '';
    handshake = { source: metaSource, reply: reply(await invoke<APIGatewayProxyResult>(metaSource.verifier, event)), challenge };
  }

  // A downstream failure: the work queue is gone. Then it is back and the provider retries.
  const outageSource = world.sources[world.sources.length - 1];
  if (outageSource !== undefined) {
    await world.admin.sqs.send(new DeleteQueueCommand({ QueueUrl: outageSource.queue.url }));
    const { event } = providerEvent(outageSource);
    const failed = await invoke<APIGatewayProxyResult>(outageSource.verifier, event);
    await world.admin.sqs.send(new CreateQueueCommand({ QueueName: outageSource.queue.name, Attributes: { ...outageSource.queue.attributes } }));
    const retried = reply(await invoke<APIGatewayProxyResult>(outageSource.verifier, event));
    outage = { source: outageSource, failed, reply: reply(failed), retried, enqueued: await drain(outageSource.queue.url) };
  }
}, 240_000);

afterAll(async () => {
  await world?.close();
});

const sourceNames = (): string[] => world.sources.map((s) => s.name);
const runOf = (name: string): SourceRun => {
  const run = runs.get(name);
  if (run === undefined) throw new Error(`no run for ${name}`);
  return run;
};
const logsWith = (invocation: Invocation<unknown>, message: string): Readonly<Record<string, unknown>>[] =>
  invocation.logs.flatMap((l) => (l.json !== undefined && l.json.message === message ? [l.json] : []));

describe(`the shipped bundles of ${ENVIRONMENT}, run as Lambda runs them against moto`, () => {
  it('finds a verifier behind every API route and a processor on every source queue, each from its own asset', () => {
    expect(world.sources.length).toBeGreaterThan(0);
    for (const s of world.sources) {
      expect(s.verifier.spec.handler).toBe('index.handler');
      expect(s.processor.spec.handler).toBe('index.handler');
      expect(s.verifier.spec.codeDir).not.toBe(s.processor.spec.codeDir);
    }
  });

  it('bundles require nothing at run time but Node.js built-ins and the @aws-sdk packages the runtime provides', () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    for (const dir of new Set(world.functions.map((f) => f.spec.codeDir))) {
      const code = readFileSync(join(dir, 'index.js'), 'utf8');
      const required = new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1] as string));
      const foreign = [...required].filter((name) => !builtins.has(name) && !name.startsWith('@aws-sdk/'));
      expect({ dir, foreign }).toEqual({ dir, foreign: [] });
    }
  });

  it('every function initializes from its bundle with only the template environment, logging no error', () => {
    for (const f of world.functions) {
      const errors = f.environment.initLogs.filter((l) => l.stream === 'stderr' || l.json?.level === 'ERROR');
      expect({ fn: f.spec.logicalId, errors }).toEqual({ fn: f.spec.logicalId, errors: [] });
    }
  });

  describe('the verifier', () => {
    it('answers 200 accepted to a signed webhook and puts exactly one message on its source queue', () => {
      for (const name of sourceNames()) {
        const run = runOf(name);
        expect({ name, status: run.acceptedReply.status, status_: run.acceptedReply.json.status }).toEqual({ name, status: 200, status_: 'accepted' });
        expect(run.enqueued.map((m) => [attribute(m, 'source'), attribute(m, 'dedupeKey'), attribute(m, 'payload')])).toEqual([[name, run.acceptedReply.json.id, 'inline']]);
      }
    });

    it('answers 200 duplicate to the same delivery again and enqueues nothing', () => {
      for (const name of sourceNames()) {
        const run = runOf(name);
        expect({ name, status: run.duplicate.status, json: run.duplicate.json }).toEqual({ name, status: 200, json: { id: run.acceptedReply.json.id, status: 'duplicate' } });
        expect({ name, enqueued: run.enqueuedAfterDuplicate.length }).toEqual({ name, enqueued: 0 });
      }
    });

    it('answers 401 to a wrong signature without touching the dedupe table or the queue', () => {
      for (const name of sourceNames()) {
        const run = runOf(name);
        const r = reply(run.badSignature);
        expect({ name, status: r.status, known: ['bad_signature', 'bad_token'].includes(r.json.error ?? '') }).toEqual({ name, status: 401, known: true });
        expect({ name, services: [...new Set(run.badSignature.calls.map((c) => c.service))].filter((s) => s !== 'secretsmanager') }).toEqual({ name, services: [] });
        expect({ name, enqueued: run.enqueuedAfterBadSignature.length }).toEqual({ name, enqueued: 0 });
      }
    });

    it('stores a body too big for one SQS message in the payload bucket under the source prefix and enqueues a pointer', () => {
      if (large === undefined) throw new Error('no source with a JSON sample');
      const { source, reply: r, enqueued } = large;
      expect(r.status).toBe(200);
      expect(enqueued.map((m) => attribute(m, 'payload'))).toEqual(['s3']);
      const pointer = JSON.parse(enqueued[0]?.Body ?? '{}') as { bucket?: string; key?: string };
      expect(pointer.key?.startsWith(`${source.name}/`)).toBe(true);
    });

    it('answers Meta\'s subscription handshake with the challenge when the verify token from Secrets Manager matches', () => {
      if (handshake === undefined) throw new Error('the environment has no Meta source with a GET route');
      expect({ status: handshake.reply.status, body: handshake.reply.text }).toEqual({ status: 200, body: handshake.challenge });
    });

    it('answers 503 with Retry-After when the queue is gone, and accepts the provider\'s retry once it is back (not a duplicate)', () => {
      if (outage === undefined) throw new Error('no source');
      expect({ status: outage.reply.status, json: outage.reply.json, retryAfter: outage.reply.headers['Retry-After'] }).toEqual({
        status: 503,
        json: { error: 'unavailable' },
        retryAfter: '2',
      });
      const [logged] = logsWith(outage.failed, 'webhook not accepted: downstream failure');
      expect(logged?.reason).toBe('queue');
      expect({ status: outage.retried.status, json: outage.retried.json.status }).toEqual({ status: 200, json: 'accepted' });
      expect(outage.enqueued.map((m) => attribute(m, 'dedupeKey'))).toEqual([outage.retried.json.id]);
    });

    it('logs a downstream failure with the real error class names (QueueError), not minified ones', () => {
      if (outage === undefined) throw new Error('no source');
      const [logged] = logsWith(outage.failed, 'webhook not accepted: downstream failure');
      const errors = logged?.errors;
      expect(Array.isArray(errors) ? errors[0] : errors).toBe('QueueError');
      if (tampered !== undefined) {
        const [moved] = logsWith(tampered.processed, 'message can never open; moved to the DLQ');
        expect(moved?.error).toBe('EnvelopeMismatchError');
      }
    });
  });

  it('logs no secret value, verify token or body content in any line of any function', () => {
    const secrets = world.sources.flatMap((s) => [...s.secrets, ...(s.verifyToken === undefined ? [] : [s.verifyToken])]);
    const lines = [...world.functions.flatMap((f) => f.environment.initLogs), ...allInvocations.flatMap((i) => i.logs)].map((l) => l.text);
    expect(lines.length).toBeGreaterThan(0);
    const leaks = lines.filter((line) => line.includes(PHI_MARKER) || secrets.some((secret) => line.includes(secret)));
    expect(leaks).toEqual([]);
  });

  describe('the processor', () => {
    it('opens every message its verifier enqueued (body decrypted, exact size) and reports no batch item failures', () => {
      for (const name of sourceNames()) {
        const run = runOf(name);
        expect({ name, result: run.processed?.result, error: run.processed?.error }).toEqual({ name, result: { batchItemFailures: [] }, error: undefined });
        const processed = run.processed === undefined ? [] : logsWith(run.processed, 'webhook processed');
        expect(processed.map((l) => [l.dedupeKey, l.size])).toEqual([[run.acceptedReply.json.id, run.body.length]]);
      }
    });

    it('reads a pointer message\'s body back from the payload bucket', () => {
      if (large === undefined) throw new Error('no source with a JSON sample');
      expect(large.processed.result).toEqual({ batchItemFailures: [] });
      expect(logsWith(large.processed, 'webhook processed').map((l) => [l.dedupeKey, l.size])).toEqual([[large.reply.json.id, large.body.length]]);
    });

    it('moves the record whose attributes were changed to its DLQ at once, body and attributes as received', () => {
      if (tampered === undefined) throw new Error('no message to tamper with');
      expect(tampered.processed.result).toEqual({ batchItemFailures: [] });
      const [moved] = logsWith(tampered.processed, 'message can never open; moved to the DLQ');
      expect({ messageId: moved?.messageId, code: moved?.code }).toEqual({ messageId: tampered.bad.messageId, code: 'envelope_mismatch' });
      expect(tampered.deadLettered.map((m) => [m.Body, attribute(m, 'dedupeKey'), attribute(m, 'hookgateDeadLetterReason')])).toEqual([
        [tampered.bad.body, `${tampered.source.name}:someone-else`, 'envelope_mismatch'],
      ]);
    });
  });

  describe('the AWS calls, checked against each role\'s policy in the template', () => {
    it('every call of every function was allowed by its role\'s policy and the template\'s queue, bucket and key policies', () => {
      expect(callProblems(world)).toEqual([]);
    });

    it('saw the calls the path needs, so the check above is not vacuous', () => {
      const seen = new Set<string>();
      for (const group of world.attributedCalls()) {
        const role = group.fn === undefined ? '?' : world.sources.some((s) => s.verifier === group.fn) ? 'verifier' : 'processor';
        for (const c of group.calls) for (const check of c.checks) seen.add(`${role} ${check.action}`);
      }
      const needed = [
        'verifier secretsmanager:GetSecretValue',
        'verifier dynamodb:PutItem',
        'verifier dynamodb:UpdateItem',
        'verifier dynamodb:DeleteItem',
        'verifier kms:GenerateDataKey',
        'verifier sqs:SendMessage',
        'verifier s3:PutObject',
        'processor kms:Decrypt',
        'processor s3:GetObject',
      ];
      expect(needed.filter((n) => !seen.has(n))).toEqual([]);
    });

    it('would refuse a verifier sending to another source\'s queue (the check can say no)', () => {
      const [a, b] = world.sources;
      if (a === undefined || b === undefined) throw new Error('needs two sources');
      const call = world.proxy.calls.find((c) => c.request.headers.authorization?.includes(`Credential=${a.verifier.accessKeyId}/`) && c.request.headers['x-amz-target']?.endsWith('.SendMessage'));
      const signer = call === undefined ? undefined : signerOf(call.request);
      if (call === undefined || signer === undefined) throw new Error('no SendMessage recorded');
      const mapped = mapCall(call.request, signer, a.verifier.callEnvironment);
      if (mapped.kind !== 'mapped' || mapped.requests[0] === undefined) throw new Error('SendMessage not mapped');
      const own = mapped.requests[0];
      expect(decide(a.verifier.policies, own).decision).toBe('allow');
      expect(decide(a.verifier.policies, { ...own, resource: b.queue.arn })).toEqual({ decision: 'deny', reason: 'implicit' });
    });

    it('would refuse the same call over plain HTTP, which the queue policy denies (resource policies are read too)', () => {
      const [a] = world.sources;
      if (a === undefined) throw new Error('needs a source');
      const call = world.proxy.calls.find((c) => c.request.headers.authorization?.includes(`Credential=${a.verifier.accessKeyId}/`) && c.request.headers['x-amz-target']?.endsWith('.SendMessage'));
      const signer = call === undefined ? undefined : signerOf(call.request);
      if (call === undefined || signer === undefined) throw new Error('no SendMessage recorded');
      const mapped = mapCall(call.request, signer, a.verifier.callEnvironment);
      if (mapped.kind !== 'mapped' || mapped.requests[0] === undefined) throw new Error('SendMessage not mapped');
      const own = mapped.requests[0];
      const plain = { ...own, context: { ...own.context, values: { ...own.context.values, 'aws:SecureTransport': ['false'] } } };
      expect(decide(a.verifier.policies, plain)).toMatchObject({ decision: 'deny', reason: 'explicit' });
    });

    it('found no violation in any single invocation either', () => {
      expect(allInvocations.flatMap((i) => i.violations)).toEqual([]);
    });
  });
});
