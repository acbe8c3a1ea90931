import ipaddr from 'ipaddr.js';

/**
 * Which network addresses an outbound delivery may connect to: the SSRF guard's address rules.
 * The same rules run when a config loads (a URL whose host is a literal address) and at every
 * delivery attempt (every address the host resolved to), so they live in one place.
 *
 * Ranges come from ipaddr.js, which follows the IANA special-purpose registries. IPv4-mapped and
 * IPv4-compatible IPv6 forms, and NAT64 (64:ff9b::/96) addresses, are judged by the IPv4 address
 * they carry, so `::ffff:169.254.169.254` is refused like `169.254.169.254`.
 */

/** Why an address is refused; a short code for metrics, the history and errors. */
export type AddressRefusal =
  | 'metadata'
  | 'link-local'
  | 'loopback'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'private'
  | 'invalid';

/** What a destination allows beyond public unicast addresses. */
export interface AddressPolicy {
  /** The destination's `allowPrivateNetwork`: RFC 1918, carrier-grade NAT and IPv6 unique local addresses. */
  readonly allowPrivateNetwork: boolean;
  /** Local mode only (never set by the stack): loopback addresses, for a receiver on 127.0.0.1. */
  readonly allowLoopback: boolean;
}

/** The instance metadata service (IMDS) addresses: refused whatever a destination allows. */
export const METADATA_ADDRESSES: readonly string[] = ['169.254.169.254', 'fd00:ec2::254'];

const PRIVATE_RANGES: ReadonlySet<string> = new Set(['private', 'carrierGradeNat', 'uniqueLocal']);
const REFUSED_RANGES: ReadonlyMap<string, AddressRefusal> = new Map([
  ['linkLocal', 'link-local'],
  ['loopback', 'loopback'],
  ['unspecified', 'unspecified'],
  ['multicast', 'multicast'],
  ['broadcast', 'reserved'],
]);

function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  if (range === 'ipv4Mapped') return address.toIPv4Address();
  // 64:ff9b::/96 (RFC 6052 NAT64): the last 32 bits are the IPv4 destination.
  if (range === 'rfc6052' && address.match(ipaddr.IPv6.parse('64:ff9b::'), 96)) {
    const parts = address.parts;
    return ipaddr.IPv4.parse(`${parts[6]! >> 8}.${parts[6]! & 0xff}.${parts[7]! >> 8}.${parts[7]! & 0xff}`);
  }
  return undefined;
}

/**
 * Why `address` must not be connected to under `policy`, or undefined when it may be. Anything
 * that is not public unicast and not an allowed private or loopback range is refused
 * (reserved, documentation, benchmarking, 6to4, Teredo and other special ranges).
 */
export function addressRefusal(address: string, policy: AddressPolicy): AddressRefusal | undefined {
  if (!ipaddr.isValid(address)) return 'invalid';
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') parsed = embeddedIPv4(parsed as ipaddr.IPv6) ?? parsed;
  const normalized = parsed.toNormalizedString();
  if (METADATA_ADDRESSES.some((m) => ipaddr.parse(m).toNormalizedString() === normalized)) return 'metadata';
  const range = parsed.range();
  if (range === 'unicast') return undefined;
  if (range === 'loopback' && policy.allowLoopback) return undefined;
  if (PRIVATE_RANGES.has(range)) return policy.allowPrivateNetwork ? undefined : 'private';
  return REFUSED_RANGES.get(range) ?? 'reserved';
}

/** True when `host` (a URL's hostname, IPv6 in brackets or not) is an IP literal rather than a name. */
export function literalAddress(host: string): string | undefined {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return ipaddr.isValid(bare) && (ipaddr.IPv4.isValidFourPartDecimal(bare) || bare.includes(':')) ? bare : undefined;
}
