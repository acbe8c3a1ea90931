/**
 * Case-insensitive header lookup: API Gateway keeps the sender's case, Node lowercases.
 * A header sent twice arrives comma-joined from Node; it is returned as given.
 */
export function header(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/**
 * Parses a `k=v,k=v` header (Stripe, Zoho): every value of every key, in order, trimmed.
 * Items without `=` are kept under the empty key so a caller can tell the header is malformed.
 */
export function keyValueList(value: string): ReadonlyMap<string, readonly string[]> {
  const entries = new Map<string, string[]>();
  for (const item of value.split(',')) {
    const eq = item.indexOf('=');
    const key = eq === -1 ? '' : item.slice(0, eq).trim();
    const values = entries.get(key) ?? [];
    values.push(eq === -1 ? item.trim() : item.slice(eq + 1).trim());
    entries.set(key, values);
  }
  return entries;
}
