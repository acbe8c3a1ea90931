/**
 * Cold start: bundle the two Lambda entry points with the stack's own bundling options
 * (lib/constructs/bundling.ts, which WebhookFunction ships; a stack test proves the bundle is
 * byte for byte the synthesized asset) and with variants of them, report bytes, and time whole
 * processes against `node -e 0`, interleaved, as ratios of medians (process start-up is most of
 * both on a shared machine, so only ratios compare across runs):
 *
 * - init: the verifier's `require` + `verifierFromEnv()` (what a cold start builds before it can
 *   answer), the processor's `require`;
 * - first request: init plus one invocation answered against a stand-in for the AWS APIs on this
 *   machine (signed webhook -> 200, one SQS record -> processed), which counts what the
 *   functions load on first use (Secrets Manager, the SDK's request path, the ESDK's crypto).
 *
 * The delivery function of an `http` destination (lambda/delivery/index.ts) is timed at init only,
 * as shipped: its `require`, which builds the function from the environment the stack sets.
 *
 * Wall time is the ratio the targets use; CPU time (user + system, from the child itself) is
 * reported beside it because it moves less with the load of the machine.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { build, type Metafile } from 'esbuild';
import { BUNDLING, esbuildOptions, esbuildTarget, NODE_ENVIRONMENT, RUNTIME } from '../lib/constructs/bundling';
import { type NamedSource, namedSource } from '../lambda/config/schema';
import { ENV } from '../lambda/runtime/env';
import { signRequest } from '../lambda/signatures/sign';
import { median } from './stats';
import { toProxyEvent } from '../local/apigateway';

const ROOT = join(__dirname, '..');
const FUNCTIONS = ['verifier', 'processor'] as const;
type FunctionName = (typeof FUNCTIONS)[number];
/** Timed as shipped, at init only. */
const DELIVERY = 'delivery';

export interface Bundle {
  readonly name: string;
  readonly bytes: number;
  /** Largest packages in the bundle, bytes of output. */
  readonly top: readonly { readonly module: string; readonly bytes: number }[];
}

/** One way of building and starting both functions, and what it measured. */
export interface VariantResult {
  readonly label: string;
  /** Is this the stack's own setting. */
  readonly shipped: boolean;
  readonly bytes: Readonly<Record<FunctionName, number>>;
  /** Median wall time over the median of `node -e 0`. */
  readonly ratio: Readonly<Record<FunctionName, number>>;
  /** Median CPU time (user + system) over that of `node -e 0`. */
  readonly cpuRatio: Readonly<Record<FunctionName, number>>;
  readonly medianMs: Readonly<Record<FunctionName, number>>;
}

/** For the targets: one function's ratio in one variant. */
export interface InitTiming {
  readonly label: string;
  readonly medianMs: number;
  readonly ratio: number;
}

export interface ColdStartResult {
  readonly target: string;
  readonly rounds: number;
  readonly baselineMs: number;
  readonly baselineCpuMs: number;
  /** The bundles as shipped. */
  readonly bundles: readonly Bundle[];
  readonly variants: readonly VariantResult[];
  /** The shipped variant's init and first-request ratios, per function. */
  readonly init: readonly InitTiming[];
  /** Sockets or DNS look-ups attempted during init and the following 300 ms (should be none). */
  readonly network: Readonly<Record<string, readonly string[]>>;
}

interface Variant {
  readonly label: string;
  readonly bundling: BundlingOptions;
  /** NODE_OPTIONS the variant runs with. */
  readonly nodeOptions: string;
  /** Time init plus the first request instead of init alone. */
  readonly firstRequest?: boolean;
}

const SHIPPED_NODE_OPTIONS = NODE_ENVIRONMENT.NODE_OPTIONS ?? '';
const LINKED_MAP: BundlingOptions = { ...BUNDLING, sourceMap: true };

