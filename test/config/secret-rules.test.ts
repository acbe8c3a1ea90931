import { MIN_STANDARD_KEY_BYTES, secretProblem, secretProblems } from '../../lambda/config/secret-rules';

const key = (bytes: number): string => Buffer.alloc(bytes, 0x5a).toString('base64');

describe('secret rules', () => {
  it('refuses an empty secret for every provider', () => {
    for (const provider of ['stripe', 'github', 'twilio', 'meta', 'standard', 'hmac', 'token']) {
      expect(secretProblem(provider, '')).toBe('must be a non-empty string');
    }
  });

  it('accepts any non-empty secret for providers whose secret is an opaque string', () => {
    expect(secretProblem('stripe', 'whsec_A')).toBeUndefined();
    expect(secretProblem('github', 'x')).toBeUndefined();
  });

  it.each([
    ['whsec_ (nothing to decode)', 'whsec_'],
    ['whsec_A (decodes to an empty key)', 'whsec_A'],
    ['a value with characters outside base64', 'whsec_abc def'],
    ['base64url characters', `whsec_${key(24).replace(/\+/g, '-')}-_`],
  ])('refuses a standard secret that is not base64: %s', (_name, secret) => {
    expect(secretProblem('standard', secret)).toMatch(/^must be base64, optionally prefixed whsec_/);
  });

  it.each([
    ['whsec_AB (one zero byte)', 'whsec_AB'],
    ['15 bytes', `whsec_${key(15)}`],
    ['15 bytes without prefix', key(15)],
  ])('refuses a standard key shorter than 16 bytes: %s', (_name, secret) => {
    expect(secretProblem('standard', secret)).toMatch(/^must decode to at least 16 bytes/);
  });

  it('accepts standard keys of 16 bytes or more, with or without whsec_', () => {
    expect(MIN_STANDARD_KEY_BYTES).toBe(16);
    for (const secret of [`whsec_${key(16)}`, key(16), `whsec_${key(24)}`, key(64), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']) {
      expect(secretProblem('standard', secret)).toBeUndefined();
    }
  });

  it('names the field of each broken rule and never the value', () => {
    const problems = secretProblems('standard', [`whsec_${key(24)}`, 'whsec_AB', 'whsec_!!'], '');
    expect(problems).toEqual([
      expect.stringMatching(/^secrets\[1\] must decode to at least 16 bytes/),
      expect.stringMatching(/^secrets\[2\] must be base64/),
      'verifyToken must be a non-empty string',
    ]);
    expect(problems.join('\n')).not.toMatch(/AB|!!/);
  });

  it('refuses an empty list and an empty verify token, and accepts a usable meta secret without a token', () => {
    expect(secretProblems('meta', [])).toEqual(['secrets must list at least one secret']);
    expect(secretProblems('meta', ['app-secret'], '')).toEqual(['verifyToken must be a non-empty string']);
    expect(secretProblems('meta', ['app-secret'])).toEqual([]);
    expect(secretProblems('meta', ['app-secret'], 'token')).toEqual([]);
  });
});
