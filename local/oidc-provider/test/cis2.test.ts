import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { pino } from 'pino';
import { cis2TestUsers, startLocalOidcProvider, type RunningOidcProvider } from '../src/index';
import { signInByHttp } from '../src/testing';

const redirectUri = 'http://127.0.0.1:9/auth/cis2/callback';
const clientId = 'gp-consult-cis2-test';
const gp = cis2TestUsers.find((user) => user.uid === '555000000101')!;
const receptionist = cis2TestUsers.find((user) => user.uid === '555000000303')!;

const base64url = (bytes: Buffer) => bytes.toString('base64url');
const challengeOf = (verifier: string) => base64url(createHash('sha256').update(verifier).digest());

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
  scopes_supported: string[];
  claims_supported: string[];
  acr_values_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  code_challenge_methods_supported: string[];
  id_token_signing_alg_values_supported: string[];
}

describe('the local NHS CIS2 stand-in (/cis2), over HTTP', () => {
  let provider: RunningOidcProvider;
  let discovery: Discovery;
  let clientKey: CryptoKey;
  const kid = randomUUID();

  before(async () => {
    const pair = await generateKeyPair('RS512', { extractable: true });
    clientKey = pair.privateKey;
    const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS512', use: 'sig' };
    provider = await startLocalOidcProvider({
      nhsLogin: { clients: [] },
      cis2: { clients: [{ clientId, redirectUris: [redirectUri], jwks: { keys: [publicJwk] } }] },
      logger: pino({ level: 'silent' }),
    });
    const response = await fetch(`${provider.issuers.cis2}/.well-known/openid-configuration`);
    discovery = (await response.json()) as Discovery;
  });
  after(() => provider.close());

  /** Signs in as `user` with PKCE, asking for `acrValues`, and exchanges the code: the token response. */
  async function signIn(user: { email: string; password: string }, acrValues?: string, nonce = randomUUID()) {
    const verifier = base64url(randomBytes(32));
    const url = new URL(discovery.authorization_endpoint);
    const query: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: 'openid profile nationalrbacaccess',
      state: randomUUID(),
      nonce,
      code_challenge: challengeOf(verifier),
      code_challenge_method: 'S256',
      acr_values: acrValues,
    };
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(name, value);
    const { returnedTo } = await signInByHttp(url, provider.url, user);
    const response = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: returnedTo.searchParams.get('code') ?? '',
        redirect_uri: redirectUri,
        code_verifier: verifier,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await new SignJWT({ jti: randomUUID() })
          .setProtectedHeader({ alg: 'RS512', kid })
          .setIssuer(clientId)
          .setSubject(clientId)
          .setAudience(discovery.token_endpoint)
          .setIssuedAt()
          .setExpirationTime('1m')
          .sign(clientKey),
      }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as { id_token: string; access_token: string };
  }

  it('publishes CIS2’s shape in its discovery document: scopes, claims, acr values, RS256, PKCE S256, private_key_jwt', () => {
    assert.equal(discovery.issuer, `${provider.url}/cis2`);
    for (const scope of ['openid', 'profile', 'nationalrbacaccess'])
      assert.ok(discovery.scopes_supported.includes(scope), scope);
    for (const claim of ['nhsid_useruid', 'nhsid_nrbac_roles', 'name', 'acr'])
      assert.ok(discovery.claims_supported.includes(claim), claim);
    assert.deepEqual([...discovery.acr_values_supported].sort(), [
      'AAL2_ANY',
      'AAL2_OR_AAL3_ANY',
      'AAL3_ANY',
    ]);
    assert.deepEqual(discovery.id_token_signing_alg_values_supported, ['RS256']);
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(discovery.token_endpoint_auth_methods_supported, ['private_key_jwt']);
  });

  it('signs the GP in at AAL3: an RS256 ID token with acr AAL3_ANY and the nonce, and userinfo with nhsid_useruid, name and nhsid_nrbac_roles', async () => {
    const nonce = randomUUID();
    const tokens = await signIn(gp, 'AAL3_ANY', nonce);
    const { payload, protectedHeader } = await jwtVerify(
      tokens.id_token,
      createRemoteJWKSet(new URL(discovery.jwks_uri)),
      { issuer: discovery.issuer, audience: clientId },
    );
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.sub, gp.uid);
    assert.equal(payload.acr, 'AAL3_ANY');
    assert.deepEqual(payload.amr, ['N3_SMARTCARD']);
    assert.equal(payload.nonce, nonce);
    const userinfo = (await (
      await fetch(discovery.userinfo_endpoint, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      })
    ).json()) as Record<string, unknown>;
    assert.equal(userinfo.sub, gp.uid);
    assert.equal(userinfo.nhsid_useruid, gp.uid);
    assert.equal(userinfo.name, 'Asha PATEL');
    assert.deepEqual(userinfo.nhsid_nrbac_roles, [
      {
        org_code: 'A81001',
        person_orgid: '555000000100',
        person_roleid: '555000000111',
        role_code: 'S8000:G8000:R8000',
        role_name: '"Clinical":"Clinical Provision":"Clinical Practitioner Access Role"',
      },
    ]);
  });

  it('gives an AAL2 user acr AAL2_OR_AAL3_ANY when that is asked for', async () => {
    const tokens = await signIn(receptionist, 'AAL2_OR_AAL3_ANY');
    const { payload } = await jwtVerify(tokens.id_token, createRemoteJWKSet(new URL(discovery.jwks_uri)));
    assert.equal(payload.acr, 'AAL2_OR_AAL3_ANY');
  });

  it('refuses an AAL2 user when AAL3 is asked for, or when nothing is (CIS2’s default is AAL3)', async () => {
    await assert.rejects(signIn(receptionist, 'AAL3_ANY'), /needs AAL3_ANY; .* AAL2 authenticator/);
    await assert.rejects(signIn(receptionist), /needs AAL3_ANY/);
  });
});
