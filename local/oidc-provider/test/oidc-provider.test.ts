import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  createRemoteJWKSet,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { pino } from 'pino';
import { nhsLoginTestUsers, startLocalOidcProvider, type RunningOidcProvider } from '../src/index';
import { signInByHttp } from '../src/testing';

const redirectUri = 'http://127.0.0.1:9/nhs-login/callback';
const clientId = 'gp-consult-test';
const [janeP9, samP5] = nhsLoginTestUsers as [
  (typeof nhsLoginTestUsers)[number],
  (typeof nhsLoginTestUsers)[number],
];

const base64url = (bytes: Buffer) => bytes.toString('base64url');
const challengeOf = (verifier: string) => base64url(createHash('sha256').update(verifier).digest());

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
  token_endpoint_auth_methods_supported: string[];
  code_challenge_methods_supported: string[];
}

describe('the local NHS login stand-in (/nhs-login), over HTTP', () => {
  let provider: RunningOidcProvider;
  let discovery: Discovery;
  let clientKey: CryptoKey;
  const kid = randomUUID();

  before(async () => {
    const pair = await generateKeyPair('RS512', { extractable: true });
    clientKey = pair.privateKey;
    const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS512', use: 'sig' };
    provider = await startLocalOidcProvider({
      nhsLogin: { clients: [{ clientId, redirectUris: [redirectUri], jwks: { keys: [publicJwk] } }] },
      logger: pino({ level: 'silent' }),
    });
    const response = await fetch(`${provider.issuers.nhsLogin}/.well-known/openid-configuration`);
    discovery = (await response.json()) as Discovery;
  });
  after(() => provider.close());

  /** A client assertion as NHS login asks for: iss = sub = client id, aud = the token endpoint. */
  const assertion = (key: CryptoKey = clientKey, claims: Record<string, unknown> = {}) =>
    new SignJWT({ jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'RS512', kid, typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(discovery.token_endpoint)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(key);

  /** An authorization request signed in as `user`; the code and state the provider sent back. */
  async function authorize(
    user: { email: string; password: string },
    params: Record<string, string | undefined> = {},
  ): Promise<URLSearchParams> {
    const url = new URL(discovery.authorization_endpoint);
    const query: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: 'openid profile profile_extended',
      state: randomUUID(),
      nonce: randomUUID(),
      vtr: JSON.stringify(['P9.Cp.Cd', 'P9.Cp.Ck', 'P9.Cm', 'P5.Cp.Cd', 'P5.Cp.Ck', 'P5.Cm']),
      ...params,
    };
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(name, value);
    const { returnedTo } = await signInByHttp(url, provider.url, user);
    assert.equal(`${returnedTo.origin}${returnedTo.pathname}`, redirectUri);
    return returnedTo.searchParams;
  }

  const tokenRequest = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body),
    });

  /** Signs in with PKCE and exchanges the code properly: the token response. */
  async function signInFully(user: (typeof nhsLoginTestUsers)[number], nonce = randomUUID()) {
    const verifier = base64url(randomBytes(32));
    const returned = await authorize(user, {
      nonce,
      code_challenge: challengeOf(verifier),
      code_challenge_method: 'S256',
    });
    const response = await tokenRequest({
      grant_type: 'authorization_code',
      code: returned.get('code') ?? '',
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as { id_token: string; access_token: string };
  }

  it('offers only the authorization code flow, PKCE with S256 and private_key_jwt client authentication', () => {
    assert.equal(discovery.issuer, `${provider.url}/nhs-login`);
    assert.deepEqual(discovery.token_endpoint_auth_methods_supported, ['private_key_jwt']);
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
  });

  for (const user of [janeP9, samP5]) {
    it(`issues NHS login's claims for the ${user.proofingLevel} test user, in an RS512 ID token and from userinfo`, async () => {
      const nonce = randomUUID();
      const tokens = await signInFully(user, nonce);
      const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
      const { payload, protectedHeader } = await jwtVerify(tokens.id_token, jwks, {
        issuer: discovery.issuer,
        audience: clientId,
      });
      assert.equal(protectedHeader.alg, 'RS512');
      const expected = {
        sub: user.sub,
        nhs_number: user.nhsNumber,
        birthdate: user.birthDate,
        family_name: user.familyName,
        given_name: user.givenName,
        identity_proofing_level: user.proofingLevel,
        vot: `${user.proofingLevel}.Cp.Cd`,
      };
      for (const [claim, value] of Object.entries(expected)) assert.equal(payload[claim], value, claim);
      assert.equal(payload.nonce, nonce);
      assert.match(String(payload.vtm), /^https:\/\//);
      const userinfo = (await (
        await fetch(discovery.userinfo_endpoint, {
          headers: { authorization: `Bearer ${tokens.access_token}` },
        })
      ).json()) as Record<string, unknown>;
      for (const [claim, value] of Object.entries(expected))
        assert.equal(userinfo[claim], value, `userinfo ${claim}`);
    });
  }

  it('gives only the claims of the scopes asked for: no given_name without profile_extended', async () => {
    const verifier = base64url(randomBytes(32));
    const returned = await authorize(janeP9, {
      scope: 'openid profile',
      code_challenge: challengeOf(verifier),
      code_challenge_method: 'S256',
    });
    const response = await tokenRequest({
      grant_type: 'authorization_code',
      code: returned.get('code') ?? '',
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(),
    });
    const claims = decodeJwt(((await response.json()) as { id_token: string }).id_token);
    assert.equal(claims.nhs_number, janeP9.nhsNumber);
    assert.equal(claims.given_name, undefined);
  });

  it('refuses an authorization request without PKCE, or with the plain method', async () => {
    for (const params of [{}, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }]) {
      const returned = await authorize(janeP9, params).catch((error: unknown) => error as Error);
      // the provider answers on the redirect URI with an error and never shows the sign-in page
      const error = returned instanceof Error ? returned.message : returned.get('error');
      assert.ok(
        error && /invalid_request|PKCE|code_challenge/i.test(error),
        `refused: ${String(error)} ${returned instanceof Error ? '' : returned.get('error_description')}`,
      );
    }
  });

  it('refuses a token request whose code_verifier does not match the challenge', async () => {
    const verifier = base64url(randomBytes(32));
    const returned = await authorize(janeP9, {
      code_challenge: challengeOf(verifier),
      code_challenge_method: 'S256',
    });
    const response = await tokenRequest({
      grant_type: 'authorization_code',
      code: returned.get('code') ?? '',
      redirect_uri: redirectUri,
      code_verifier: base64url(randomBytes(32)),
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(),
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_grant');
  });

  it('refuses a token request authenticated with a client_secret, or without a valid client assertion', async () => {
    const attempts: { what: string; body: Record<string, string>; headers?: Record<string, string> }[] = [
      { what: 'client_secret_post', body: { client_id: clientId, client_secret: 'guessed' } },
      {
        what: 'client_secret_basic',
        body: {},
        headers: { authorization: `Basic ${Buffer.from(`${clientId}:guessed`).toString('base64')}` },
      },
      { what: 'no client authentication', body: { client_id: clientId } },
      {
        what: 'an assertion signed with another key',
        body: {
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion((await generateKeyPair('RS512')).privateKey),
        },
      },
      {
        what: 'an assertion for another audience',
        body: {
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await new SignJWT({ jti: randomUUID() })
            .setProtectedHeader({ alg: 'RS512', kid })
            .setIssuer(clientId)
            .setSubject(clientId)
            .setAudience('https://somewhere-else.example/token')
            .setIssuedAt()
            .setExpirationTime('1m')
            .sign(clientKey),
        },
      },
    ];
    for (const attempt of attempts) {
      const verifier = base64url(randomBytes(32));
      const returned = await authorize(samP5, {
        code_challenge: challengeOf(verifier),
        code_challenge_method: 'S256',
      });
      const response = await tokenRequest(
        {
          grant_type: 'authorization_code',
          code: returned.get('code') ?? '',
          redirect_uri: redirectUri,
          code_verifier: verifier,
          ...attempt.body,
        },
        attempt.headers,
      );
      assert.ok([400, 401].includes(response.status), `${attempt.what}: ${response.status}`);
      const body = (await response.json()) as { error: string; access_token?: string };
      assert.ok(['invalid_client', 'invalid_request'].includes(body.error), `${attempt.what}: ${body.error}`);
      assert.equal(body.access_token, undefined);
    }
  });

  it('refuses the P5 user when the service asks for identity verified to P9 only', async () => {
    const verifier = base64url(randomBytes(32));
    await assert.rejects(
      authorize(samP5, {
        code_challenge: challengeOf(verifier),
        code_challenge_method: 'S256',
        vtr: JSON.stringify(['P9.Cp.Cd']),
      }),
      /needs identity verified to P9\.Cp\.Cd/,
    );
  });

  it('sends the patient back with access_denied when they cancel', async () => {
    const verifier = base64url(randomBytes(32));
    const url = new URL(discovery.authorization_endpoint);
    for (const [name, value] of Object.entries({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: 'openid profile',
      state: 'the-state',
      nonce: 'n',
      code_challenge: challengeOf(verifier),
      code_challenge_method: 'S256',
    }))
      url.searchParams.set(name, value);
    const { returnedTo } = await signInByHttp(url, provider.url, { cancel: true });
    assert.equal(returnedTo.searchParams.get('error'), 'access_denied');
    assert.equal(returnedTo.searchParams.get('state'), 'the-state');
  });
});
