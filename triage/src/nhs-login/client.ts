import type { JWTPayload } from 'jose';
import { isValidNhsNumber } from '@gpc/contracts';
import type { NhsLoginIdentity } from '../db/nhs-login';
import { OidcRelyingParty, type RelyingPartySettings } from '../oidc/relying-party';

/**
 * The service as an NHS login partner (relying party): authorization code flow with PKCE (S256),
 * `private_key_jwt` client authentication (RS512, as NHS login asks), the ID token verified against
 * the issuer's published keys (signature, `iss`, `aud`, `exp`, `nonce`), then userinfo.
 */

/** NHS login's issuer, our client id and key, and the redirect URI registered with NHS login (`…/nhs-login/callback`). */
export type NhsLoginSettings = RelyingPartySettings;

/** Why a sign-in could not be used; `failed` and `unavailable` are logged (without patient details). */
export class NhsLoginError extends Error {
  override name = 'NhsLoginError';
  constructor(
    readonly reason: 'failed' | 'not-verified' | 'unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The scopes asked for: `profile` for the NHS number, surname, date of birth and proofing level,
 * `profile_extended` for the first name (staff greet and check patients by it). */
export const nhsLoginScope = 'openid profile profile_extended';
/** P9 or P5, whatever the way of signing in (NHS login's vectors of trust). */
export const nhsLoginVtr = JSON.stringify(['P9.Cp.Cd', 'P9.Cp.Ck', 'P9.Cm', 'P5.Cp.Cd', 'P5.Cp.Ck', 'P5.Cm']);

export class NhsLoginClient {
  private readonly party: OidcRelyingParty;

  constructor(settings: NhsLoginSettings) {
    this.party = new OidcRelyingParty(settings, {
      service: 'NHS login',
      scope: nhsLoginScope,
      // RS512, as NHS login signs
      idTokenAlgorithm: 'RS512',
      error: (reason, message, options) => new NhsLoginError(reason, message, options),
    });
  }

  /** NHS login's issuer identifier. */
  get issuer(): string {
    return this.party.issuer;
  }

  /** Where to send the browser to sign in: P9 or P5, whatever the way of signing in. */
  authorizationUrl(request: { state: string; nonce: string; codeChallenge: string }): Promise<URL> {
    return this.party.authorizationUrl(request, { vtr: nhsLoginVtr });
  }

  /**
   * Exchanges the code (with the PKCE verifier and a client assertion), checks the ID token, reads
   * userinfo, and returns who the patient is. Throws `NhsLoginError`.
   */
  async signIn(callback: { code: string; codeVerifier: string; nonce: string }): Promise<NhsLoginIdentity> {
    const { idToken, userinfo } = await this.party.signIn(callback);
    if (userinfo.sub !== idToken.sub) throw new NhsLoginError('failed', 'userinfo is for another subject');
    return identityFrom(idToken, userinfo);
  }
}

/**
 * The patient's identity from the ID token (signed) and userinfo: a claim in both must agree. The
 * proofing level is the signed `vot`'s (P9.Cp.Cd → P9); `identity_proofing_level`, when given, must
 * say the same. P0 (no NHS number, no check against PDS) is not enough for this service.
 */
export function identityFrom(idToken: JWTPayload, userinfo: Record<string, unknown>): NhsLoginIdentity {
  const claim = (name: string): string | undefined => {
    const signed = idToken[name];
    const read = userinfo[name];
    if (signed !== undefined && read !== undefined && signed !== read)
      throw new NhsLoginError('failed', `the ID token and userinfo disagree on ${name}`);
    const value = signed ?? read;
    return typeof value === 'string' ? value.trim() : undefined;
  };
  const vot = typeof idToken.vot === 'string' ? idToken.vot : '';
  const level = /^(P0|P5|P9)(\.|$)/.exec(vot)?.[1];
  if (!level) throw new NhsLoginError('failed', 'the ID token has no vector of trust (vot)');
  const stated = claim('identity_proofing_level');
  if (stated !== undefined && stated !== level)
    throw new NhsLoginError('failed', 'identity_proofing_level disagrees with the vector of trust');
  if (level === 'P0') throw new NhsLoginError('not-verified', 'identity not verified (P0)');
  const nhsNumber = claim('nhs_number');
  const birthDate = claim('birthdate');
  const familyName = claim('family_name');
  const givenName = claim('given_name');
  if (!nhsNumber || !isValidNhsNumber(nhsNumber))
    throw new NhsLoginError('not-verified', 'no valid NHS number in the claims');
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}$/.test(birthDate))
    throw new NhsLoginError('not-verified', 'no date of birth in the claims');
  if (!familyName || !givenName || familyName.length > 100 || givenName.length > 100)
    throw new NhsLoginError('not-verified', 'no usable name in the claims');
  return {
    subject: String(idToken.sub),
    nhsNumber,
    givenName,
    familyName,
    birthDate,
    proofingLevel: level as 'P5' | 'P9',
    vot,
  };
}
