import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { destinationSchema } from '../../lambda/config/destinations';
import { webhookIdOf, type DeliveryEvent } from '../../lambda/delivery/contract';
import { createHttpTarget } from '../../lambda/delivery/http';
import { parseConfig } from '../../lib/config-file';
import { UsageError } from '../../local/cli';
import { eventLine, parseReceiveArgs, type Receiver, receiverSecrets, startReceiver } from '../../local/receive';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const SECRET = 'whsec_aG9va2dhdGUtbG9jYWwtZGV2LXNlY3JldC0zMmJ5dGU=';
const OLD_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const CONTEXT = { attempt: 1, timeoutMs: 5000 };

const event = (overrides: Partial<DeliveryEvent> = {}): DeliveryEvent => ({
  source: 'stripe',
  destination: 'billing',
  dedupeKey: 'stripe:evt_1',
  eventType: 'payment_intent.succeeded',
  typeSigned: true,
  receivedAt: '2026-12-01T12:00:00.000Z',
  body: Buffer.from('{"id":"evt_1"}'),
  headers: { 'content-type': 'application/json' },
  ...overrides,
});

/** hookgate's own http target, pointed at the receiver. */
function deliverTo(receiver: Receiver, secrets: readonly string[] = [SECRET]): ReturnType<typeof createHttpTarget> {
  const parsed = destinationSchema.parse({ type: 'http', url: `${receiver.url}/hooks`, secrets: [...secrets] });
  if (parsed.type !== 'http') throw new Error('not an http destination');
  return createHttpTarget({ destination: { ...parsed, name: 'billing', source: 'stripe' }, signingSecrets: async () => secrets, allowHttp: true, allowLoopback: true });
}

describe('the local receiver', () => {
  let receiver: Receiver;
  let lines: string[];
  const start = async (options: Omit<Parameters<typeof startReceiver>[0], 'secrets' | 'print'> & { readonly secrets?: readonly string[] } = {}): Promise<Receiver> => {
    receiver = await startReceiver({ secrets: [SECRET], ...options, print: (line) => lines.push(line) });
    return receiver;
  };
  beforeEach(() => {
    lines = [];
  });
  afterEach(() => receiver.close());

  it("verifies hookgate's signature with the reference library, answers 204 and prints one line per event, without the body", async () => {
    await start();

    const result = await deliverTo(receiver).deliver(event(), CONTEXT);

    expect(result).toMatchObject({ verdict: 'delivered', statusCode: 204 });
    expect(receiver.events).toEqual([
      expect.objectContaining({ id: webhookIdOf('stripe:evt_1'), source: 'stripe', eventType: 'payment_intent.succeeded', verified: true, status: 204, body: event().body }),
    ]);
    expect(lines).toEqual([`verified ${webhookIdOf('stripe:evt_1')} source=stripe type=payment_intent.succeeded 14 bytes -> 204`]);
  });

  it('names a replay, and prints the body only when asked (non-UTF-8 bytes in base64)', async () => {
    await start({ printBody: true });
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80]);

    await deliverTo(receiver).deliver(event({ replayId: 'rpl_7' }), CONTEXT);
    await deliverTo(receiver).deliver(event({ body: bytes, eventType: undefined, dedupeKey: 'stripe:evt_2' }), CONTEXT);

    expect(lines).toEqual([
      `verified ${webhookIdOf('stripe:evt_1')} source=stripe type=payment_intent.succeeded replay=rpl_7 14 bytes -> 204`,
      '{"id":"evt_1"}',
      `verified ${webhookIdOf('stripe:evt_2')} source=stripe 4 bytes -> 204`,
      `(base64) ${bytes.toString('base64')}`,
    ]);
  });

  it('verifies under any of its secrets, so a rotation can be tried', async () => {
    await start({ secrets: [OLD_SECRET] });
    expect(await deliverTo(receiver, [SECRET, OLD_SECRET]).deliver(event(), CONTEXT)).toMatchObject({ verdict: 'delivered' });
  });

  it('refuses an unsigned request or one signed with another secret with a 401', async () => {
    await start();

    const unsigned = await fetch(`${receiver.url}/hooks`, { method: 'POST', body: '{}' });
    const forged = await deliverTo(receiver, [OTHER_SECRET]).deliver(event(), CONTEXT);

    expect(unsigned.status).toBe(401);
    expect(forged).toMatchObject({ verdict: 'reject', statusCode: 401 });
    expect(receiver.events.map((e) => e.verified)).toEqual([false, false]);
    expect(lines).toEqual(['refused (no webhook-id) 2 bytes -> 401', `refused ${webhookIdOf('stripe:evt_1')} source=stripe type=payment_intent.succeeded 14 bytes -> 401`]);
  });

  it('answers a forced status, to try retries, and still says whether the signature verified', async () => {
    await start({ status: 503 });

    const result = await deliverTo(receiver).deliver(event(), CONTEXT);

    expect(result).toMatchObject({ verdict: 'retry', errorClass: 'http-503' });
    expect(receiver.events).toEqual([expect.objectContaining({ verified: true, status: 503 })]);
  });

  it('keeps the last events only', async () => {
    await start({ keepEvents: 2 });
    const target = deliverTo(receiver);

    for (const key of ['a', 'b', 'c']) await target.deliver(event({ dedupeKey: key }), CONTEXT);

    expect(receiver.events.map((e) => e.id)).toEqual([webhookIdOf('b'), webhookIdOf('c')]);
    expect(lines).toHaveLength(3);
  });

  it('needs a secret', async () => {
    await expect(startReceiver({ secrets: [] })).rejects.toThrow(UsageError);
    await start();
  });

  it('formats a line from the event alone', () => {
    expect(eventLine({ verified: false, status: 401, body: Buffer.alloc(3), headers: {} })).toBe('refused (no webhook-id) 3 bytes -> 401');
  });
});

