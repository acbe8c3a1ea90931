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
