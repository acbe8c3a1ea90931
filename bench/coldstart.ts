/**
 * Cold start: bundle the two Lambda entry points with esbuild the way the stack's NodejsFunction
 * does (platform node, cjs, minify, bundle, source map), report bytes, and time module init as
 * `node -e "require(bundle)"` against `node -e 0`, interleaved, as a ratio of medians (process
 * start-up is most of both on a shared machine, so only the ratio is comparable across runs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { build, type Metafile } from 'esbuild';
import { ENV } from '../lambda/runtime/env';
import { median } from './stats';

const ROOT = join(__dirname, '..');

export interface Bundle {
  readonly name: string;
  readonly bytes: number;
  /** Bytes of the same entry with `@aws-sdk/*` left external (aws-cdk-lib's default for Node 18+). */
  readonly bytesSdkExternal: number;
  /** Largest packages in the bundle, bytes of output. */
  readonly top: readonly { readonly module: string; readonly bytes: number }[];
}

export interface InitTiming {
  readonly label: string;
  readonly medianMs: number;
  /** Median of this over the median of `node -e 0`. */
  readonly ratio: number;
}

export interface ColdStartResult {
  readonly target: string;
  readonly rounds: number;
  readonly baselineMs: number;
  readonly bundles: readonly Bundle[];
  readonly init: readonly InitTiming[];
  /** Sockets or DNS look-ups attempted during init and the following 300 ms (should be none). */
  readonly network: Readonly<Record<string, readonly string[]>>;
}

/** What the stack sets (lib/constructs/source-cell.ts), with dummy values: nothing is called. */
const LAMBDA_ENV: Readonly<Record<string, string>> = {
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_LAMBDA_FUNCTION_NAME: 'hookgate-bench',
  POWERTOOLS_SERVICE_NAME: 'hookgate',
  POWERTOOLS_METRICS_NAMESPACE: 'Hookgate/bench',
  [ENV.source]: JSON.stringify({ name: 'github', provider: 'github', secretName: 'hookgate/bench/github' }),
  [ENV.table]: 'hookgate-dedupe',
  [ENV.queueUrl]: 'https://sqs.us-east-1.amazonaws.com/000000000000/hookgate-github',
  [ENV.payloadBucket]: 'hookgate-payloads',
  [ENV.keyArn]: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000',
  [ENV.dedupeTtlDays]: '7',
};

/** Records every outbound connection attempt; preloaded with `-r` in the network check. */
const NETWORK_PROBE = `
const net = require('node:net'); const dns = require('node:dns'); const seen = [];
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) { seen.push('connect ' + JSON.stringify(args[0]).slice(0, 120)); return connect.apply(this, args); };
const lookup = dns.lookup;
dns.lookup = function (host, ...rest) { seen.push('dns ' + host); return lookup.call(this, host, ...rest); };
process.on('exit', () => process.stderr.write('NETWORK' + JSON.stringify(seen) + '\\n'));
`;

function packageOf(path: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return match?.[1] ?? path.replace(/\/[^/]+$/, '');
}

function topModules(metafile: Metafile, outfile: string): { module: string; bytes: number }[] {
  const output = Object.entries(metafile.outputs).find(([name]) => name.endsWith(outfile))?.[1];
  const sizes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const key = packageOf(input);
    sizes.set(key, (sizes.get(key) ?? 0) + bytesInOutput);
  }
  return [...sizes.entries()].map(([module, bytes]) => ({ module, bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, 6);
}

async function bundle(entry: string, outdir: string, name: string, target: string, sourcemap: 'external' | 'linked', external: string[] = []): Promise<{ file: string; bytes: number; metafile: Metafile }> {
  const file = join(outdir, `${name}.js`);
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    target,
    format: 'cjs',
    minify: true,
    sourcemap,
    external,
    metafile: true,
    logLevel: 'silent',
  });
  return { file, bytes: statSync(file).size, metafile: result.metafile };
}

