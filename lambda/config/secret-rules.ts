/**
 * What a usable secret looks like, per provider: one rule set for inline secrets (checked by the
 * schema at config time) and Secrets Manager values (checked by the verifier when it loads them),
 * so a value refused in a config file is never accepted from a secret, nor the reverse.
 *
 * Pure and dependency-free: messages say which rule is broken and never echo the value.
 */

/**
 * The base64 of a Standard Webhooks secret, with or without `whsec_` (the standardwebhooks and
 * svix libraries accept the bare form too). The same shape lambda/signatures/providers/standard.ts reads.
 */
const STANDARD_SECRET = /^(?:whsec_)?([A-Za-z0-9+/]+={0,2})$/;

/**
 * Least decoded key length of a Standard Webhooks secret. The spec recommends 24 to 64 random
 * bytes; 16 bytes (128 bits) is the floor below which a key is guessable offline from one signed
 * request. `whsec_A` decodes to nothing and `whsec_AB` to a single byte: both would "verify".
 */
export const MIN_STANDARD_KEY_BYTES = 16;

/** The rule one secret of `provider` breaks, as "must ..." (the caller names the field), or undefined. */
export function secretProblem(provider: string, secret: string): string | undefined {
  if (secret.length === 0) return 'must be a non-empty string';
  if (provider !== 'standard') return undefined;
  const encoded = STANDARD_SECRET.exec(secret)?.[1];
  // Four base64 characters carry three bytes: a lone trailing character carries none and is a typo.
  if (encoded === undefined || encoded.replace(/=+$/, '').length % 4 === 1) {
    return 'must be base64, optionally prefixed whsec_, for provider standard';
  }
  if (Buffer.from(encoded, 'base64').length < MIN_STANDARD_KEY_BYTES) {
    return `must decode to at least ${MIN_STANDARD_KEY_BYTES} bytes (128 bits) for provider standard; the spec recommends 24 to 64 random bytes`;
  }
  return undefined;
}

/** The rule a verify token breaks, or undefined: a present token must not be empty (an empty one answers any handshake). */
export function verifyTokenProblem(verifyToken: string): string | undefined {
  return verifyToken.length === 0 ? 'must be a non-empty string' : undefined;
}

/**
 * Every rule a source's secret values break, each naming its field (`secrets[1] must ...`,
 * `verifyToken must ...`); empty when they are usable.
 */
export function secretProblems(provider: string, secrets: readonly string[], verifyToken?: string): string[] {
  const problems: string[] = [];
  if (secrets.length === 0) problems.push('secrets must list at least one secret');
  secrets.forEach((secret, index) => {
    const problem = secretProblem(provider, secret);
    if (problem !== undefined) problems.push(`secrets[${index}] ${problem}`);
  });
  const tokenProblem = verifyToken === undefined ? undefined : verifyTokenProblem(verifyToken);
  if (tokenProblem !== undefined) problems.push(`verifyToken ${tokenProblem}`);
  return problems;
}