/** Each row changes one thing of the shipped setting, except the previous one. */
const VARIANTS: readonly Variant[] = [
  { label: 'as shipped', bundling: BUNDLING, nodeOptions: SHIPPED_NODE_OPTIONS },
  { label: 'as shipped, init + first request', bundling: BUNDLING, nodeOptions: SHIPPED_NODE_OPTIONS, firstRequest: true },
  {
    label: 'previous setting (CJS builds, @aws-sdk/* external, linked map + --enable-source-maps, no keepNames)',
    bundling: { format: BUNDLING.format, minify: true, sourceMap: true, forceDockerBundling: false },
    nodeOptions: '--enable-source-maps',
  },
  { label: 'without keepNames', bundling: { ...BUNDLING, keepNames: false }, nodeOptions: SHIPPED_NODE_OPTIONS },
  { label: 'linked source map + --enable-source-maps', bundling: LINKED_MAP, nodeOptions: '--enable-source-maps' },
  { label: 'linked source map without sourcesContent + --enable-source-maps', bundling: { ...LINKED_MAP, sourcesContent: false }, nodeOptions: '--enable-source-maps' },
  { label: 'linked source map, without --enable-source-maps', bundling: LINKED_MAP, nodeOptions: SHIPPED_NODE_OPTIONS },
  { label: '@aws-sdk/* external (the runtime\'s SDK; here node_modules)', bundling: { ...BUNDLING, bundleAwsSDK: false }, nodeOptions: SHIPPED_NODE_OPTIONS },
  { label: 'CJS builds of packages (esbuild\'s default main fields)', bundling: { ...BUNDLING, mainFields: undefined }, nodeOptions: SHIPPED_NODE_OPTIONS },
  { label: 'S3 client from the runtime\'s SDK (@aws-sdk/client-s3 external)', bundling: { ...BUNDLING, externalModules: ['@aws-sdk/client-s3'] }, nodeOptions: SHIPPED_NODE_OPTIONS },
];

const KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';
const SECRET = 'bench-secret';
const SOURCE: NamedSource = namedSource({ name: 'github', provider: 'github', secretName: 'hookgate/bench/github' });

/** What the stack sets (lib/constructs/source-cell.ts), with dummy values; AWS calls go to `endpoint`. */
function lambdaEnvironment(endpoint: string, nodeOptions: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    // Where an external @aws-sdk/* resolves from (on Lambda: the runtime's own copy).
    NODE_PATH: join(ROOT, 'node_modules'),
    NODE_OPTIONS: nodeOptions,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL: endpoint,
    AWS_LAMBDA_FUNCTION_NAME: 'hookgate-bench',
    POWERTOOLS_SERVICE_NAME: 'hookgate',
    POWERTOOLS_METRICS_NAMESPACE: 'Hookgate/bench',
    [ENV.source]: JSON.stringify(SOURCE),
    [ENV.table]: 'hookgate-dedupe',
    [ENV.queueUrl]: `${endpoint}/000000000000/hookgate-github`,
    [ENV.payloadBucket]: 'hookgate-payloads',
    [ENV.deadLetterQueueUrl]: `${endpoint}/000000000000/hookgate-github-dlq`,
    [ENV.keyArn]: KEY_ARN,
    [ENV.dedupeTtlDays]: '7',
  };
}

/** What the stack sets on an http destination's delivery function (lib/constructs/destination-cell.ts), on top of a source's. */
function deliveryEnvironment(endpoint: string): NodeJS.ProcessEnv {
  const destination = { name: 'billing', source: SOURCE.name, type: 'http', url: 'https://billing.example.com/hooks', secretName: 'hookgate/bench/out/billing' };
  return {
    ...lambdaEnvironment(endpoint, SHIPPED_NODE_OPTIONS),
    [ENV.destination]: JSON.stringify(destination),
    [ENV.deliveryTable]: 'hookgate-delivery',
    [ENV.deadLetterQueueUrl]: `${endpoint}/000000000000/hookgate-github-billing-dlq`,
    [ENV.signingSecretName]: destination.secretName,
  };
}

/** Reports the child's own CPU time at exit; preloaded into every run, the baseline included. */
const CPU_PROBE = `process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('CPU ' + (u.user + u.system) / 1000 + '\\n'); });\n`;

