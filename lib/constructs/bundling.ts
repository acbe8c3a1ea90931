import { existsSync } from 'node:fs';
import { dirname, join, parse, resolve, sep } from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/** The newest Node.js LTS runtime aws-cdk-lib offers. */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * How every hookgate function is bundled (NodejsFunction's esbuild step). The cold-start bench
 * and the bundle tests build with exactly these, through {@link esbuildOptions}; the figures
 * behind each choice are in docs/performance.md (cold start).
 */
export const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.CJS,
  minify: true,
  // Error classes and functions keep their names: the logs name the error class
  // (`"errors":["QueueError"]`), which minified identifiers would turn into `zc`.
  keepNames: true,
  // ESM builds first: esbuild drops what is never imported (most of each SDK client's commands,
  // the ESDK's keyrings hookgate does not use), a third less code to parse at every cold start.
  mainFields: ['module', 'main'],
  // The SDK version tested here, not the runtime's copy, and tree-shaken with the rest.
  bundleAwsSDK: true,
  // No source map: with --enable-source-maps Node parses it at every cold start. Stack traces
  // keep function and class names (keepNames) and point into one minified file.
  sourceMap: false,
  // Local esbuild only: synth must work offline and without Docker.
  forceDockerBundling: false,
};

/** Environment variables that change how Node runs the bundle; merged into each function's. */
export const NODE_ENVIRONMENT: Readonly<Record<string, string>> = {};

/** The esbuild target NodejsFunction derives from a runtime (`nodejs24.x` -> `node24`). */
export function esbuildTarget(runtime: lambda.Runtime): string {
  const match = /^nodejs(\d+)/.exec(runtime.name);
  if (match === null) throw new Error(`not a Node.js runtime: ${runtime.name}`);
  return `node${match[1]}`;
}

/** The options of {@link BUNDLING} that {@link esbuildOptions} translates; any other one is refused. */
const TRANSLATED: ReadonlySet<string> = new Set(['format', 'minify', 'keepNames', 'mainFields', 'bundleAwsSDK', 'externalModules', 'sourceMap', 'sourcesContent', 'forceDockerBundling']);

/**
 * The esbuild build options that NodejsFunction runs for `bundling` on `runtime` (its
 * `--bundle --target --platform --format --minify --sourcemap --external --keep-names
 * --main-fields` arguments), for building the same bundle in-process. A stack test proves the
 * result is byte for byte the asset `cdk synth` stages.
 */
export function esbuildOptions(entry: string, outfile: string, bundling: nodejs.BundlingOptions = BUNDLING, runtime: lambda.Runtime = RUNTIME): BuildOptions {
  const unknown = Object.keys(bundling).filter((key) => !TRANSLATED.has(key));
  if (unknown.length > 0) throw new Error(`esbuildOptions does not translate ${unknown.join(', ')}`);
  // aws-cdk-lib's default on Node 18+ runtimes: the runtime provides @aws-sdk/*.
  const external = bundling.externalModules ?? (bundling.bundleAwsSDK === true ? [] : ['@aws-sdk/*']);
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    target: esbuildTarget(runtime),
    platform: 'node',
    ...(bundling.format !== undefined ? { format: bundling.format === nodejs.OutputFormat.ESM ? 'esm' : 'cjs' } : {}),
    minify: bundling.minify === true,
    sourcemap: bundling.sourceMap === true,
    sourcesContent: bundling.sourcesContent ?? true,
    external: [...external],
    keepNames: bundling.keepNames === true,
    ...(bundling.mainFields !== undefined ? { mainFields: [...bundling.mainFields] } : {}),
  };
}

/** The lock files NodejsFunction looks for, in its order. */
const LOCK_FILES = ['pnpm-lock.yaml', 'yarn.lock', 'bun.lockb', 'bun.lock', 'package-lock.json'];

/** The lock file NodejsFunction finds by default: in the nearest folder at or above `from` that holds one. */
export function findLockFile(from: string = process.cwd()): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const found = LOCK_FILES.map((name) => join(dir, name)).find((file) => existsSync(file));
    if (found !== undefined) return found;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The deepest folder holding every path given. */
export function commonFolder(paths: readonly string[]): string {
  const split = paths.map((path) => resolve(path).split(sep));
  const first = split[0] ?? [];
  let length = 0;
  while (length < first.length && split.every((parts) => parts[length] === first[length])) length += 1;
  return length <= 1 ? parse(resolve(paths[0] ?? '.')).root : first.slice(0, length).join(sep);
}

/**
 * NodejsFunction's `depsLockFilePath` and `projectRoot` for an entry. By default NodejsFunction
 * takes the project of the lock file above the working directory and refuses an entry outside
 * it; hookgate's entries may live elsewhere: in the package's folder when a team installs it
 * from a folder (`file:`, a symlink to outside the project), or in the cloud assembly folder
 * (a team's handlers module, handlers-entry.ts). The project root becomes the folder holding
 * both, which changes nothing for an entry inside the project. Local esbuild runs from there
 * (Docker bundling, the fallback without esbuild, would mount it). Without a lock file,
 * NodejsFunction's own error says what is missing.
 */
export function bundlingPaths(entry: string): Pick<nodejs.NodejsFunctionProps, 'depsLockFilePath' | 'projectRoot'> {
  const lockFile = findLockFile();
  if (lockFile === undefined) return {};
  return { depsLockFilePath: lockFile, projectRoot: commonFolder([dirname(lockFile), entry]) };
}
