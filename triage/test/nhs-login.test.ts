import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { decodeJwt, importJWK, SignJWT, type JWTPayload } from 'jose';
import { nhsLoginTestUsers } from '@gpc/local-oidc-provider';
import { signInByHttp } from '@gpc/local-oidc-provider/testing';
import { generateSigningKey, loadTriageConfig } from '@gpc/triage';
import { medicalAnswers, nhsLoginClientKey, startTriage, type TestTriage } from '@gpc/test-support';

// Monday 13 July 2026, 10:00 in London: the practice is open
const mondayMorning = new Date('2026-07-13T09:00:00Z');
const [janeP9, samP5] = nhsLoginTestUsers as [
  (typeof nhsLoginTestUsers)[number],
  (typeof nhsLoginTestUsers)[number],
];

/** What someone else typed into the form: with a session, none of it may reach the request. */
const typedPatient = {
  givenName: 'Mallory',
  familyName: 'Typed',
  birthDate: '1970-01-01',
  nhsNumber: '943 476 5919',
  phone: '07700 900123',
};

/** Signs in at the practice's form through triage and the stand-in; where triage sent the browser back. */
async function signIn(
  triage: TestTriage,
  user: { email: string; password: string } | { cancel: true },
  ods = 'A81001',
): Promise<{ location: URL; token: string | undefined; error: string | undefined }> {
  const start = await triage.app.inject({ method: 'GET', url: `/practices/${ods}/nhs-login` });
  assert.equal(start.statusCode, 303, start.body);
  const authorize = new URL(String(start.headers.location));
  const { returnedTo } = await signInByHttp(authorize, triage.nhsLogin!.url, user);
  return finish(triage, returnedTo);
}

/** The browser arriving at triage's callback with what the provider sent back. */
async function finish(triage: TestTriage, returnedTo: URL) {
  const callback = await triage.app.inject({ method: 'GET', url: `/nhs-login/callback${returnedTo.search}` });
  assert.equal(callback.statusCode, 303, callback.body);
  const location = new URL(String(callback.headers.location));
  const fragment = new URLSearchParams(location.hash.slice(1));
  return {
    location,
    token: fragment.get('nhs-login') ?? undefined,
    error: fragment.get('nhs-login-error') ?? undefined,
  };
}

