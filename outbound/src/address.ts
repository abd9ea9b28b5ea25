// Which IP addresses the service may connect to when a practice's admins chose the place: public
// unicast only. Loopback, private, link-local, unique-local, shared (CGNAT), multicast, reserved and
// cloud metadata addresses are refused, so a practice setting can never reach inside our network.
// See: RFC 6890 (special-purpose address registries); OWASP SSRF Prevention Cheat Sheet.
import ipaddr from 'ipaddr.js';

/** Why an address is refused; `undefined` from the check means it is a public address. */
export type AddressRefusal =
  | 'not-an-address'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'shared'
  | 'multicast'
  | 'unspecified'
  | 'reserved';

/** What a member of staff is told, after "… is not allowed: ". */
export const refusalText: Record<AddressRefusal, string> = {
  'not-an-address': 'it is not an IP address',
  loopback: 'it is a loopback address (this server itself)',
  private: 'it is a private network address',
  'link-local': 'it is a link-local address',
  metadata: 'it is a cloud metadata address',
  shared: 'it is a shared (carrier-grade NAT) address',
  multicast: 'it is a multicast or broadcast address',
  unspecified: 'it is the unspecified address',
  reserved: 'it is a reserved or special-purpose address',
};

/**
 * Cloud providers' instance metadata and host services. Most sit in ranges refused anyway
 * (169.254.0.0/16, fd00::/8, 100.64.0.0/10); Azure's wire server is a public address, named here.
 */
const metadataAddresses = new Set([
  '169.254.169.254', // AWS, GCP, Azure IMDS, OpenStack, DigitalOcean, Oracle
  '169.254.170.2', // AWS ECS task metadata
  '169.254.169.123', // AWS time sync
  '168.63.129.16', // Azure wire server
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud (classic)
  'fd00:ec2::254', // AWS IMDS over IPv6
  'fd00:ec2::123',
]);

const byRange: Record<string, AddressRefusal> = {
  // IPv4 (ipaddr.js range names)
  unspecified: 'unspecified',
  broadcast: 'multicast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'shared',
  private: 'private',
  // IPv6
  uniqueLocal: 'private',
};

/**
 * Classifies an IP address (v4, v6, or v4-mapped v6, which counts as the v4 address it maps).
 * `undefined`: a public unicast address. Anything ipaddr.js does not call `unicast` is refused:
 * what is not named above (documentation, benchmarking, 6to4, Teredo, NAT64, …) as `reserved`.
 */
export function classifyAddress(address: string): AddressRefusal | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(bare)) return 'not-an-address';
  // process(): an IPv4-mapped IPv6 address (::ffff:127.0.0.1) becomes the IPv4 address it is
  const parsed = ipaddr.process(bare);
  const normal = parsed.toNormalizedString();
  if (metadataAddresses.has(parsed.kind() === 'ipv6' ? parsed.toString() : normal)) return 'metadata';
  const range = parsed.range();
  if (range === 'unicast') return undefined;
  return byRange[range] ?? 'reserved';
}

export interface AddressPolicy {
  /** Development and tests: loopback addresses (and plain http) are allowed; nothing else is. */
  allowLoopbackHttp: boolean;
}

/** Why `address` may not be connected to under `policy`; `undefined` when it may. */
export function addressRefusal(address: string, policy: AddressPolicy): AddressRefusal | undefined {
  const refusal = classifyAddress(address);
  return refusal === 'loopback' && policy.allowLoopbackHttp ? undefined : refusal;
}
