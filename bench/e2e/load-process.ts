import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { LoadResult, LoadSpec } from '../load';
import { percentile } from '../stats';

const LOAD_SCRIPT = join(__dirname, '..', 'load.ts');

/** Runs bench/load.ts in a child process (see there why) and returns its one JSON line. */
export function runLoadProcess(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_SCRIPT, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${String(code)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as LoadResult);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/** Several load results of one phase as one: sums, the median p50/p90, the worst p99 and max. */
export function combine(parts: readonly LoadResult[]): LoadResult {
  const sum = (pick: (r: LoadResult) => number): number => parts.reduce((a, r) => a + pick(r), 0);
  return {
    requests: sum((r) => r.requests),
    ok2xx: sum((r) => r.ok2xx),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    seconds: sum((r) => r.seconds),
    p50: percentile(parts.map((r) => r.p50), 50),
    p90: percentile(parts.map((r) => r.p90), 50),
    p99: Math.max(...parts.map((r) => r.p99)),
    max: Math.max(...parts.map((r) => r.max)),
    cpuMs: sum((r) => r.cpuMs),
  };
}