function timeNode(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, [...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = performance.now() - started;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${run.stderr.toString('utf8').slice(0, 500)}`);
  return elapsed;
}

/**
 * @param rounds interleaved rounds; each spawns every variant once
 * @param target esbuild target (the stack's runtime is Node.js 24; the brief's is node22)
 */
export async function benchColdStart(rounds = 15, target = 'node22'): Promise<ColdStartResult> {
  const outdir = mkdtempSync(join(tmpdir(), 'hookgate-bench-'));
  try {
    const verifier = await bundle('lambda/verifier/index.ts', outdir, 'verifier', target, 'external');
    const processor = await bundle('lambda/processor/index.ts', outdir, 'processor', target, 'external');
    // As the stack ships it today: a linked map (sourceMap: true) and NODE_OPTIONS=--enable-source-maps.
    const linked = await bundle('lambda/verifier/index.ts', outdir, 'verifier-linked', target, 'linked');
    // The external SDK resolves through NODE_PATH (env below), as Lambda's runtime resolves its own copy.
    const verifierExt = await bundle('lambda/verifier/index.ts', outdir, 'verifier-ext', target, 'external', ['@aws-sdk/*']);
    const processorExt = await bundle('lambda/processor/index.ts', outdir, 'processor-ext', target, 'external', ['@aws-sdk/*']);
    const probe = join(outdir, 'probe.cjs');
    writeFileSync(probe, NETWORK_PROBE);

    const env = { PATH: process.env.PATH ?? '', NODE_PATH: join(ROOT, 'node_modules'), ...LAMBDA_ENV };
    // The verifier builds its clients on the first invocation; calling verifierFromEnv() counts
    // that work as init too, which is where it lands on a cold start.
    const verifierInit = `require(${JSON.stringify(verifier.file)}).verifierFromEnv()`;
    const variants: { label: string; args: string[] }[] = [
      { label: 'node -e 0', args: ['-e', '0'] },
      { label: 'verifier (require + verifierFromEnv)', args: ['-e', verifierInit] },
      { label: 'processor (require)', args: ['-e', `require(${JSON.stringify(processor.file)})`] },
      { label: 'verifier, linked map + --enable-source-maps (as the stack sets)', args: ['--enable-source-maps', '-e', `require(${JSON.stringify(linked.file)}).verifierFromEnv()`] },
      { label: 'verifier, @aws-sdk/* external (aws-cdk-lib default), SDK from node_modules', args: ['-e', `require(${JSON.stringify(verifierExt.file)}).verifierFromEnv()`] },
    ];
    const times = variants.map(() => [] as number[]);
    for (let i = 0; i < 2; i++) variants.forEach((v) => timeNode(v.args, env));
    for (let round = 0; round < rounds; round++) {
      // Rotate the order so no variant always follows the same one.
      for (let k = 0; k < variants.length; k++) {
        const index = (k + round) % variants.length;
        const variant = variants[index];
        if (variant !== undefined) times[index]?.push(timeNode(variant.args, env));
      }
    }
    const baselineMs = median(times[0] ?? []);
    const init = variants.slice(1).map((v, i) => {
      const medianMs = median(times[i + 1] ?? []);
      return { label: v.label, medianMs, ratio: medianMs / baselineMs };
    });

    const network: Record<string, string[]> = {};
    for (const [name, code] of [
      ['verifier', `${verifierInit}; setTimeout(() => {}, 300)`],
      ['processor', `require(${JSON.stringify(processor.file)}); setTimeout(() => {}, 300)`],
    ] as const) {
      const run = spawnSync(process.execPath, ['-r', probe, '-e', code], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      const line = run.stderr.toString('utf8').split('\n').find((l) => l.startsWith('NETWORK')) ?? 'NETWORK[]';
      network[name] = JSON.parse(line.slice('NETWORK'.length)) as string[];
    }

    return {
      target,
      rounds,
      baselineMs,
      bundles: [
        { name: 'verifier', bytes: verifier.bytes, bytesSdkExternal: verifierExt.bytes, top: topModules(verifier.metafile, 'verifier.js') },
        { name: 'processor', bytes: processor.bytes, bytesSdkExternal: processorExt.bytes, top: topModules(processor.metafile, 'processor.js') },
      ],
      init,
      network,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchColdStart()
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
