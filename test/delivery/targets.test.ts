import { lazyTarget } from '../../lambda/delivery/targets';
import type { AttemptResult, DeliveryEvent, Target } from '../../lambda/delivery/contract';

const event: DeliveryEvent = {
  source: 'stripe',
  destination: 'billing',
  dedupeKey: 'stripe:evt_1',
  typeSigned: true,
  receivedAt: '2026-12-01T00:00:00.000Z',
  body: Buffer.from('{}'),
  headers: {},
};
const context = { attempt: 1, timeoutMs: 1000 };
const delivered: AttemptResult = { verdict: 'delivered', statusCode: 204, latencyMs: 1 };

describe('lazyTarget', () => {
  it('builds the target on the first attempt only, once for concurrent attempts', async () => {
    let loads = 0;
    const inner: Target = { deliver: async () => delivered };
    const target = lazyTarget(async () => {
      loads += 1;
      return inner;
    });
    expect(loads).toBe(0);
    const results = await Promise.all([target.deliver(event, context), target.deliver(event, context), target.deliver(event, context)]);
    expect(results).toEqual([delivered, delivered, delivered]);
    await target.deliver(event, context);
    expect(loads).toBe(1);
  });

  it('fails the attempt when the load fails, and loads again on the next attempt', async () => {
    let loads = 0;
    const target = lazyTarget(async () => {
      loads += 1;
      if (loads === 1) throw new Error('load failed');
      return { deliver: async () => delivered };
    });
    await expect(target.deliver(event, context)).rejects.toThrow('load failed');
    await expect(target.deliver(event, context)).resolves.toEqual(delivered);
    expect(loads).toBe(2);
  });
});
