import { join } from 'node:path';
import { namedSources } from '../../lambda/config/schema';
import { problemsOf as problemsFor } from './sources';
import { loadConfig, parseConfig } from '../../lib/config-file';

const root = join(__dirname, '..', '..');

const problemsOf = (raw: unknown, environment = 'dev'): readonly string[] => problemsFor(raw, environment);

describe('config files shipped with the project', () => {
  it.each(['local', 'dev', 'prod'])('config/%s.json is valid', (env) => {
    const config = loadConfig(join(root, 'config', `${env}.json`), env);
    expect(namedSources(config).length).toBeGreaterThan(0);
  });

  it('deployed examples hold no secret values', () => {
    for (const env of ['dev', 'prod']) {
      for (const source of namedSources(loadConfig(join(root, 'config', `${env}.json`), env))) {
        expect(source.secrets).toBeUndefined();
        expect(source.secretName).toMatch(new RegExp(`^hookgate/${env}/`));
      }
    }
  });
});

describe('config validation names the field', () => {
  const ok = { provider: 'github', secretName: 'hookgate/dev/github' };

  it.each<[string, unknown, RegExp]>([
    ['unknown provider', { sources: { a: { provider: 'paypal', secretName: 'x' } } }, /sources\.a\.provider must be one of/],
    ['empty secret list', { sources: { a: { provider: 'github', secrets: [] } } }, /sources\.a\.secrets must be a non-empty list/],
    ['no secret at all', { sources: { a: { provider: 'github' } } }, /sources\.a\.secrets must list at least one secret/],
    ['both secrets and secretName', { sources: { a: { provider: 'github', secrets: ['s'], secretName: 'n' } } }, /either secrets or secretName/],
    ['standard secret not base64', { sources: { a: { provider: 'standard', secrets: ['not base64!'] } } }, /^sources\.a\.secrets\[0\] must be base64, optionally prefixed whsec_/],
    ['standard secret decoding to nothing (whsec_A)', { sources: { a: { provider: 'standard', secrets: ['whsec_A'] } } }, /^sources\.a\.secrets\[0\] must be base64/],
    ['standard secret decoding to one byte (whsec_AB)', { sources: { a: { provider: 'standard', secrets: ['whsec_AB'] } } }, /^sources\.a\.secrets\[0\] must decode to at least 16 bytes/],
    ['standard secret of 15 bytes', { sources: { a: { provider: 'standard', secrets: [`whsec_${Buffer.alloc(15, 7).toString('base64')}`] } } }, /^sources\.a\.secrets\[0\] must decode to at least 16 bytes/],
    ['second standard secret weak', { sources: { a: { provider: 'standard', secrets: [`whsec_${Buffer.alloc(24, 7).toString('base64')}`, 'whsec_AB'] } } }, /^sources\.a\.secrets\[1\] must decode to at least 16 bytes/],
    ['empty secret of another provider', { sources: { a: { provider: 'github', secrets: [''] } } }, /^sources\.a\.secrets\[0\] must be a non-empty string$/],
    ['empty meta verifyToken', { sources: { a: { provider: 'meta', secrets: ['s'], verifyToken: '' } } }, /^sources\.a\.verifyToken must be a non-empty string$/],
    ['maxBodyBytes API Gateway cannot deliver', { sources: { a: { provider: 'github', secrets: ['s'], maxBodyBytes: 5 * 1024 * 1024 } } }, /^sources\.a\.maxBodyBytes must be a whole number from 1 to 4613734 \(Lambda's 6 MB invocation payload holds about 4\.4 MiB/],
    ['twilio maxBodyBytes API Gateway cannot deliver', { sources: { a: { provider: 'twilio', secrets: ['s'], maxBodyBytes: 5 * 1024 * 1024 } } }, /^sources\.a\.maxBodyBytes must be a whole number from 1 to 4613734/],
    ['token source without a location', { sources: { a: { provider: 'token', secrets: ['t'] } } }, /exactly one token location/],
    ['token source with two locations', { sources: { a: { provider: 'token', secrets: ['t'], header: 'x-t', query: 't' } } }, /exactly one token location/],
    ['token location on another provider', { sources: { a: { ...ok, header: 'x-t' } } }, /sources\.a\.header only applies to provider token/],
    ['hmac source without options', { sources: { a: { provider: 'hmac', secrets: ['s'] } } }, /sources\.a\.hmac must be an object/],
    ['hmac algorithm unknown', { sources: { a: { provider: 'hmac', secrets: ['s'], hmac: { header: 'x-sig', algorithm: 'md5' } } } }, /sources\.a\.hmac\.algorithm/],
    ['hmac template without body', { sources: { a: { provider: 'hmac', secrets: ['s'], hmac: { header: 'x-sig', template: '{timestamp}' } } } }, /must be a string containing \{body\}/],
    ['hmac template timestamp without header', { sources: { a: { provider: 'hmac', secrets: ['s'], hmac: { header: 'x-sig', template: '{timestamp}.{body}' } } } }, /timestampHeader is not set/],
    ['bad source name', { sources: { 'Bad Name': ok } }, /sources\.Bad Name: the source name/],
    ['unknown source field', { sources: { a: { ...ok, tolerance: 5 } } }, /sources\.a\.tolerance is not a known field/],
    ['negative tolerance', { sources: { a: { ...ok, toleranceSeconds: -1 } } }, /sources\.a\.toleranceSeconds/],
    ['publicUrl not a URL', { sources: { a: { ...ok, publicUrl: 'hooks.example.com' } } }, /sources\.a\.publicUrl must be an absolute/],
    ['bad CIDR', { sources: { a: { ...ok, allowedIps: ['10.0.0.300/8'] } } }, /sources\.a\.allowedIps\[0\]/],
    ['maxConcurrency below Lambda minimum', { sources: { a: { ...ok, maxConcurrency: 1 } } }, /sources\.a\.maxConcurrency/],
    ['verifyToken on a non-meta source', { sources: { a: { provider: 'github', secrets: ['s'], verifyToken: 'v' } } }, /verifyToken only applies to provider meta/],
    ['no sources', { sources: {} }, /sources must be an object with at least one source/],
    ['rate window not allowed by WAF', { sources: { a: ok }, rateLimit: { windowSeconds: 30 } }, /rateLimit\.windowSeconds/],
    ['log retention not a CloudWatch period', { sources: { a: ok }, logRetentionDays: 10 }, /logRetentionDays/],
    ['alarm email malformed', { sources: { a: ok }, alarms: { email: 'oncall' } }, /alarms\.email/],
    ['unknown top-level field', { sources: { a: ok }, sorces: {} }, /sorces is not a known field/],
  ])('rejects %s', (_name, raw, expected) => {
    expect(problemsOf(raw)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it.each([
    ['a 16-byte key with whsec_', `whsec_${Buffer.alloc(16, 7).toString('base64')}`],
    ['a bare 24-byte base64 key', Buffer.alloc(24, 7).toString('base64')],
    ['an unpadded 32-character key', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
  ])('accepts a standard source with %s', (_name, secret) => {
    expect(problemsOf({ sources: { a: { provider: 'standard', secrets: [secret] } } }, 'local')).toEqual([]);
  });

  it('accepts a maxBodyBytes of exactly 4.4 MiB', () => {
    expect(problemsOf({ sources: { a: { provider: 'github', secrets: ['s'], maxBodyBytes: 4613734 } } }, 'local')).toEqual([]);
  });

  it('never echoes a refused secret in a problem', () => {
    const problems = problemsOf({ sources: { a: { provider: 'standard', secrets: ['whsec_AB', 'whsec_zz!'] } } }, 'local');
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toMatch(/AB|zz!/);
  });

  it('rejects inline secrets in a deployed environment but accepts them locally', () => {
    const raw = { sources: { a: { provider: 'github', secrets: ['s'] } } };

    expect(problemsOf(raw, 'prod')).toEqual([expect.stringMatching(/sources\.a\.secrets: deployed environments must not hold secret values/)]);
    expect(problemsOf(raw, 'local')).toEqual([]);
  });

  it('collects every problem before throwing once, naming the environment', () => {
    const raw = { sources: { a: { provider: 'paypal' }, b: { provider: 'github', secrets: [''] } } };

    expect(() => parseConfig(raw, 'staging')).toThrow(/config\/staging\.json is invalid/);
    expect(problemsOf(raw).length).toBeGreaterThanOrEqual(3);
  });

  it('reports a file that is not JSON with its path', () => {
    expect(() => loadConfig(join(root, 'package-lock.json.missing'), 'dev')).toThrow(/cannot read/);
  });
});
