import { isIP } from 'node:net';
import { Type } from '@sinclair/typebox';
import { ConfigError, envName } from '@gpc/contracts';

/**
 * The proxies in front of triage (TRIAGE_TRUSTED_PROXIES: comma-separated addresses or CIDRs, e.g.
 * `10.0.0.0/8,127.0.0.1`). Only a request arriving from one of them has its client address taken
 * from X-Forwarded-For (fastify's `trustProxy`), so rate limits count each client, not the proxy;
 * from anywhere else X-Forwarded-For is ignored, so a client cannot choose its own address. None by
 * default: the connecting address is the client.
 */
export const TrustedProxiesConfigFields = {
  trustedProxies: Type.Optional(Type.String({ minLength: 1 })),
};

/** The list, each entry checked; a malformed one stops the boot. */
export function trustedProxiesFrom(config: { trustedProxies?: string | undefined }): string[] {
  if (config.trustedProxies === undefined) return [];
  const entries = config.trustedProxies.split(',').map((entry) => entry.trim());
  const bad = entries.filter((entry) => !isAddressOrCidr(entry));
  if (bad.length > 0)
    throw new ConfigError(
      bad.map((entry) => `${envName('TRIAGE', 'trustedProxies')}: "${entry}" is not an IP address or CIDR`),
    );
  return entries;
}

function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^[0-9]{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}
