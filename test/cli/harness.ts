import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runCli, type CliDeps } from '../../cli/main';
import { type LocalState, localStatePath } from '../../cli/targets/local';
import type { LocalStateSource } from '../../local/state';

/** What one run of the command printed, and its exit code. */
export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `hookgate <args>` in-process, capturing stdout and stderr. */
export async function run(args: readonly string[], deps: Omit<CliDeps, 'io'> = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(args, { ...deps, io: { out: (t) => void (out += t), err: (t) => void (err += t) }, sleep: deps.sleep ?? (() => Promise.resolve()) });
  return { code, out, err };
}

/** Writes a state file the way `npm start` does, under `cwd`. */
export function writeState(cwd: string, state: LocalState): string {
  const path = localStatePath(state.port, cwd);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(state, null, 2));
  return path;
}

/** What a test's state file varies: everything else is what `npm start` writes for the emulators of test/delivery/rig.ts. */
export interface StateOptions {
  readonly cwd: string;
  readonly port: number;
  /** dynalite's and fauxqs's endpoints (fauxqs serves S3 too). */
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string };
  readonly deliveryTable: string;
  readonly archiveBucket?: string;
  readonly sources: Readonly<Record<string, LocalStateSource>>;
  readonly keyFile?: string;
}

/** A state file's content for a local run on the test emulators; its audit file is `.hookgate/audit-<port>.jsonl` under `cwd`. */
export function emulatorState(options: StateOptions): LocalState {
  const { cwd, port, endpoints, deliveryTable, archiveBucket, sources, keyFile } = options;
  return {
    version: 1,
    pid: process.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    endpoints: { dynamodb: endpoints.dynamodb, sqs: endpoints.sqs, s3: endpoints.sqs },
    region: 'us-east-1',
    resources: { dedupeTable: 'hookgate-dedupe', deliveryTable, bucket: 'hookgate-payloads', ...(archiveBucket === undefined ? {} : { archiveBucket }), sources },
    auditFile: join(cwd, '.hookgate', `audit-${port}.jsonl`),
    ...(keyFile === undefined ? {} : { keyFile }),
  };
}
