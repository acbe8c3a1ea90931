/**
 * Reads a JSON object from the raw body. Only ever called AFTER the signature verified: the
 * bytes that are signed and queued stay untouched; this only looks for ids and types.
 * @returns the object, or `undefined` when the body is not a JSON object
 */
export function parseJsonObject(body: Buffer): Readonly<Record<string, unknown>> | undefined {
  // Cheap guard: skip the UTF-8 decode and the parse for bodies that cannot be a JSON object.
  let first = 0;
  while (first < body.length && (body[first] === 0x20 || body[first] === 0x0a || body[first] === 0x0d || body[first] === 0x09)) first++;
  if (body[first] !== 0x7b /* { */) return undefined;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A string field of a parsed object, or `undefined`. */
export function stringField(object: Readonly<Record<string, unknown>> | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === 'string' ? value : undefined;
}
