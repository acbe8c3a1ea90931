import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ENV } from '../../lambda/runtime/env';
import { BUNDLING, esbuildOptions } from '../../lib/constructs/bundling';

/**
 * The shipped bundles (built in-process with the options WebhookFunction ships, then run in a
 * child process as Lambda would load them) log the error classes by their names: on-call reads
 * them in the logs (docs/runbook.md), and a minifier renames classes unless told not to.
 */

const ROOT = join(__dirname, '..', '..');
const KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';
// Nothing listens on port 9 (discard): every AWS call fails at once, on this machine only.
const NOWHERE = 'http://127.0.0.1:9';
const ENVIRONMENT = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_ENDPOINT_URL: NOWHERE,
  AWS_LAMBDA_FUNCTION_NAME: 'hookgate-test',
  POWERTOOLS_METRICS_NAMESPACE: 'Hookgate/test',
  [ENV.source]: JSON.stringify({ name: 'orders', provider: 'token', header: 'x-webhook-token', secrets: ['the-token'] }),
  [ENV.table]: 'dedupe',
  [ENV.queueUrl]: `${NOWHERE}/000000000000/orders`,
  [ENV.payloadBucket]: 'payloads',
  [ENV.deadLetterQueueUrl]: `${NOWHERE}/000000000000/orders-dlq`,
  [ENV.keyArn]: KEY_ARN,
};

/** The Lambda context as the script builds it (what the functions read of it). */
const CONTEXT = "{ awsRequestId: 'req-1', functionName: 'hookgate-test', getRemainingTimeInMillis: () => 10000 }";

let dir: string;
const bundles: Record<'verifier' | 'processor', string> = { verifier: '', processor: '' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hookgate-bundle-'));
  for (const name of ['verifier', 'processor'] as const) {
    bundles[name] = join(dir, name, 'index.js');
    await build({ ...esbuildOptions(join(ROOT, 'lambda', name, 'index.ts'), bundles[name], BUNDLING), logLevel: 'silent' });
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `script` with `bundle` bound to the loaded bundle; returns its JSON log lines. */
function runBundle(bundle: string, script: string): Record<string, unknown>[] {
  const prelude = `const bundle = require(${JSON.stringify(bundle)}); const context = ${CONTEXT};`;
  const run = spawnSync(process.execPath, ['-e', `${prelude} (async () => { ${script} })()`], {
    env: ENVIRONMENT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (run.status !== 0) throw new Error(`bundle failed: ${run.stderr.slice(0, 2000)}`);
  // Powertools writes WARN and ERROR lines to stderr, the others to stdout.
  return `${run.stdout}\n${run.stderr}`
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}


describe('bundles as shipped', () => {
  it('the verifier names the error classes of a 503 in its log', () => {
    const event = {
      httpMethod: 'POST',
      path: '/webhooks/orders',
      headers: { 'x-webhook-token': 'the-token', 'content-type': 'application/json' },
      body: '{"n":1}',
      isBase64Encoded: false,
      requestContext: { stage: 'prod', path: '/prod/webhooks/orders', domainName: 'example.com' },
    };

    const logs = runBundle(bundles.verifier, `const r = await bundle.handler(${JSON.stringify(event)}, context); console.log(JSON.stringify({ status: r.statusCode }));`);

    expect(logs.find((line) => 'status' in line)).toEqual({ status: 503 });
    const failure = logs.find((line) => line.message === 'webhook not accepted: downstream failure');
    expect(failure).toMatchObject({ reason: 'dedupe_store', function_request_id: 'req-1' });
    expect((failure?.errors as string[] | undefined)?.[0]).toBe('DedupeStoreError');
  });

  it('the processor names the error class of a message it cannot open', () => {
    const record = { messageId: 'm-1', body: 'x', attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {} };

    const logs = runBundle(
      bundles.processor,
      `try { await bundle.handler({ Records: [${JSON.stringify(record)}] }, context); } catch (err) { console.log(JSON.stringify({ thrown: err.name })); }`,
    );

    // It can never open, and the move to the (unreachable) DLQ fails: both class names show.
    expect(logs.find((line) => String(line.message).startsWith('message can never open'))).toMatchObject({ error: 'MessageFormatError', moveError: 'QueueError', function_request_id: 'req-1' });
    expect(logs.find((line) => 'thrown' in line)).toEqual({ thrown: 'BatchFailedError' });
  });
});
