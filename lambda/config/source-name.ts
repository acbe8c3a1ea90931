/**
 * A source's name: its URL path segment and metric dimension. Kept apart from the schema so that
 * the processor, which needs nothing else of its source, reads its name without loading zod.
 */

export const SOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The source-name rule, as said where a bad name is reported. */
export const SOURCE_NAME_RULE = "the source name is its URL path segment: lowercase letters, digits and '-', at most 63";

/** Thrown when the functions' source JSON has no valid name; says which rule, never the value. */
export class SourceNameError extends Error {
  constructor() {
    super(`the source has no valid name: ${SOURCE_NAME_RULE}`);
    this.name = 'SourceNameError';
  }
}

/** The name of a source as the stack writes it (`HOOKGATE_SOURCE`, parsed JSON). */
export function sourceNameOf(source: unknown): string {
  const name = typeof source === 'object' && source !== null && 'name' in source ? source.name : undefined;
  if (typeof name !== 'string' || !SOURCE_NAME.test(name)) throw new SourceNameError();
  return name;
}
