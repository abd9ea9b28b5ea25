import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'oidc-provider';
import { pino, type Logger } from 'pino';
import { cis2Issuer } from './cis2';
import type { MountedIssuer } from './mount';
import { nhsLoginIssuer, type ClientRegistration } from './nhs-login';

/**
 * A local OpenID provider standing in for the NHS's identity services, one issuer per path on one
 * HTTP server: `/nhs-login` (patients) and `/cis2` (NHS CIS2, staff), each with its own clients.
 */

export interface OidcProviderOptions {
  /** Where the server is reached, e.g. `http://127.0.0.1:8105`: each issuer is this and its path. */
  publicUrl: string;
  /** The partner services registered with `/nhs-login`. */
  nhsLogin: { clients: readonly ClientRegistration[] };
  /** The relying parties registered with `/cis2` (staff sign-in); none when absent. */
  cis2?: { clients: readonly ClientRegistration[]; signingKeys?: JWK[] };
  /** `/nhs-login`'s private signing keys (RSA, RS512); a fresh key when absent. `/cis2`'s (RS256) are `cis2.signingKeys`. */
  signingKeys?: JWK[];
  logger?: Logger;
}

export interface OidcProviderApp {
  /** Issuer identifiers by name, e.g. `issuers.nhsLogin` = `http://127.0.0.1:8105/nhs-login`. */
  issuers: { nhsLogin: string; cis2: string };
  handle(request: IncomingMessage, response: ServerResponse): void;
}

/** An RSA signing key for RS512 (NHS login) or RS256 (CIS2), as a private JWK with its key id. */
export async function generateSigningKey(alg: 'RS512' | 'RS256' = 'RS512'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg, use: 'sig' };
}

/** Builds every issuer; answers requests under their paths, 404 elsewhere. */
export async function buildOidcProvider(options: OidcProviderOptions): Promise<OidcProviderApp> {
  const logger = options.logger ?? pino({ name: 'local-oidc-provider' });
  const signingKeys = options.signingKeys ?? [await generateSigningKey()];
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const publicUrl = options.publicUrl.replace(/\/$/, '');
  const publicHost = new URL(publicUrl).host;
  const nhsLogin = nhsLoginIssuer({ publicUrl, clients: options.nhsLogin.clients, signingKeys, cookieKeys });
  const cis2 = cis2Issuer({
    publicUrl,
    clients: options.cis2?.clients ?? [],
    signingKeys: options.cis2?.signingKeys ?? [await generateSigningKey('RS256')],
    cookieKeys,
  });
  const mounted: MountedIssuer[] = [nhsLogin, cis2];
  return {
    issuers: { nhsLogin: nhsLogin.issuer, cis2: cis2.issuer },
    handle(request, response) {
      const path = (request.url ?? '/').split('?')[0]!;
      const issuer = mounted.find(
        (candidate) => path === candidate.path || path.startsWith(`${candidate.path}/`),
      );
      if (!issuer) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      // endpoints are named from the request's host: the public one, whatever way the request came
      request.headers.host = publicHost;
      issuer.handle(request, response).catch((error: unknown) => {
        logger.error({ err: error, path }, 'local OIDC provider failed a request');
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end('server error');
      });
    },
  };
}

export interface RunningOidcProvider extends OidcProviderApp {
  server: Server;
  /** `http://host:port` */
  url: string;
  close(): Promise<void>;
}

/**
 * Listens on `host:port` (port 0: a free one), then builds the issuers with the address it got, or
 * with `publicUrl` when it is reached through something else (e.g. a proxy).
 */
export async function startLocalOidcProvider(
  options: Omit<OidcProviderOptions, 'publicUrl'> & { host?: string; port?: number; publicUrl?: string },
): Promise<RunningOidcProvider> {
  // the issuers need the address the server gets: requests before they are built are told so
  const built: { app?: OidcProviderApp } = {};
  const server = createServer((request, response) => {
    if (built.app) built.app.handle(request, response);
    else response.writeHead(503, { 'content-type': 'text/plain' }).end('starting');
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  const app = await buildOidcProvider({ ...options, publicUrl: options.publicUrl ?? url });
  built.app = app;
  return {
    ...app,
    server,
    url,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
