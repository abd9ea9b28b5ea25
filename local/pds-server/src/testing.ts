import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { createPdsServer, PDS_BASE_PATH, TOKEN_PATH, type PdsServer, type PdsServerOptions } from './app';

/** An application's signing key for PDS: the private half as PEM, and the `kid` it is registered under. */
export interface PdsSigningKey {
  kid: string;
  privateKeyPem: string;
  /** The public half as a JWKS, as registered with the API platform. */
  jwks: { keys: Record<string, unknown>[] };
}

/** A fresh RS512 key pair for signing client assertions (4096 bits, as NHS asks; 2048 when `fast`). */
export async function generatePdsSigningKey(options: { fast?: boolean } = {}): Promise<PdsSigningKey> {
  const kid = `gpc-${randomUUID().slice(0, 8)}`;
  const { privateKey, publicKey } = await generateKeyPair('RS512', {
    modulusLength: options.fast ? 2048 : 4096,
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  return {
    kid,
    privateKeyPem: await exportPKCS8(privateKey),
    jwks: { keys: [{ ...publicJwk, kid, alg: 'RS512', use: 'sig' }] },
  };
}

export interface RunningLocalPds {
  /** e.g. http://127.0.0.1:41234/personal-demographics/FHIR/R4 */
  baseUrl: string;
  tokenUrl: string;
  apiKey: string;
  key: PdsSigningKey;
  pds: PdsServer;
  close(): Promise<void>;
}

/** The local PDS on a free port of 127.0.0.1, with an application and its key registered, for tests. */
export async function startLocalPds(
  options: Partial<Omit<PdsServerOptions, 'jwks'>> & { key?: PdsSigningKey } = {},
): Promise<RunningLocalPds> {
  const key = options.key ?? (await generatePdsSigningKey({ fast: true }));
  const apiKey = options.apiKey ?? `test-api-key-${randomUUID()}`;
  const pds = createPdsServer({ ...options, apiKey, jwks: key.jwks });
  await new Promise<void>((resolve) => pds.server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(pds.server.address() as AddressInfo).port}`;
  return {
    baseUrl: `${origin}${PDS_BASE_PATH}`,
    tokenUrl: `${origin}${TOKEN_PATH}`,
    apiKey,
    key,
    pds,
    close: () => pds.close(),
  };
}