/** Records every outbound connection attempt; preloaded with `-r` in the network check. */
const NETWORK_PROBE = `
const net = require('node:net'); const dns = require('node:dns'); const seen = [];
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) { seen.push('connect ' + JSON.stringify(args[0]).slice(0, 120)); return connect.apply(this, args); };
const lookup = dns.lookup;
dns.lookup = function (host, ...rest) { seen.push('dns ' + host); return lookup.call(this, host, ...rest); };
process.on('exit', () => process.stderr.write('NETWORK' + JSON.stringify(seen) + '\\n'));
`;

/**
 * Answers the calls of one first request per function, on this machine only: Secrets Manager
 * GetSecretValue, DynamoDB PutItem/UpdateItem, KMS GenerateDataKey/Decrypt (one fixed data key),
 * SQS SendMessage (kept, so the processor's run can open a real message).
 */
class StandInAws {
  readonly dataKey = randomBytes(32);
  readonly wrappedKey = randomBytes(64);
  sent: { body: string; attributes: Record<string, { DataType: string; StringValue?: string }> } | undefined;
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => this.answer(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const reply = (body: unknown, status = 200): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
      };
      switch (target) {
        case 'secretsmanager.GetSecretValue':
          return reply({ ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench', Name: input.SecretId, SecretString: SECRET, VersionId: 'v1' });
        case 'DynamoDB_20120810.PutItem':
        case 'DynamoDB_20120810.UpdateItem':
          return reply({});
        case 'TrentService.GenerateDataKey':
          return reply({ KeyId: KEY_ARN, Plaintext: this.dataKey.toString('base64'), CiphertextBlob: this.wrappedKey.toString('base64') });
        case 'TrentService.Decrypt':
          return reply({ KeyId: KEY_ARN, Plaintext: this.dataKey.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
        case 'AmazonSQS.SendMessage': {
          const body = String(input.MessageBody);
          this.sent = { body, attributes: (input.MessageAttributes ?? {}) as Record<string, { DataType: string; StringValue?: string }> };
          return reply({ MessageId: 'bench-1', MD5OfMessageBody: createHash('md5').update(body, 'utf8').digest('hex') });
        }
        default:
          return reply({ __type: 'UnknownOperationException', message: target }, 400);
      }
    });
  }
}

/** A signed github webhook as API Gateway hands it to the verifier. */
function signedEvent(): string {
  const body = Buffer.from(JSON.stringify({ action: 'opened', number: 1, padding: 'x'.repeat(2000) }), 'utf8');
  const url = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod/webhooks/github';
  const signed = signRequest(SOURCE, SECRET, body, { now: Date.now(), url, eventId: 'bench-delivery-1' });
  const headers = { Host: 'abc123.execute-api.us-east-1.amazonaws.com', 'Content-Type': 'application/json', ...signed.headers };
  const event = toProxyEvent(
    { method: 'POST', url: '/webhooks/github', rawHeaders: Object.entries(headers).flat(), body, sourceIp: '192.0.2.10', serverPort: 443 },
    'github',
    { stage: 'prod', proto: 'https' },
  );
  return JSON.stringify(event);
}

/** The SQS event the processor gets for the message the verifier sent. */
function sqsEvent(sent: NonNullable<StandInAws['sent']>): string {
  const messageAttributes = Object.fromEntries(
    Object.entries(sent.attributes).map(([name, value]) => [name, { dataType: value.DataType, stringValue: value.StringValue, stringListValues: [], binaryListValues: [] }]),
  );
  const record = { messageId: 'bench-1', receiptHandle: 'r', body: sent.body, attributes: { ApproximateReceiveCount: '1' }, messageAttributes, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:hookgate-github', awsRegion: 'us-east-1' };
  return JSON.stringify({ Records: [record] });
}

const CONTEXT = "{ awsRequestId: 'bench-request', functionName: 'hookgate-bench', getRemainingTimeInMillis: () => 10000 }";

/** The `node -e` script of one run. */
function script(fn: FunctionName, file: string, request: string | undefined): string {
  const load = `const m = require(${JSON.stringify(file)});`;
  if (request === undefined) return fn === 'verifier' ? `${load} m.verifierFromEnv();` : load;
  const check =
    fn === 'verifier'
      ? `if (r.statusCode !== 200) { console.error('status ' + r.statusCode); process.exit(1); }`
      : `if (r.batchItemFailures.length !== 0) { console.error('batch failed'); process.exit(1); }`;
  return `${load} m.handler(${request}, ${CONTEXT}).then((r) => { ${check} });`;
}

interface Run {
  readonly wallMs: number;
  readonly cpuMs: number;
}

function timeNode(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const cpu = /^CPU (\S+)$/m.exec(stderr);
      if (code !== 0 || cpu === null) reject(new Error(`node ${args.join(' ').slice(0, 200)} failed: ${stderr.slice(0, 800)}`));
      else resolve({ wallMs, cpuMs: Number(cpu[1]) });
    });
  });
}

