import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namedSources } from '../../lambda/config/schema';
import { loadConfig } from '../../lib/config-file';
import type { EnvironmentConfig } from '../../lambda/config/schema';
import { type LocalApp, startLocal } from '../../local/app';
import { type Receiver, startReceiver } from '../../local/receive';
import { sendWebhook } from '../../local/send';
import type { SinkLine } from '../../local/sink';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const shipped = loadConfig(join(ROOT, 'config', 'local.json'), 'local');
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The shipped local config with its destinations' URLs moved from port 4000 to `receiver` (a free port). */
function pointedAt(config: EnvironmentConfig, receiver: Receiver): EnvironmentConfig {
  const sources = Object.fromEntries(
    Object.entries(config.sources).map(([name, source]) => {
      if (source.destinations === undefined) return [name, source];
      const destinations = Object.fromEntries(
        Object.entries(source.destinations).map(([dest, d]) => [dest, d.type === 'http' ? { ...d, url: d.url.replace('http://127.0.0.1:4000', receiver.url) } : d]),
      );
      return [name, { ...source, destinations }];
    }),
  );
  return { ...config, sources };
}

/** The inline signing secrets of every http destination of the config. */
const signingSecrets = (config: EnvironmentConfig): string[] =>
  namedSources(config).flatMap((s) => Object.values(s.destinations ?? {}).flatMap((d) => (d.type === 'http' ? (d.secrets ?? []) : [])));

describe('npm run send against npm start', () => {
  let app: LocalApp;
  let sinkFile: string;
  let receiver: Receiver;
  let config: EnvironmentConfig;
  beforeAll(async () => {
    sinkFile = join(mkdtempSync(join(tmpdir(), 'hookgate-send-')), 'sink.jsonl');
    receiver = await startReceiver({ secrets: signingSecrets(shipped), print: () => undefined });
    config = pointedAt(shipped, receiver);
    app = await startLocal({ config, port: 0, sink: sinkFile, waitTimeSeconds: 1, logger: () => silent });
  }, 30_000);
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  it('sends a sample every configured source accepts; each is processed, or delivered to npm run receive', async () => {
    const sources = namedSources(config);
    const processed = sources.filter((s) => s.destinations === undefined).map((s) => s.name);
    const delivered = sources.filter((s) => s.destinations !== undefined).map((s) => s.name);

    const results = await Promise.all(sources.map((source) => sendWebhook(source, { baseUrl: app.url })));
    const deadline = Date.now() + 15_000;
    let lines: SinkLine[] = [];
    while ((lines.length < processed.length || receiver.events.length < delivered.length) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      lines = readFileSync(sinkFile, 'utf8').split('\n').slice(0, -1).map((l) => JSON.parse(l) as SinkLine);
    }

    expect(results.map((r) => [r.status, (JSON.parse(r.body) as { status: string }).status])).toEqual(sources.map(() => [200, 'accepted']));
    expect(lines.map((l) => l.source).sort()).toEqual(processed.sort());
    expect(delivered.length).toBeGreaterThan(0);
    expect(receiver.events.map((e) => [e.source, e.verified, e.status]).sort()).toEqual(delivered.sort().map((name) => [name, true, 204]));
  }, 30_000);

  it('sends the exact bytes of a file, and the same bytes again are a duplicate', async () => {
    const orders = namedSources(config).find((s) => s.name === 'orders')!;
    const body = Buffer.from('{"id": "ord_file_1",\t"total" : 1}\n');

    const first = await sendWebhook(orders, { baseUrl: app.url, body });
    const second = await sendWebhook(orders, { baseUrl: app.url, body });

    expect(JSON.parse(first.body)).toMatchObject({ status: 'accepted' });
    expect(JSON.parse(second.body)).toMatchObject({ status: 'duplicate' });
  });

  it('routes a GET to the verifier, which answers the Meta subscription handshake', async () => {
    const query = new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.verify_token': 'local_meta_verify_token', 'hub.challenge': '1158201444' });

    const res = await fetch(`${app.url}/webhooks/whatsapp?${query.toString()}`);

    expect(res.status).toBe(200);
    expect(await res.text()).toBe('1158201444');
  });

  const run = async (args: string[]): Promise<{ code: number | null; out: string; err: string }> => {
    const child = spawn(TSX, ['bin/send.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (err += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, out, err };
  };

  it('prints the status and body and exits 0 on 2xx; exits 1 naming the sources for an unknown one', async () => {
    const [ok, unknown] = await Promise.all([run(['orders', '--url', app.url]), run(['nope', '--url', app.url])]);

    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^200 OK\n\{"id":"orders:hmac-sha256:[0-9a-f]{64}","status":"accepted"\}\n$/);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('unknown source "nope"');
    expect(unknown.err).toContain('orders');
  }, 20_000);

  it('says which URL it could not reach, with exit 1 and no stack trace', async () => {
    const { code, err } = await run(['orders', '--url', 'http://127.0.0.1:9']);

    expect(code).toBe(1);
    expect(err).toContain('cannot reach http://127.0.0.1:9');
    expect(err).not.toMatch(/\n\s+at /);
  }, 20_000);
});
