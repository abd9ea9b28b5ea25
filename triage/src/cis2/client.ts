import type { JWTPayload } from 'jose';
import { OidcRelyingParty, type RelyingPartySettings } from '../oidc/relying-party';
import type { NrbacRoleClaim } from './roles';

/**
 * The service as an NHS CIS2 Authentication relying party, for staff sign-in: authorization code
 * flow with PKCE (S256), `private_key_jwt` client authentication (RS512), `acr_values` for the
 * assurance level, the ID token verified against CIS2's published keys (RS256: signature, `iss`,
 * `aud`, `azp`, `exp`, `nonce`, and an `acr` that meets what was asked), then userinfo for the
 * user's name and national RBAC roles. The shape of NHS login's client (nhs-login/client.ts).
 * See: https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers
 */

/** CIS2's issuer, our client id and key, the redirect URI registered with CIS2 (`…/auth/cis2/callback`), and the assurance asked for. */
export interface Cis2Settings extends RelyingPartySettings {
  /** `acr_values` asked for: `AAL3_ANY` or `AAL2_OR_AAL3_ANY`. */
  acrValues: string;
}

/** The `acr_values` this service may ask for. */
export const cis2AcrValuesPattern = '^(AAL3_ANY|AAL2_OR_AAL3_ANY)$';

/** Why a sign-in could not be used; the reason reaches the staff page, the message only the log. */
export class Cis2Error extends Error {
  override name = 'Cis2Error';
  constructor(
    readonly reason: 'failed' | 'assurance' | 'unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The user's name and national RBAC roles, as CIS2 gives them for these scopes. */
export const cis2Scope = 'openid profile nationalrbacaccess';

/**
 * The authenticator assurance level an `acr` value stands for: `AAL3_ANY`, `AAL3_SMARTCARD`… → 3,
 * `AAL2_OR_AAL3_ANY` (either) → 2, `AAL2_…` → 2; anything else → 0 (never enough).
 */
export function assuranceOf(acr: unknown): number {
  if (typeof acr !== 'string') return 0;
  if (acr === 'AAL2_OR_AAL3_ANY') return 2;
  const level = /^AAL([23])_[A-Z0-9_]+$/.exec(acr)?.[1];
  return level ? Number(level) : 0;
}

/** Who CIS2 says the member of staff is. */
export interface Cis2Identity {
  /** CIS2's user id: the ID token's subject, and `nhsid_useruid`. */
  uid: string;
  name: string;
  /** `nhsid_nrbac_roles` from userinfo. */
  roles: NrbacRoleClaim[];
  /** The ID token's `acr`. */
  acr: string;
}

export class Cis2Client {
  private readonly party: OidcRelyingParty;

  constructor(private readonly settings: Cis2Settings) {
    this.party = new OidcRelyingParty(settings, {
      service: 'CIS2',
      scope: cis2Scope,
      // RS256, as CIS2 signs
      idTokenAlgorithm: 'RS256',
      error: (reason, message, options) => new Cis2Error(reason, message, options),
    });
  }

  get issuer(): string {
    return this.party.issuer;
  }

  /** The `acr_values` a new sign-in asks for. */
  get acrValues(): string {
    return this.settings.acrValues;
  }

  /** Where to send the browser to sign in, asking for `acrValues`. */
  authorizationUrl(request: {
    state: string;
    nonce: string;
    codeChallenge: string;
    acrValues: string;
  }): Promise<URL> {
    const { acrValues, ...flow } = request;
    return this.party.authorizationUrl(flow, { acr_values: acrValues });
  }

  /**
   * Exchanges the code (with the PKCE verifier and a client assertion), checks the ID token
   * (including that its `acr` meets `acrValues`, what this sign-in asked for), reads userinfo, and
   * returns who the member of staff is. Throws `Cis2Error`.
   */
  async signIn(callback: {
    code: string;
    codeVerifier: string;
    nonce: string;
    acrValues: string;
  }): Promise<Cis2Identity> {
    const { acrValues, ...flow } = callback;
    const { idToken, userinfo } = await this.party.signIn(flow, (signed) => {
      const required = Math.min(...acrValues.split(' ').map(assuranceOf));
      if (!(required > 0) || assuranceOf(signed.acr) < required)
        throw new Cis2Error(
          'assurance',
          `the sign-in's acr (${String(signed.acr)}) does not meet ${acrValues}`,
        );
    });
    return identityFrom(idToken, userinfo);
  }
}

/** The member of staff from the ID token (signed) and userinfo: the same subject in both. */
export function identityFrom(idToken: JWTPayload, userinfo: Record<string, unknown>): Cis2Identity {
  const uid = String(idToken.sub);
  if (userinfo.sub !== uid) throw new Cis2Error('failed', 'userinfo is for another subject');
  if (userinfo.nhsid_useruid !== undefined && userinfo.nhsid_useruid !== uid)
    throw new Cis2Error('failed', 'nhsid_useruid disagrees with the subject');
  if (!/^[0-9A-Za-z-]{1,64}$/.test(uid)) throw new Cis2Error('failed', 'the subject is not a CIS2 user id');
  const given = typeof userinfo.given_name === 'string' ? userinfo.given_name : '';
  const family = typeof userinfo.family_name === 'string' ? userinfo.family_name : '';
  const name = (typeof userinfo.name === 'string' ? userinfo.name : `${given} ${family}`)
    .trim()
    .slice(0, 200);
  if (!name) throw new Cis2Error('failed', 'no name in the claims');
  const roles = userinfo.nhsid_nrbac_roles;
  if (roles !== undefined && !Array.isArray(roles))
    throw new Cis2Error('failed', 'nhsid_nrbac_roles is not a list');
  return {
    uid,
    name,
    roles: ((roles ?? []) as unknown[]).filter(
      (role): role is NrbacRoleClaim => typeof role === 'object' && role !== null,
    ),
    acr: String(idToken.acr),
  };
}
