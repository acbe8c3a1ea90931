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
