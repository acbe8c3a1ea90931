import { join } from 'node:path';
import { namedSources } from '../../lambda/config/schema';
import { parseConfig } from '../../lib/config-file';
import { startLocal } from '../../local/app';
import { UsageError } from '../../local/cli';
import { loadEntryHandlers, localDestinationProblems } from '../../local/destinations';

/** What local mode refuses to run, before anything starts (the running loop: test/e2e/destinations.test.ts). */

const ROOT = join(__dirname, '..', '..');
const SIGNING = 'whsec_ZTJlLWRlc3RpbmF0aW9ucy1zaWduaW5nLXNlY3JldA==';

const config = parseConfig(
  {
    sources: {
      orders: {
        provider: 'token',
        secrets: ['local_orders_token'],
        header: 'x-webhook-token',
        destinations: {
          bus: { type: 'eventbridge', busName: 'clinical-events' },
          fn: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ehr' },
          vault: { type: 'http', url: 'https://billing.example/hooks', secretName: 'hookgate/test/out/vault' },
          ok: { type: 'http', url: 'http://127.0.0.1:4000/hooks', secrets: [SIGNING] },
        },
      },
    },
  },
  'test',
);

describe('local mode destinations', () => {
  it('names every destination that needs AWS (eventbridge, functionArn, secretName) and nothing else', () => {
    const problems = localDestinationProblems(namedSources(config));
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^destination orders\/bus: eventbridge destinations need AWS/);
    expect(problems[1]).toMatch(/^destination orders\/fn: a lambda destination with functionArn needs AWS/);
    expect(problems[2]).toMatch(/^destination orders\/vault: local mode needs inline secrets/);
  });

  it('refuses to start with them, as a UsageError listing each', async () => {
    const started = startLocal({ config, port: 0 });
    await expect(started).rejects.toBeInstanceOf(UsageError);
    await expect(started).rejects.toThrow(/orders\/bus[\s\S]*orders\/fn[\s\S]*orders\/vault/);
  });

  it('loads an entry module\'s handlers, and says which destination\'s entry is missing or exports none', async () => {
    const handlers = await loadEntryHandlers('test/e2e/fixtures/team-handlers.ts', ROOT, 'destination a/b');
    expect(typeof handlers.resolve('any', undefined)).toBe('function');
    await expect(loadEntryHandlers('test/e2e/fixtures/nope.ts', ROOT, 'destination a/b')).rejects.toThrow(/^destination a\/b: entry test\/e2e\/fixtures\/nope.ts could not be loaded/);
    await expect(loadEntryHandlers('test/e2e/providers.ts', ROOT, 'destination a/b')).rejects.toThrow('destination a/b: entry test/e2e/providers.ts does not export handlers');
  });
});
