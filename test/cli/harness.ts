import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { runCli, type CliDeps } from '../../cli/main';
import { type LocalState, localStatePath } from '../../cli/targets/local';

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
