import { type NamedSource, type NamedSourceInput, namedSource } from '../../lambda/config/schema';
import { ConfigError, parseConfig } from '../../lib/config-file';

/**
 * A source as a config file would give it, defaults applied by the schema. Tests that pass secret
 * values some other way (a verify context, inline loaders) give none, so such a source names a
 * Secrets Manager secret, as a deployed one does.
 */
export function testSource(input: NamedSourceInput): NamedSource {
  return namedSource(input.secrets === undefined && input.secretName === undefined ? { ...input, secretName: `hookgate/test/${input.name}` } : input);
}

/** The problems a config would be refused with, in order; none when it parses. */
export function problemsOf(raw: unknown, environment: string): readonly string[] {
  try {
    parseConfig(raw, environment);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}