describe('npm run receive arguments', () => {
  it('defaults to port 4000, the local config, no forced status and no body', () => {
    expect(parseReceiveArgs([])).toEqual({ port: 4000, config: 'config/local.json', body: false });
  });

  it('takes every flag, --secret more than once', () => {
    expect(parseReceiveArgs(['--port', '4100', '--secret', SECRET, '--secret', OLD_SECRET, '--config', 'c.json', '--status', '500', '--body'])).toEqual({
      port: 4100,
      secrets: [SECRET, OLD_SECRET],
      config: 'c.json',
      status: 500,
      body: true,
    });
  });

  it.each<[string[], RegExp]>([
    [['--status', '99'], /--status must be an HTTP status from 100 to 599/],
    [['--status', 'ok'], /--status must be an HTTP status/],
    [['--port', 'x'], /--port must be a port number/],
    [['--prot', '1'], /Unknown option '--prot'/],
  ])('refuses %j', (args, message) => {
    expect(() => parseReceiveArgs(args)).toThrow(UsageError);
    expect(() => parseReceiveArgs(args)).toThrow(message);
  });
});

describe("the secrets of the config's destinations on the port", () => {
  const second = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
  const config = parseConfig(
    {
      sources: {
        stripe: {
          provider: 'stripe',
          secrets: ['whsec_local'],
          destinations: {
            billing: { type: 'http', url: 'http://127.0.0.1:4000/hooks', secrets: [SECRET, second] },
            audit: { type: 'http', url: 'http://localhost:4000/audit', secrets: [SECRET] },
            other: { type: 'http', url: 'http://127.0.0.1:4001/', secrets: [OLD_SECRET] },
            remote: { type: 'http', url: 'https://hooks.example.com:4000/', secretName: 'hookgate/local/out' },
            bus: { type: 'eventbridge', busName: 'b' },
          },
        },
        github: { provider: 'github', secrets: ['s'], destinations: { ipv6: { type: 'http', url: 'http://[::1]:4000/', secrets: [OTHER_SECRET] } } },
      },
    },
    'local',
  );

  it('takes the inline secrets of http destinations pointing at a loopback host on that port, once each', () => {
    expect(receiverSecrets(config, 4000)).toEqual([SECRET, second, OTHER_SECRET]);
    expect(receiverSecrets(config, 4001)).toEqual([OLD_SECRET]);
    expect(receiverSecrets(config, 4002)).toEqual([]);
  });
});

describe('bin/receive.ts', () => {
  it('starts a receiver that prints what it gets', async () => {
    const child = spawn(TSX, ['bin/receive.ts', '--port', '0', '--secret', SECRET], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      while (!/receiving on (\S+)/.test(output)) await once(child.stdout, 'data');
      const url = /receiving on (\S+)/.exec(output)![1]!;

      const response = await fetch(url, { method: 'POST', body: 'hi' });
      while (!output.includes('refused')) await once(child.stdout, 'data');

      expect(response.status).toBe(401);
      expect(output).toContain('refused (no webhook-id) 2 bytes -> 401');
    } finally {
      child.kill();
    }
  }, 20_000);

  it('says what to do when no destination of the config points at the port', async () => {
    const child = spawn(TSX, ['bin/receive.ts', '--port', '4999'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number];

    expect(code).toBe(1);
    expect(errors).toContain('no http destination in config/local.json points at port 4999 with inline secrets; pass --secret whsec_...');
  }, 20_000);
});
