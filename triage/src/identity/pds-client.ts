// A client of the PDS FHIR R4 API in application-restricted mode: a bearer token got with a signed
// client assertion (RS512, cached until shortly before it expires), an X-Request-ID on every call,
// a timeout on every call. It never logs: what it is asked is patient data.
import { randomUUID } from 'node:crypto';
import { importJWK, importPKCS8, SignJWT, type CryptoKey, type JWK, type KeyObject } from 'jose';
import type { PdsPatientResource, PdsRead, PdsSearchMatch } from './classify';

export interface PdsSettings {
  /** e.g. https://int.api.service.nhs.uk/personal-demographics/FHIR/R4 */
  baseUrl: string;
  /** e.g. https://int.api.service.nhs.uk/oauth2/token */
  tokenUrl: string;
  apiKey: string;
  /** The application's private key: PKCS#8 PEM, or a JWK as JSON. */
  privateKey: string;
  /** The key's id as registered (the assertion's `kid`). */
  kid: string;
  /** Each call's timeout. Default 10 s. */
  timeoutMs?: number;
}

/** PDS could not answer now (network, timeout, 5xx, 408, 429, or a token refused): try again later. */
export class PdsUnavailable extends Error {
  override name = 'PdsUnavailable';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface PdsClient {
  /** `GET /Patient/{nhsNumber}`. */
  readPatient(nhsNumber: string): Promise<PdsRead>;
  /** `GET /Patient?family&given&birthdate=eq…&_exact-match=true`: the single unique match, or null. */
  searchExact(details: { familyName: string; givenName: string; birthDate: string }): Promise<PdsSearchMatch>;
}

interface CachedToken {
  token: string;
  /** When to stop using it: a minute before PDS says it expires. */
  useUntil: number;
}

// per PDS base, token URL and API key: one token serves every trace of this process
const tokens = new Map<string, Promise<CachedToken>>();

export function createPdsClient(settings: PdsSettings, now: () => number = Date.now): PdsClient {
  const timeoutMs = settings.timeoutMs ?? 10_000;
  const cacheKey = `${settings.baseUrl}|${settings.tokenUrl}|${settings.apiKey}`;
  let signingKey: Promise<CryptoKey | KeyObject | Uint8Array> | undefined;

  const assertion = async () => {
    signingKey ??= importSigningKey(settings.privateKey);
    const seconds = Math.floor(now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'RS512', typ: 'JWT', kid: settings.kid })
      .setIssuer(settings.apiKey)
      .setSubject(settings.apiKey)
      .setAudience(settings.tokenUrl)
      .setJti(randomUUID())
      .setExpirationTime(seconds + 180) // PDS refuses more than 5 minutes
      .sign(await signingKey);
  };

  const fetchToken = async (): Promise<CachedToken> => {
    const response = await call(settings.tokenUrl, timeoutMs, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(),
      }).toString(),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: string | number;
      error_description?: string;
    };
    if (!response.ok || !body.access_token) {
      throw new PdsUnavailable(
        `the PDS token endpoint refused our credentials (${response.status}${body.error_description ? `: ${body.error_description}` : ''})`,
      );
    }
    const lifetimeMs = Number(body.expires_in ?? 0) * 1000;
    return { token: body.access_token, useUntil: now() + Math.max(0, lifetimeMs - 60_000) };
  };

  const token = async (): Promise<string> => {
    const cached = tokens.get(cacheKey);
    if (cached) {
      const got = await cached.catch(() => undefined);
      if (got && got.useUntil > now()) return got.token;
      if (tokens.get(cacheKey) === cached) tokens.delete(cacheKey);
    }
    const fresh = fetchToken();
    tokens.set(cacheKey, fresh);
    fresh.catch(() => {
      if (tokens.get(cacheKey) === fresh) tokens.delete(cacheKey);
    });
    return (await fresh).token;
  };

  /** A GET with a token, tried again once with a fresh token if PDS says the token is no good. */
  const get = async (path: string): Promise<Response> => {
    for (let attempt = 1; ; attempt++) {
      const response = await call(`${settings.baseUrl}${path}`, timeoutMs, {
        headers: {
          authorization: `Bearer ${await token()}`,
          'x-request-id': randomUUID(),
          accept: 'application/fhir+json',
        },
      });
      if (response.status === 401 && attempt === 1) {
        tokens.delete(cacheKey);
        await response.body?.cancel();
        continue;
      }
      if (response.status === 408 || response.status === 429 || response.status >= 500) {
        await response.body?.cancel();
        throw new PdsUnavailable(`PDS answered ${response.status}`, retryAfter(response));
      }
      return response;
    }
  };

  return {
    async readPatient(nhsNumber) {
      const response = await get(`/Patient/${encodeURIComponent(nhsNumber)}`);
      // 400 INVALID_RESOURCE_ID: PDS holds no patient under a number it calls invalid
      if (response.status === 404 || response.status === 400) {
        await response.body?.cancel();
        return { kind: 'not_found' };
      }
      if (!response.ok) throw new PdsUnavailable(`PDS answered ${response.status}`);
      const patient = (await response.json()) as PdsPatientResource;
      if (patient.resourceType !== 'Patient')
        throw new PdsUnavailable('PDS answered with something other than a Patient');
      return { kind: 'found', patient };
    },
    async searchExact({ familyName, givenName, birthDate }) {
      const query = new URLSearchParams({
        family: familyName,
        given: givenName,
        birthdate: `eq${birthDate}`,
        '_exact-match': 'true',
      });
      const response = await get(`/Patient?${query.toString()}`);
      if (!response.ok) throw new PdsUnavailable(`PDS answered ${response.status} to a search`);
      const bundle = (await response.json()) as {
        resourceType?: string;
        entry?: { resource?: PdsPatientResource }[];
      };
      // application-restricted: a single unique match, or none (an OperationOutcome such as TOO_MANY_MATCHES too)
      if (bundle.resourceType !== 'Bundle') return null;
      const entries = bundle.entry ?? [];
      return entries.length === 1 ? (entries[0]!.resource ?? null) : null;
    },
  };
}

async function importSigningKey(privateKey: string): Promise<CryptoKey | KeyObject | Uint8Array> {
  const text = privateKey.trim();
  return text.startsWith('{') ? importJWK(JSON.parse(text) as JWK, 'RS512') : importPKCS8(text, 'RS512');
}

/** fetch with a timeout; a network failure or timeout is `PdsUnavailable`. */
async function call(url: string, timeoutMs: number, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const reason =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer in ${timeoutMs} ms`
        : 'could not connect';
    throw new PdsUnavailable(`PDS ${reason}`);
  }
}

function retryAfter(response: Response): number | undefined {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}
