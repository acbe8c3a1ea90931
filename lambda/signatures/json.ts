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

/** How many bytes at each end of a body {@link edgeStringField} looks at. */
const EDGE_BYTES = 512;

/**
 * A top-level string field read from one edge of a JSON object, without parsing the body: the
 * object's first key (`{"id": "evt_..."`) or its last (`"type": "..."}` right before the final
 * brace). Only the outermost object's own key can stand at those places: a nested key is
 * followed by a second closing brace, and a key inside a string has escaped quotes. Values with
 * escapes are not read (`undefined`: the caller parses instead). Like {@link parseJsonObject},
 * only for bodies whose signature verified. Stripe events put `id` first and `type` last, so a
 * 256 KB event costs two regexes over 512 bytes instead of a full parse.
 */
export function edgeStringField(body: Buffer, key: string, edge: 'first' | 'last'): string | undefined {
  if (edge === 'first') {
    const head = body.subarray(0, EDGE_BYTES).toString('utf8');
    return leading(key).exec(head)?.[1];
  }
  const tail = body.subarray(Math.max(0, body.length - EDGE_BYTES)).toString('utf8');
  return trailing(key).exec(tail)?.[1];
}

const escapeKey = (key: string): string => key.replace(/[^A-Za-z0-9_]/g, (c) => `\\${c}`);
const leading = (key: string): RegExp => new RegExp(`^\\s*\\{\\s*"${escapeKey(key)}"\\s*:\\s*"([^"\\\\]{1,256})"`);
const trailing = (key: string): RegExp => new RegExp(`[{,]\\s*"${escapeKey(key)}"\\s*:\\s*"([^"\\\\]{1,256})"\\s*\\}\\s*$`);
