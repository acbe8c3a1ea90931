import type { SourceConfig } from '../../lambda/config/types';

/**
 * The providers the end-to-end suite runs, as data: one row per provider. After the verify
 * branch merges (its `signRequest` signs every provider), add a row per provider here; every
 * end-to-end test runs for every row.
 */
export interface ProviderRow {
  /** Source name (URL path segment) and table label. */
  readonly name: string;
  /** The source as in a config file, with inline test secrets (the first one signs). */
  readonly source: SourceConfig & { readonly secrets: readonly string[] };
  readonly contentType: string;
  /**
   * A new event: its own id, `marker` somewhere in the body (the log check looks for it), and
   * exactly `size` bytes when given.
   */
  event(id: string, marker: string, size?: number): { readonly body: Buffer; readonly eventId?: string };
}

/**
 * A JSON body written by hand (odd spacing, non-ASCII, a trailing newline) so that any
 * parse-and-reserialize on the way would change the bytes; padded to `size` bytes when given.
 */
export function jsonBody(fields: Record<string, string | number>, size?: number): Buffer {
  const inner = Object.entries(fields).map(([k, v]) => `"${k}" :  ${JSON.stringify(v)}`).join(',\n  ');
  const build = (pad: string): Buffer => Buffer.from(`{ ${inner},\n  "note": "Zoë ✓ — naïve café", "pad": "${pad}" }\n`, 'utf8');
  const bare = build('');
  if (size === undefined) return bare;
  if (size < bare.length) throw new RangeError(`a body of ${size} bytes cannot hold the fields`);
  return build('x'.repeat(size - bare.length));
}

export const PROVIDER_ROWS: readonly ProviderRow[] = [
  {
    name: 'orders',
    source: { provider: 'token', secrets: ['e2e-orders-token-3f9a', 'e2e-orders-token-old'], header: 'X-Webhook-Token' },
    contentType: 'application/json',
    event: (id, marker, size) => ({ body: jsonBody({ id, event: 'order.created', marker }, size) }),
  },
];
