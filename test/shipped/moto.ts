import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * moto_server (a Python program, not an npm package) as one local AWS for DynamoDB, SQS, S3,
 * KMS, Secrets Manager and STS. The suite refuses to run without it, with a message that says so.
 */

/** The account and region moto answers for (its defaults). */
export const MOTO_ACCOUNT = '123456789012';
export const MOTO_REGION = 'us-east-1';

export interface Moto {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** The moto_server command: `MOTO_SERVER` when set, else `moto_server` on the PATH. */
export function motoCommand(): string {
  return process.env.MOTO_SERVER ?? 'moto_server';
}

/** Throws a readable error when moto_server cannot be run. */
export function requireMoto(): void {
  const probe = spawnSync(motoCommand(), ['--help'], { stdio: 'ignore' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `moto_server is not installed: the shipped-bundle suite needs it (pip install 'moto[server]', version 5) ` +
        `on the PATH or named by MOTO_SERVER; npm test does not need it.`,
    );
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A pause that does not keep the process alive on its own. */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Starts moto_server on a free loopback port and waits until it answers. */
export async function startMoto(options: { readyTimeoutMs?: number } = {}): Promise<Moto> {
  requireMoto();
  const port = await freePort();
  const child: ChildProcess = spawn(motoCommand(), ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Keep only the tail: moto writes one access-log line per request.
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}: ${stderr}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} in time: ${stderr}`);
    }
    await sleep(100);
  }
  return {
    endpoint,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