function packageOf(path: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return match?.[1] ?? path.replace(/\/[^/]+$/, '');
}

function topModules(metafile: Metafile): { module: string; bytes: number }[] {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
  const sizes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const key = packageOf(input);
    sizes.set(key, (sizes.get(key) ?? 0) + bytesInOutput);
  }
  return [...sizes.entries()].map(([module, bytes]) => ({ module, bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, 6);
}


/**
 * @param rounds interleaved rounds; each spawns every variant of both functions once, in a rotated order
 */
export async function benchColdStart(rounds = 11): Promise<ColdStartResult> {
  const outdir = mkdtempSync(join(tmpdir(), 'hookgate-bench-'));
  const aws = new StandInAws();
  try {
    const endpoint = await aws.start();
    const probe = join(outdir, 'cpu-probe.cjs');
    writeFileSync(probe, CPU_PROBE);
    const networkProbe = join(outdir, 'network-probe.cjs');
    writeFileSync(networkProbe, NETWORK_PROBE);

    // One bundle per distinct bundling setting and function.
    const built = new Map<string, { file: string; bytes: number; metafile: Metafile }>();
    const bundleOf = async (variant: Variant, fn: FunctionName): Promise<{ file: string; bytes: number; metafile: Metafile }> => {
      const key = `${fn} ${JSON.stringify(variant.bundling)}`;
      const existing = built.get(key);
      if (existing !== undefined) return existing;
      const file = join(outdir, `b${built.size}`, fn, 'index.js');
      const result = await build({ ...esbuildOptions(join(ROOT, 'lambda', fn, 'index.ts'), file, variant.bundling), metafile: true, logLevel: 'silent' });
      const entry = { file, bytes: statSync(file).size, metafile: result.metafile };
      built.set(key, entry);
      return entry;
    };
    const bundles: { verifier: Awaited<ReturnType<typeof bundleOf>>; processor: Awaited<ReturnType<typeof bundleOf>> }[] = [];
    const deliveryFile = join(outdir, 'delivery', 'index.js');
    const deliveryBuild = await build({ ...esbuildOptions(join(ROOT, 'lambda', DELIVERY, 'index.ts'), deliveryFile, BUNDLING), metafile: true, logLevel: 'silent' });
    const delivery = { file: deliveryFile, bytes: statSync(deliveryFile).size, metafile: deliveryBuild.metafile };
    // One at a time: bundleOf names its folder after the bundles built so far.
    for (const variant of VARIANTS) bundles.push({ verifier: await bundleOf(variant, 'verifier'), processor: await bundleOf(variant, 'processor') });

    // The processor's first request opens the message the verifier's sent.
    const shipped = bundles[0];
    if (shipped === undefined) throw new Error('no shipped variant');
    const event = signedEvent();
    await timeNode(['-r', probe, '-e', script('verifier', shipped.verifier.file, event)], lambdaEnvironment(endpoint, SHIPPED_NODE_OPTIONS));
    if (aws.sent === undefined) throw new Error('the verifier sent nothing');
    const records = sqsEvent(aws.sent);

    interface Job {
      readonly row: number;
      readonly fn: FunctionName | typeof DELIVERY | 'baseline';
      readonly args: string[];
      readonly env: NodeJS.ProcessEnv;
    }
    const baseEnv = lambdaEnvironment(endpoint, '');
    const jobs: Job[] = [{ row: -1, fn: 'baseline', args: ['-r', probe, '-e', '0'], env: baseEnv }];
    VARIANTS.forEach((variant, row) => {
      for (const fn of FUNCTIONS) {
        const request = variant.firstRequest === true ? (fn === 'verifier' ? event : records) : undefined;
        const file = bundles[row]?.[fn].file ?? '';
        jobs.push({ row, fn, args: ['-r', probe, '-e', script(fn, file, request)], env: lambdaEnvironment(endpoint, variant.nodeOptions) });
      }
    });
    const deliveryEnv = deliveryEnvironment(endpoint);
    jobs.push({ row: -2, fn: DELIVERY, args: ['-r', probe, '-e', `require(${JSON.stringify(delivery.file)});`], env: deliveryEnv });
    const runs = jobs.map(() => [] as Run[]);
    for (const job of jobs) await timeNode(job.args, job.env); // warm-up: file cache
    for (let round = 0; round < rounds; round++) {
      // Rotate the order so no variant always follows the same one.
      for (let k = 0; k < jobs.length; k++) {
        const index = (k + round) % jobs.length;
        const job = jobs[index];
        if (job !== undefined) runs[index]?.push(await timeNode(job.args, job.env));
      }
    }
    const baselineMs = median((runs[0] ?? []).map((r) => r.wallMs));
    const baselineCpuMs = median((runs[0] ?? []).map((r) => r.cpuMs));
    const stat = (row: number, fn: FunctionName | typeof DELIVERY): { medianMs: number; ratio: number; cpuRatio: number } => {
      const index = jobs.findIndex((j) => j.row === row && j.fn === fn);
      const measured = runs[index] ?? [];
      const medianMs = median(measured.map((r) => r.wallMs));
      return { medianMs, ratio: medianMs / baselineMs, cpuRatio: median(measured.map((r) => r.cpuMs)) / baselineCpuMs };
    };
    const variants: VariantResult[] = VARIANTS.map((variant, row) => {
      const v = stat(row, 'verifier');
      const p = stat(row, 'processor');
      return {
        label: variant.label,
        shipped: variant.bundling === BUNDLING && variant.nodeOptions === SHIPPED_NODE_OPTIONS,
        bytes: { verifier: bundles[row]?.verifier.bytes ?? 0, processor: bundles[row]?.processor.bytes ?? 0 },
        ratio: { verifier: v.ratio, processor: p.ratio },
        cpuRatio: { verifier: v.cpuRatio, processor: p.cpuRatio },
        medianMs: { verifier: v.medianMs, processor: p.medianMs },
      };
    });

    const network: Record<string, string[]> = {};
    const probes = [...FUNCTIONS.map((fn) => ({ fn, load: script(fn, shipped[fn].file, undefined), env: baseEnv })), { fn: DELIVERY, load: `require(${JSON.stringify(delivery.file)});`, env: deliveryEnv }];
    for (const { fn, load, env } of probes) {
      const code = `${load} setTimeout(() => {}, 300);`;
      const run = await new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['-r', networkProbe, '-e', code], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        child.on('close', () => resolve(stderr));
      });
      const line = run.split('\n').find((l) => l.startsWith('NETWORK')) ?? 'NETWORK[]';
      network[fn] = JSON.parse(line.slice('NETWORK'.length)) as string[];
    }

    const init = variants
      .filter((v) => v.label.startsWith('as shipped'))
      .flatMap((v) => FUNCTIONS.map((fn) => ({ label: `${fn}, ${v.label}`, medianMs: v.medianMs[fn], ratio: v.ratio[fn] })));
    const deliveryInit = stat(-2, DELIVERY);
    init.push({ label: `${DELIVERY} (http destination), as shipped`, medianMs: deliveryInit.medianMs, ratio: deliveryInit.ratio });
    return {
      target: esbuildTarget(RUNTIME),
      rounds,
      baselineMs,
      baselineCpuMs,
      bundles: [...FUNCTIONS.map((fn) => ({ name: fn, bytes: shipped[fn].bytes, top: topModules(shipped[fn].metafile) })), { name: DELIVERY, bytes: delivery.bytes, top: topModules(delivery.metafile) }],
      variants,
      init,
      network,
    };
  } finally {
    await aws.stop();
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchColdStart(Number(process.env.ROUNDS ?? 11))
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
