// The one outbound guard: every connection to a place a practice's admins configured (GP system,
// token endpoint, GOV.UK Notify, SMTP relay) is checked here, at the address the socket actually
// connects to (the lookup the socket itself uses, or the IP literal it was given), so a name that
// resolves to an internal address, or resolves differently the second time, never gets through.
// See: OWASP Server-Side Request Forgery Prevention Cheat Sheet.
import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { addressRefusal, classifyAddress } from './address';
import { OutboundRefused } from './refusal';

/** What a deployment allows, from its configuration (RECORD_/TRIAGE_OUTBOUND_ALLOW_LOOPBACK_HTTP). */
export interface OutboundPolicy {
  /**
   * Development and tests only: a practice may use plain http (and SMTP without TLS) to a loopback
   * address, where the local stand-ins listen. Private, link-local and metadata addresses stay
   * refused, and plain http to anywhere but loopback too.
   */
  allowLoopbackHttp: boolean;
}

/** Production: https (or SMTP over TLS) to public addresses only. */
export const strictOutbound: OutboundPolicy = Object.freeze({ allowLoopbackHttp: false });

/**
 * Why a connection to `address` is refused; `undefined` when it may go ahead. `plain`: the
 * connection is not encrypted (http, SMTP without TLS), allowed only to loopback in development.
 */
export function connectionRefusal(
  address: string,
  policy: OutboundPolicy,
  plain: boolean,
): OutboundRefused | undefined {
  const refusal = addressRefusal(address, policy);
  if (refusal) return new OutboundRefused(refusal);
  if (plain && classifyAddress(address) !== 'loopback') return new OutboundRefused('plain-http');
  return undefined;
}

/**
 * A `dns.lookup` for sockets: resolves every address of the name and refuses the connection if any
 * of them is refused (so the socket cannot pick a good one now and a bad one on a retry).
 */
export function guardedLookup(policy: OutboundPolicy, plain: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, found) => {
      if (error) return callback(error, '');
      if (found.length === 0)
        return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '');
      for (const { address } of found) {
        const refusal = connectionRefusal(address, policy, plain);
        if (refusal) return callback(refusal, '');
      }
      if (options.all) return callback(null, found);
      callback(null, found[0]!.address, found[0]!.family);
    });
  };
}

/**
 * Node connects to an IP literal without a lookup: that is checked here instead. `undefined` for
 * a name (the guarded lookup checks what it resolves to) or an allowed address.
 */
export function literalRefusal(
  host: string | undefined | null,
  policy: OutboundPolicy,
  plain: boolean,
): OutboundRefused | undefined {
  const bare = (host ?? '').replace(/^\[|\]$/g, '');
  return isIP(bare) ? connectionRefusal(bare, policy, plain) : undefined;
}

/** Options for `net.connect`/`tls.connect` to `host`: the guarded lookup, or a refusal for a refused literal. */
export function guardedConnect(
  host: string | undefined | null,
  policy: OutboundPolicy,
  plain: boolean,
): { lookup: LookupFunction } | OutboundRefused {
  return literalRefusal(host, policy, plain) ?? { lookup: guardedLookup(policy, plain) };
}

/**
 * A URL a practice gave, checked before anything is sent: https (plain http only where the
 * deployment allows it), no credentials in it, and not an IP literal or name that is refused
 * anyway. The connection is checked again at its address: this is the early, clear refusal.
 */
export function checkOutboundUrl(value: string, policy: OutboundPolicy): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OutboundRefused('not-a-url');
  }
  if (url.protocol === 'http:') {
    if (!policy.allowLoopbackHttp) throw new OutboundRefused('plain-http');
  } else if (url.protocol !== 'https:') {
    throw new OutboundRefused('not-a-url');
  }
  if (url.username || url.password) throw new OutboundRefused('credentials-in-url');
  const refusal = checkHostName(url.hostname, policy, url.protocol === 'http:');
  if (refusal) throw refusal;
  return url;
}

/**
 * A host name or IP literal a practice gave (an SMTP host, a URL's host), checked without DNS:
 * a refused literal, or `localhost`, which names loopback. Names are checked again when resolved.
 */
export function checkHostName(
  host: string,
  policy: OutboundPolicy,
  plain: boolean,
): OutboundRefused | undefined {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) {
    return connectionRefusal('127.0.0.1', policy, plain);
  }
  return literalRefusal(name, policy, plain);
}
