/**
 * What of an error may be logged: its class name, never its message. An SDK error or user code
 * may quote the payload or a secret in the message; the class name is what on-call reads.
 */
export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

/** Names along an error's cause chain, outermost first, at most `depth` of them. */
export function errorNames(err: unknown, depth = 4): string[] {
  const names: string[] = [];
  let current: unknown = err;
  while (current instanceof Error && names.length < depth) {
    names.push(current.name);
    current = current.cause;
  }
  return names;
}