describe('sign in with NHS login on the form, against the local NHS login stand-in and PostgreSQL', async () => {
  let now = mondayMorning;
  const triage = await startTriage({ after }, { nhsLogin: true, now: () => now });
  const { app, db, practiceA, practiceB, as } = triage;
  const medicalFormId = await triage.formId('medical');
  const offered = await as(practiceA, 'admin').inject({
    method: 'PATCH',
    url: '/practice',
    payload: { nhsLoginOffered: true },
  });
  assert.equal(offered.statusCode, 200, offered.body);

  const submission = (session: string | undefined, overrides: Record<string, unknown> = {}) => ({
    idempotencyKey: randomUUID(),
    formId: medicalFormId,
    patient: typedPatient,
    submittedBy: { type: 'patient' },
    preferredContact: 'sms',
    answers: medicalAnswers({}, 'a cough for three weeks'),
    ...(session ? { nhsLoginSession: session } : {}),
    ...overrides,
  });
  const submit = (body: unknown, ods = 'A81001') =>
    app.inject({
      method: 'POST',
      url: `/practices/${ods}/submissions`,
      payload: body as Record<string, unknown>,
    });
  const stored = async (reference: string) =>
    (
      await db.pool.query<Record<string, unknown>>(
        `SELECT c.patient_given_name, c.patient_family_name, to_char(c.patient_birth_date, 'YYYY-MM-DD') AS birth_date,
                c.patient_nhs_number, c.identity_source, c.identity_proofing_level, c.identity_status,
                c.identity_confirmed_nhs_number, c.identity_confirmed_at IS NOT NULL AS confirmed,
                (SELECT status FROM patient_trace t WHERE t.consultation_id = c.id) AS trace
           FROM consultation c WHERE c.reference = $1`,
        [reference],
      )
    ).rows[0];

  it('offers NHS login on the form of a practice that chose it, and only there', async () => {
    const offerA = await app.inject({ method: 'GET', url: '/practices/A81001/nhs-login/offer' });
    const offerB = await app.inject({ method: 'GET', url: '/practices/B82002/nhs-login/offer' });
    assert.deepEqual([offerA.json(), offerB.json()], [{ offered: true }, { offered: false }]);
    const start = await app.inject({ method: 'GET', url: '/practices/B82002/nhs-login' });
    assert.equal(start.statusCode, 303);
    assert.match(String(start.headers.location), /form\.html\?practice=B82002#nhs-login-error=not-offered$/);
    const audit = await db.pool.query(
      "SELECT 1 FROM audit_event WHERE practice_id = $1 AND action LIKE 'change settings: %nhsLoginOffered%'",
      [practiceA.id],
    );
    assert.equal(audit.rowCount, 1, 'turning it on is audited');
  });

  it('sends the browser to NHS login with PKCE (S256), a nonce, state, prompt=login and the P5/P9 vectors, and keeps the verifier server-side', async () => {
    const start = await app.inject({ method: 'GET', url: '/practices/A81001/nhs-login' });
    const authorize = new URL(String(start.headers.location));
    assert.equal(authorize.origin + authorize.pathname, `${triage.nhsLogin!.settings.issuer}/authorize`);
    const params = Object.fromEntries(authorize.searchParams);
    assert.equal(params.code_challenge_method, 'S256');
    assert.match(params.code_challenge ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(params.scope, 'openid profile profile_extended');
    assert.equal(params.prompt, 'login');
    assert.deepEqual(JSON.parse(params.vtr ?? '[]'), [
      'P9.Cp.Cd',
      'P9.Cp.Ck',
      'P9.Cm',
      'P5.Cp.Cd',
      'P5.Cp.Ck',
      'P5.Cm',
    ]);
    assert.ok(params.nonce && params.state?.startsWith('A81001~'));
    assert.equal(authorize.searchParams.has('code_verifier'), false);
    const kept = await db.pool.query<{ code_verifier: string }>(
      'SELECT code_verifier FROM nhs_login_request',
    );
    assert.ok(kept.rows.some((row) => row.code_verifier.length === 43));
  });

  it('a P9 patient signs in, sees their name and date of birth (never their NHS number), and their request arrives confirmed with NHS login’s identity, typed details ignored', async () => {
    const { token, location, error } = await signIn(triage, janeP9);
    assert.equal(error, undefined);
    assert.ok(token, 'a session token in the fragment');
    assert.equal(location.search, '?practice=A81001', 'nothing about the patient in the query');
    const shown = await app.inject({
      method: 'GET',
      url: '/nhs-login/session',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(shown.statusCode, 200, shown.body);
    const identity = shown.json<Record<string, unknown>>();
    assert.deepEqual(
      { ...identity, expiresAt: undefined },
      {
        odsCode: 'A81001',
        givenName: 'Jane',
        familyName: 'SMITH',
        birthDate: '1985-07-14',
        proofingLevel: 'P9',
        expiresAt: undefined,
      },
    );
    assert.doesNotMatch(shown.body, /9000000009/, 'the NHS number is never shown to the patient');

    const sent = await submit(submission(token));
    assert.equal(sent.statusCode, 201, sent.body);
    assert.deepEqual(await stored(sent.json<{ reference: string }>().reference), {
      patient_given_name: 'Jane',
      patient_family_name: 'SMITH',
      birth_date: '1985-07-14',
      patient_nhs_number: '9000000009',
      identity_source: 'nhs_login',
      identity_proofing_level: 'P9',
      identity_status: 'nhs_login_p9',
      identity_confirmed_nhs_number: '9000000009',
      confirmed: true,
      trace: null,
    });
  });

  it('a P5 patient’s request takes NHS login’s identity but does not arrive confirmed: it is traced and confirmed by staff', async () => {
    const { token } = await signIn(triage, samP5);
    const sent = await submit(submission(token));
    assert.equal(sent.statusCode, 201, sent.body);
    assert.deepEqual(await stored(sent.json<{ reference: string }>().reference), {
      patient_given_name: 'Sam',
      patient_family_name: 'TAYLOR',
      birth_date: '1992-11-02',
      patient_nhs_number: '9000000017',
      identity_source: 'nhs_login',
      identity_proofing_level: 'P5',
      identity_status: 'tracing',
      identity_confirmed_nhs_number: null,
      confirmed: false,
      trace: 'owed',
    });
  });

  it('uses a session once: a replayed session is refused, while a retry of the same request is answered as its repeat', async () => {
    const { token } = await signIn(triage, janeP9);
    const body = submission(token);
    const [first, retry] = await Promise.all([submit(body), submit(body)]);
    assert.deepEqual([first.statusCode, retry.statusCode].sort(), [200, 201], `${first.body} ${retry.body}`);
    const replayed = await submit(submission(token));
    assert.equal(replayed.statusCode, 409, replayed.body);
    assert.match(replayed.json<{ message: string }>().message, /already been used/);
    const reading = await app.inject({
      method: 'GET',
      url: '/nhs-login/session',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(reading.statusCode, 409, 'a used session shows nothing');
    const count = await db.pool.query("SELECT 1 FROM consultation WHERE patient_nhs_number = '9000000009'");
    assert.equal(count.rowCount, 2, 'one request from the earlier test, one from this session');
  });

  it('refuses an expired session, for showing and for sending', async () => {
    const { token } = await signIn(triage, samP5);
    now = new Date(mondayMorning.getTime() + 31 * 60_000);
    try {
      const reading = await app.inject({
        method: 'GET',
        url: '/nhs-login/session',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(reading.statusCode, 401);
      const sent = await submit(submission(token));
      assert.equal(sent.statusCode, 401, sent.body);
      assert.match(sent.json<{ message: string }>().message, /run out/);
    } finally {
      now = mondayMorning;
    }
  });

  it('refuses another practice’s session', async () => {
    const { token } = await signIn(triage, janeP9);
    const formB = await triage.formId('medical', practiceB);
    const sent = await submit(submission(token, { formId: formB }), 'B82002');
    assert.equal(sent.statusCode, 403, sent.body);
    assert.match(sent.json<{ message: string }>().message, /another GP surgery/);
  });

  it('refuses a request for someone else sent with the patient’s NHS login, and the session stays usable for their own', async () => {
    const { token } = await signIn(triage, samP5);
    const forSomeoneElse = await submit(
      submission(token, { submittedBy: { type: 'proxy', name: 'Alex Taylor', relationship: 'Parent' } }),
    );
    assert.equal(forSomeoneElse.statusCode, 400, forSomeoneElse.body);
    const own = await submit(submission(token));
    assert.equal(own.statusCode, 201, own.body);
  });

  it('rejects an unknown session token, and a callback replayed or never started', async () => {
    const unknown = await submit(submission('A'.repeat(43)));
    assert.equal(unknown.statusCode, 401);
    const start = await app.inject({ method: 'GET', url: '/practices/A81001/nhs-login' });
    const { returnedTo } = await signInByHttp(
      new URL(String(start.headers.location)),
      triage.nhsLogin!.url,
      janeP9,
    );
    const first = await finish(triage, returnedTo);
    assert.ok(first.token);
    const replayed = await finish(triage, returnedTo);
    assert.deepEqual([replayed.token, replayed.error], [undefined, 'expired']);
  });

  it('sends the patient back to the form when they cancel at NHS login', async () => {
    const { token, error } = await signIn(triage, { cancel: true });
    assert.deepEqual([token, error], [undefined, 'cancelled']);
  });
});

/** A man in the middle between triage and the provider, rewriting the ID token the token endpoint returns. */
async function startTamperingProxy(tamper: { idToken?: (idToken: string) => Promise<string> }) {
  let target = '';
  const server = createServer((incoming: IncomingMessage, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const url = new URL(target);
      const forwarded = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            void (async () => {
              let text = Buffer.concat(body).toString('utf8');
              if (incoming.url?.endsWith('/token') && answer.statusCode === 200 && tamper.idToken) {
                const tokens = JSON.parse(text) as { id_token: string };
                text = JSON.stringify({ ...tokens, id_token: await tamper.idToken(tokens.id_token) });
              }
              const headers = { ...answer.headers };
              delete headers['content-length'];
              outgoing.writeHead(answer.statusCode ?? 502, headers).end(text);
            })();
          });
        },
      );
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setTarget: (url: string) => (target = url),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('an ID token that is not NHS login’s for this sign-in is refused (a man in the middle of the token response)', async () => {
  const tamper: { idToken?: (idToken: string) => Promise<string> } = {};
  const proxy = await startTamperingProxy(tamper);
  after(() => proxy.close());
  const triage = await startTriage(
    { after },
    { nhsLogin: { publicUrl: proxy.url }, now: () => mondayMorning },
  );
  proxy.setTarget(triage.nhsLogin!.provider.url);
  await triage
    .as(triage.practiceA, 'admin')
    .inject({ method: 'PATCH', url: '/practice', payload: { nhsLoginOffered: true } });
  const providerKey = triage.nhsLogin!.signingKeys[0]!;

  /** Re-signs the ID token's claims, changed, with the provider's own key (or another with its kid). */
  const resign =
    (change: (claims: JWTPayload) => JWTPayload, key: 'provider' | 'another' = 'provider') =>
    async (idToken: string) => {
      const claims = change(decodeJwt(idToken));
      const signingKey =
        key === 'provider'
          ? await importJWK(providerKey as Parameters<typeof importJWK>[0], 'RS512')
          : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS512', kid: providerKey.kid }).sign(signingKey);
    };

  const sessions = async () =>
    Number(
      (await triage.db.pool.query<{ count: string }>('SELECT count(*) FROM nhs_login_session')).rows[0]!
        .count,
    );

  it('takes the untouched ID token through the same proxy (the tampering below is all that differs)', async () => {
    tamper.idToken = undefined;
    const { token, error } = await signIn(triage, janeP9);
    assert.equal(error, undefined);
    assert.ok(token);
  });

  const forgeries: [string, (idToken: string) => Promise<string>][] = [
    ['signed with another key under the provider’s key id', resign((claims) => claims, 'another')],
    ['for another sign-in (wrong nonce)', resign((claims) => ({ ...claims, nonce: 'someone-elses-nonce' }))],
    [
      'issued to another client (wrong aud)',
      resign((claims) => ({ ...claims, aud: 'another-partner-service' })),
    ],
    [
      'from another issuer (wrong iss)',
      resign((claims) => ({ ...claims, iss: 'https://auth.login.nhs.uk' })),
    ],
    ['expired', resign((claims) => ({ ...claims, iat: 1_000_000, exp: 1_000_600 }))],
    [
      'unsigned (alg none)',
      (idToken) =>
        Promise.resolve(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${idToken.split('.')[1]}.`),
    ],
  ];
  for (const [what, forge] of forgeries) {
    it(`refuses an ID token ${what}: no session, and the patient is told on the form`, async () => {
      const before = await sessions();
      tamper.idToken = forge;
      try {
        const { token, error } = await signIn(triage, janeP9);
        assert.deepEqual([token, error], [undefined, 'failed']);
        assert.equal(await sessions(), before);
      } finally {
        tamper.idToken = undefined;
      }
    });
  }
});

describe('NHS login in triage’s configuration', () => {
  const base = {
    TRIAGE_DATABASE_URL: 'postgres://x',
    TRIAGE_REDIS_URL: 'redis://x',
    TRIAGE_SIGNING_KEYS: JSON.stringify({ keys: [generateSigningKey()] }),
    TRIAGE_S3_BUCKET: 'bucket',
    TRIAGE_S3_ACCESS_KEY_ID: 'k',
    TRIAGE_S3_SECRET_ACCESS_KEY: 's',
  };
  const { privateJwk, publicJwk, kid } = nhsLoginClientKey();
  const all = {
    TRIAGE_NHS_LOGIN_ISSUER: 'https://auth.login.nhs.uk',
    TRIAGE_NHS_LOGIN_CLIENT_ID: 'gp-consult',
    TRIAGE_NHS_LOGIN_PRIVATE_KEY: JSON.stringify(privateJwk),
    TRIAGE_NHS_LOGIN_KID: kid,
    TRIAGE_NHS_LOGIN_REDIRECT_URI: 'https://gp-consult.example/api/nhs-login/callback',
  };

  it('is off with none of its settings, on with all five', () => {
    assert.equal(loadTriageConfig(base).nhsLoginIssuer, undefined);
    assert.equal(loadTriageConfig({ ...base, ...all }).nhsLoginClientId, 'gp-consult');
  });

  it('stops the boot on half a set-up, naming what is missing, or on a key that is not a private RSA key', () => {
    const { TRIAGE_NHS_LOGIN_KID: _kid, ...withoutKid } = all;
    assert.throws(() => loadTriageConfig({ ...base, ...withoutKid }), /TRIAGE_NHS_LOGIN_KID: required/);
    assert.throws(
      () => loadTriageConfig({ ...base, ...all, TRIAGE_NHS_LOGIN_PRIVATE_KEY: JSON.stringify(publicJwk) }),
      /TRIAGE_NHS_LOGIN_PRIVATE_KEY: not a private RSA JWK/,
    );
  });
});
