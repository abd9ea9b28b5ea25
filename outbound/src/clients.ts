// The guard plugged into each client we use for practice-configured places: an undici dispatcher
// for `fetch`, http(s) agents for axios, and a socket factory for nodemailer. None follows a
// redirect: each caller sets `redirect: 'manual'` / `maxRedirects: 0` and treats 3xx as a refusal.
import http from 'node:http';
import https from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Agent, buildConnector } from 'undici';
import { guardedConnect, literalRefusal, guardedLookup, type OutboundPolicy } from './guard';

/**
 * A dispatcher for `fetch(url, { dispatcher, redirect: 'manual' })`: each connection's address is
 * checked (the lookup the socket uses, or the IP literal), and plain http is refused unless the
 * deployment allows it to loopback.
 */
export function guardedDispatcher(
  policy: OutboundPolicy,
  options: {
    timeoutMs?: number;
    /** A client certificate (PEM) for mutual TLS, and the CA to trust instead of the system's (MESH). */
    tls?: { cert?: string; key?: string; ca?: string };
  } = {},
): Agent {
  const timeout = options.timeoutMs ? { timeout: options.timeoutMs } : {};
  const connectors = {
    plain: buildConnector({ lookup: guardedLookup(policy, true), ...timeout }),
    tls: buildConnector({ lookup: guardedLookup(policy, false), ...timeout, ...options.tls }),
  };
  return new Agent({
    connect: (connectOptions, callback) => {
      const plain = connectOptions.protocol !== 'https:';
      const refusal = literalRefusal(connectOptions.hostname, policy, plain);
      if (refusal) return callback(refusal, null);
      (plain ? connectors.plain : connectors.tls)(connectOptions, callback);
    },
  });
}

type ConnectionCallback = (error: Error | null, stream: Duplex) => void;

/** An https agent for axios whose every connection passes the guard. */
class GuardedHttpsAgent extends https.Agent {
  constructor(private readonly policy: OutboundPolicy) {
    super({ keepAlive: false });
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: ConnectionCallback,
  ): Duplex | null | undefined {
    const guard = guardedConnect(options.host ?? options.hostname, this.policy, false);
    if (guard instanceof Error) {
      callback?.(guard, undefined as unknown as Duplex);
      return undefined;
    }
    return super.createConnection({ ...options, ...guard }, callback);
  }
}

/** A plain-http agent for axios: loopback only, and only where the deployment allows it. */
class GuardedHttpAgent extends http.Agent {
  constructor(private readonly policy: OutboundPolicy) {
    super({ keepAlive: false });
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: ConnectionCallback,
  ): Duplex | null | undefined {
    const guard = guardedConnect(options.host ?? options.hostname, this.policy, true);
    if (guard instanceof Error) {
      callback?.(guard, undefined as unknown as Duplex);
      return undefined;
    }
    return super.createConnection({ ...options, ...guard }, callback);
  }
}

/**
 * axios settings for a practice-configured place: the guarded agents, no redirects, and no proxy
 * from the environment (a proxy would connect for us, past the guard).
 */
export function guardedAxiosConfig(policy: OutboundPolicy): {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  maxRedirects: 0;
  proxy: false;
} {
  return {
    httpAgent: new GuardedHttpAgent(policy),
    httpsAgent: new GuardedHttpsAgent(policy),
    maxRedirects: 0,
    proxy: false,
  };
}

/**
 * nodemailer's `getSocket`: the TCP connection to the SMTP relay, opened through the guard
 * (nodemailer then speaks SMTP over it, and upgrades it to TLS itself when `secure`). `plain`:
 * the relay is spoken to without TLS from the first byte (STARTTLS or none), which counts as
 * plain unless STARTTLS is required.
 */
export function guardedSmtpSocket(
  policy: OutboundPolicy,
  options: { plain: boolean; timeoutMs: number },
): (
  target: { host?: string; port?: number | string },
  callback: (error: Error | null, socket?: { connection: Socket }) => void,
) => void {
  return (target, callback) => {
    const guard = guardedConnect(target.host, policy, options.plain);
    if (guard instanceof Error) return callback(guard);
    const socket = netConnect({ host: target.host, port: Number(target.port ?? 25), ...guard });
    const timer = setTimeout(() => {
      socket.destroy(Object.assign(new Error('connection timed out'), { code: 'ETIMEDOUT' }));
    }, options.timeoutMs);
    const settle = (error: Error | null) => {
      clearTimeout(timer);
      socket.removeListener('error', settle);
      if (error) return callback(error);
      callback(null, { connection: socket });
    };
    socket.once('error', settle);
    socket.once('connect', () => settle(null));
  };
}
