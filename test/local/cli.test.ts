import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

// The tsx binary itself: it relays SIGTERM/SIGINT to the script and exits with its code (npx
// would not forward the signal, which is npm's business, not ours).
const TSX = join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
const ROOT = join(__dirname, '..', '..');

function start(args: string[]): ChildProcess {
  return spawn(TSX, ['bin/local.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr += d.toString('utf8')));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stderr };
}

describe('npm start (bin/local.ts)', () => {
  it('prints the ready line, every source URL and destination, writes the state file, serves, and exits 0 on SIGTERM, removing the state file', async () => {
    const child = start(['--port', '0']);
    const done = exited(child);
    const lines: string[] = [];
    const reader = createInterface({ input: child.stdout! });
    reader.on('line', (line) => lines.push(line));
    const deadline = Date.now() + 20_000;
    while (!lines.some((l) => l.startsWith('state ')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const statePath = join(ROOT, lines.find((l) => l.startsWith('state '))?.slice('state '.length) ?? '(none)');
    const stateMode = statSync(statePath).mode & 0o777;
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { pid: number; url: string; resources: { sources: Record<string, { destinations: object }> } };

    const ready = lines.find((l) => l.startsWith('hookgate local ready'));
    const urls = lines.filter((l) => l.startsWith('POST ')).map((l) => l.slice('POST '.length));
    const orders = urls.find((u) => u.endsWith('/webhooks/orders'))!;
    const unknown = await fetch(orders.replace('/orders', '/nope'), { method: 'POST', body: '{}' });
    child.kill('SIGTERM');
    const { code, signal } = await done;

    expect(ready).toBeDefined();
    const configured = Object.keys((JSON.parse(readFileSync(join(ROOT, 'config', 'local.json'), 'utf8')) as { sources: object }).sources);
    expect(urls.map((u) => u.split('/').pop()).sort()).toEqual(configured.sort());
    expect(orders).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/orders$/);
    expect(unknown.status).toBe(404);
    expect(code).toBe(0);
    expect(signal).toBeNull();
    expect(lines).toContain('hookgate local stopped');
    expect(lines.filter((l) => l.startsWith('DELIVER '))).toEqual([
      'DELIVER stripe/receiver (http) -> http://127.0.0.1:4000/hooks',
      'DELIVER github/receiver (http) -> http://127.0.0.1:4000/hooks',
    ]);
    expect(statePath).toBe(join(ROOT, '.hookgate', `local-${new URL(orders).port}.json`));
    expect(stateMode).toBe(0o600);
    expect(state.url).toBe(new URL(orders).origin);
    expect(Object.keys(state.resources.sources.stripe?.destinations ?? {})).toEqual(['receiver']);
    expect(existsSync(statePath)).toBe(false);
    await expect(fetch(orders, { method: 'POST', body: '{}' })).rejects.toThrow();
  }, 40_000);

  it('refuses an invalid config with exit 1 and messages that name each field, without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookgate-cli-'));
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ sources: { orders: { provider: 'token', secrets: [] }, Bad_Name: { provider: 'nope', secrets: ['x'] } } }));

    const { code, stderr } = await exited(start(['--config', config, '--port', '0']));

    expect(code).toBe(1);
    expect(stderr).toContain('sources.orders.secrets must be a non-empty list');
    expect(stderr).toContain('sources.Bad_Name.provider must be one of');
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 20_000);

  it('refuses an unknown flag and a bad port with exit 1, naming them', async () => {
    const [flag, port] = await Promise.all([exited(start(['--prot', '1'])), exited(start(['--port', 'http']))]);

    expect(flag.code).toBe(1);
    expect(flag.stderr).toContain("'--prot'");
    expect(port.code).toBe(1);
    expect(port.stderr).toContain('--port must be a port number');
    expect(`${flag.stderr}${port.stderr}`).not.toMatch(/\n\s+at /);
  }, 20_000);

  it('refuses a port in use with exit 1 and a hint to pass another --port', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as AddressInfo;

    const { code, stderr } = await exited(start(['--port', String(port)]));
    taken.close();

    expect(code).toBe(1);
    expect(stderr).toContain(`port ${port} is in use`);
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 20_000);
});
