import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { decodeJwt, importJWK, SignJWT, type JWTPayload } from 'jose';
import { cis2TestUsers } from '@gpc/local-oidc-provider';
import { signInByHttp } from '@gpc/local-oidc-provider/testing';
import { Type } from '@sinclair/typebox';
import { loadConfig } from '@gpc/contracts';
import { Cis2ConfigFields, cis2SettingsFrom, staffRoleAt } from '@gpc/triage';
import { nhsLoginClientKey, startTriage, type TestTriage } from '@gpc/test-support';

const user = (uid: string) => cis2TestUsers.find((candidate) => candidate.uid === uid)!;
const gp = user('555000000101');
const manager = user('555000000202');
const receptionist = user('555000000303');
const elsewhere = user('555000000404');

/** Where triage's callback sent the browser, and what its fragment carries. */
interface Landing {
  location: URL;
  code: string | undefined;
  error: string | undefined;
}

/** The browser arriving at triage's callback with what the provider sent back. */
async function finish(triage: TestTriage, returnedTo: URL): Promise<Landing> {
  const callback = await triage.app.inject({ method: 'GET', url: `/auth/cis2/callback${returnedTo.search}` });
  assert.equal(callback.statusCode, 303, callback.body);
  const location = new URL(String(callback.headers.location));
  const fragment = new URLSearchParams(location.hash.slice(1));
  return {
    location,
    code: fragment.get('cis2') ?? undefined,
    error: fragment.get('cis2-error') ?? undefined,
  };
}

/** Starts a sign-in at triage; the authorization request it sends the browser to. */
async function start(triage: TestTriage, ods = 'A81001', page?: string): Promise<URL> {
  const started = await triage.app.inject({
    method: 'GET',
    url: `/auth/cis2/start?ods=${ods}${page ? `&page=${page}` : ''}`,
  });
  assert.equal(started.statusCode, 303, started.body);
  return new URL(String(started.headers.location));
}

/** Signs in at CIS2 (the stand-in) from `authorize`; where the provider sent the browser back. */
async function atCis2(
  triage: TestTriage,
  authorize: URL,
  who: { email: string; password: string } | { cancel: true },
) {
  return (await signInByHttp(authorize, triage.cis2!.url, who)).returnedTo;
}

/** A whole sign-in through triage and the stand-in. */
async function signIn(triage: TestTriage, who: { email: string; password: string } | { cancel: true }) {
  return finish(triage, await atCis2(triage, await start(triage), who));
}

/** The staff page's exchange of the one-time code for a session. */
const exchange = (triage: TestTriage, code: string) =>
  triage.app.inject({ method: 'POST', url: '/auth/cis2/session', payload: { code } });

const cis2Staff = async (triage: TestTriage, uid: string) =>
  (
    await triage.db.pool.query<{
      id: string;
      role: string;
      display_name: string;
      email: string | null;
      password_hash: string | null;
      sign_in_method: string;
      active: boolean;
    }>(
      'SELECT id, role, display_name, email, password_hash, sign_in_method, active FROM staff WHERE cis2_uid = $1',
      [uid],
    )
  ).rows;

const handovers = async (triage: TestTriage) =>
  Number(
    (await triage.db.pool.query<{ count: string }>('SELECT count(*) FROM cis2_handover')).rows[0]!.count,
  );

async function offerCis2(triage: TestTriage, ods = 'A81001'): Promise<void> {
  await triage.db.pool.query('UPDATE practice SET cis2_sign_in = true WHERE ods_code = $1', [ods]);
}

describe('staff sign in with NHS CIS2, against the local CIS2 stand-in, triage and PostgreSQL', async () => {
  const triage = await startTriage({ after }, { cis2: { acrValues: 'AAL3_ANY' } });
  const { app, db, practiceA, as } = triage;
  await offerCis2(triage);

  it('offers CIS2 sign-in only at a practice that chose it', async () => {
    const offers = await Promise.all(
      ['A81001', 'B82002'].map(async (ods) =>
        (await app.inject({ url: `/auth/cis2/offer?ods=${ods}` })).json<unknown>(),
      ),
    );
    assert.deepEqual(offers, [{ offered: true }, { offered: false }]);
    // an admin of the other practice can switch it on and off for theirs (audited)
    const adminB = as(triage.practiceB, 'admin');
    for (const cis2SignIn of [true, false]) {
      const changed = await adminB.inject({ method: 'PATCH', url: '/practice', payload: { cis2SignIn } });
      assert.equal(changed.statusCode, 200, changed.body);
      assert.equal(changed.json<{ cis2SignIn: boolean }>().cis2SignIn, cis2SignIn);
      const offer = await app.inject({ url: '/auth/cis2/offer?ods=B82002' });
      assert.deepEqual(offer.json<unknown>(), { offered: cis2SignIn });
    }
    const audited = await db.pool.query(
      "SELECT 1 FROM audit_event WHERE practice_id = $1 AND action LIKE 'change settings: %cis2SignIn%'",
      [triage.practiceB.id],
    );
    assert.equal(audited.rowCount, 2);
    const byReception = await as(practiceA, 'reception').inject({
      method: 'PATCH',
      url: '/practice',
      payload: { cis2SignIn: false },
    });
    assert.equal(byReception.statusCode, 403);
    const refused = await app.inject({ url: '/auth/cis2/start?ods=B82002' });
    assert.equal(refused.statusCode, 303);
    assert.match(String(refused.headers.location), /\/staff\.html#cis2-error=not-offered$/);
  });

  it('sends the browser to CIS2 with PKCE (S256), state, nonce, prompt=login, the CIS2 scopes and acr_values, the verifier kept server-side', async () => {
    const authorize = await start(triage);
    assert.equal(authorize.origin + authorize.pathname, `${triage.cis2!.settings.issuer}/authorize`);
    const params = Object.fromEntries(authorize.searchParams);
    assert.equal(params.scope, 'openid profile nationalrbacaccess');
    assert.equal(params.acr_values, 'AAL3_ANY');
    assert.equal(params.code_challenge_method, 'S256');
    assert.match(params.code_challenge ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(params.prompt, 'login');
    assert.ok(params.nonce && params.state?.startsWith('staff~'));
    assert.equal(authorize.searchParams.has('code_verifier'), false);
    const kept = await db.pool.query<{ code_verifier: string; acr_values: string }>(
      'SELECT code_verifier, acr_values FROM cis2_request',
    );
    assert.ok(kept.rows.some((row) => row.code_verifier.length === 43 && row.acr_values === 'AAL3_ANY'));
  });

  it('a GP with a clinical role code at the practice signs in: added without a password, and the session carries the clinician role', async () => {
    const landing = await signIn(triage, gp);
    assert.equal(landing.error, undefined);
    assert.equal(landing.location.pathname, '/staff.html');
    assert.ok(landing.code, 'a one-time code in the fragment, never a token');
    const session = await exchange(triage, landing.code);
    assert.equal(session.statusCode, 200, session.body);
    const body = session.json<{ accessToken: string; refreshToken: string; staff: Record<string, string> }>();
    assert.equal(body.staff.role, 'clinician');
    assert.equal(body.staff.name, 'Asha PATEL');
    assert.equal(body.staff.practiceId, practiceA.id);
    assert.equal(decodeJwt(body.accessToken).role, 'clinician');
    const queue = await app.inject({
      url: '/consultations?status=new',
      headers: { authorization: `Bearer ${body.accessToken}` },
    });
    assert.equal(queue.statusCode, 200, 'the session works on the queue');
    const [row] = await cis2Staff(triage, gp.uid);
    assert.deepEqual(
      { ...row, id: undefined },
      {
        id: undefined,
        role: 'clinician',
        display_name: 'Asha PATEL',
        email: null,
        password_hash: null,
        sign_in_method: 'cis2',
        active: true,
      },
    );
    const audit = await db.pool.query(
      "SELECT 1 FROM audit_event WHERE actor = $1 AND action = 'login with NHS CIS2 (AAL3_ANY, clinician)'",
      [row!.id],
    );
    assert.equal(audit.rowCount, 1);
    const again = await signIn(triage, gp);
    assert.ok(again.code);
    assert.equal(
      (await cis2Staff(triage, gp.uid)).length,
      1,
      'found again by practice and CIS2 user id, not added twice',
    );
  });

  it('maps the practice manager’s R8011 to admin (the highest of their roles there), and refreshes the role from the claims at each sign-in', async () => {
    const first = await signIn(triage, manager);
    const session = (await exchange(triage, first.code!)).json<{ staff: { role: string; id: string } }>();
    assert.equal(session.staff.role, 'admin');
    await db.pool.query("UPDATE staff SET role = 'reception' WHERE id = $1", [session.staff.id]);
    const again = await signIn(triage, manager);
    const renewed = (await exchange(triage, again.code!)).json<{ staff: { role: string } }>();
    assert.equal(renewed.staff.role, 'admin', 'CIS2’s roles, not a stale copy, decide the role');
    // an admin through CIS2 (no email here) is named in what their admin acts record, e.g. the ICB's pause report
    const token = (await exchange(triage, (await signIn(triage, manager)).code!)).json<{
      accessToken: string;
    }>().accessToken;
    const headers = { authorization: `Bearer ${token}` };
    const paused = await app.inject({
      method: 'POST',
      url: '/practice/pauses',
      headers,
      payload: {
        reason: 'Flooded waiting room, agreed with the ICB',
        until: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    assert.equal(paused.statusCode, 201, paused.body);
    const report = await app.inject({ url: '/practice/pauses.csv', headers });
    assert.match(report.body.split('\r\n')[1] ?? '', /^A81001,[^,]*,Morgan HUGHES,/, report.body);
  });

  it('lists a CIS2 member of staff to the practice’s admins as signing in with CIS2, with no email address', async () => {
    await signIn(triage, gp);
    const listed = await as(practiceA, 'admin').inject({ url: '/staff' });
    assert.equal(listed.statusCode, 200, listed.body);
    const member = listed
      .json<{ name: string; email: string; signInMethod?: string }[]>()
      .find((one) => one.name === 'Asha PATEL');
    assert.deepEqual(
      { email: member?.email, signInMethod: member?.signInMethod },
      { email: '', signInMethod: 'cis2' },
    );
    const passwordStaff = listed
      .json<{ email: string; signInMethod?: string }[]>()
      .find((one) => one.email === practiceA.staff.clinician.email);
    assert.equal(passwordStaff?.signInMethod, 'password');
  });

  it('uses a hand-over code once: a replayed or unknown code gets no session', async () => {
    const landing = await signIn(triage, gp);
    assert.equal((await exchange(triage, landing.code!)).statusCode, 200);
    const replayed = await exchange(triage, landing.code!);
    assert.equal(replayed.statusCode, 401, replayed.body);
    assert.equal((await exchange(triage, 'A'.repeat(43))).statusCode, 401);
  });

  it('refuses a callback with a state this service never issued, and one whose state is already spent (a replayed callback)', async () => {
    const authorize = await start(triage);
    const returnedTo = await atCis2(triage, authorize, gp);
    const forged = new URL(returnedTo);
    forged.searchParams.set('state', 'staff~an-attackers-own-state-value-000000000000000');
    const withForgedState = await finish(triage, forged);
    assert.deepEqual([withForgedState.code, withForgedState.error], [undefined, 'expired']);
    const noState = await app.inject({
      url: `/auth/cis2/callback?code=${returnedTo.searchParams.get('code')}`,
    });
    assert.equal(noState.statusCode, 400);
    const first = await finish(triage, returnedTo);
    assert.ok(first.code, 'the genuine callback works once');
    const replayed = await finish(triage, returnedTo);
    assert.deepEqual([replayed.code, replayed.error], [undefined, 'expired']);
  });

  it('refuses an authorization code replayed into another sign-in (the code is spent, and its PKCE verifier belongs to the first)', async () => {
    const stolen = await atCis2(triage, await start(triage), gp);
    assert.ok((await finish(triage, stolen)).code);
    // the attacker starts a sign-in of their own and presents the stolen code with their own state
    const attackersAuthorize = await start(triage);
    const replay = new URL(stolen);
    replay.searchParams.set('state', attackersAuthorize.searchParams.get('state')!);
    const before = await handovers(triage);
    const landing = await finish(triage, replay);
    assert.deepEqual([landing.code, landing.error], [undefined, 'failed']);
    assert.equal(await handovers(triage), before);
  });

  it('refuses an AAL2 sign-in when AAL3 was asked for, even when the browser changed acr_values on the way to CIS2', async () => {
    const authorize = await start(triage);
    // the authorization request passes through the browser: a downgrade of the assurance level asked for
    authorize.searchParams.set('acr_values', 'AAL2_OR_AAL3_ANY');
    const returnedTo = await atCis2(triage, authorize, receptionist);
    const before = await handovers(triage);
    const landing = await finish(triage, returnedTo);
    assert.deepEqual([landing.code, landing.error], [undefined, 'assurance']);
    assert.equal(await handovers(triage), before);
    assert.equal((await cis2Staff(triage, receptionist.uid)).length, 0, 'nobody added');
  });

  it('refuses a user whose national RBAC roles are all at another practice’s ODS code, in words they can act on', async () => {
    const landing = await signIn(triage, elsewhere);
    assert.deepEqual([landing.code, landing.error], [undefined, 'no-role']);
    assert.equal((await cis2Staff(triage, elsewhere.uid)).length, 0, 'nobody added');
  });

  it('refuses a stopped member of staff even with a valid CIS2 sign-in, and a hand-over issued before they were stopped', async () => {
    const earlier = await signIn(triage, gp);
    const [row] = await cis2Staff(triage, gp.uid);
    const stopped = await as(practiceA, 'admin').inject({
      method: 'PATCH',
      url: `/staff/${row!.id}`,
      payload: { active: false },
    });
    assert.equal(stopped.statusCode, 200, stopped.body);
    try {
      const landing = await signIn(triage, gp);
      assert.deepEqual([landing.code, landing.error], [undefined, 'stopped']);
      assert.equal(
        (await exchange(triage, earlier.code!)).statusCode,
        401,
        'the earlier hand-over is refused',
      );
      assert.equal((await cis2Staff(triage, gp.uid))[0]!.active, false, 'still stopped');
    } finally {
      await db.pool.query('UPDATE staff SET active = true WHERE id = $1', [row!.id]);
    }
  });

  it('a CIS2 member of staff can never sign in with a password: no reset gives them one, the schema refuses one, and password sign-in finds no one', async () => {
    await signIn(triage, gp);
    const [row] = await cis2Staff(triage, gp.uid);
    const reset = await as(practiceA, 'admin').inject({
      method: 'POST',
      url: `/staff/${row!.id}/password/reset`,
    });
    assert.equal(reset.statusCode, 409, reset.body);
    assert.equal((await cis2Staff(triage, gp.uid))[0]!.password_hash, null);
    await assert.rejects(
      db.pool.query(
        "UPDATE staff SET password_hash = 'scrypt$32768$8$1$c2FsdA$aGFzaA', email = 'asha.patel@example.org' WHERE id = $1",
        [row!.id],
      ),
      /staff_sign_in_method_credentials/,
    );
    for (const email of ['asha.patel@example.org', `${gp.uid}@cis2`, gp.email]) {
      const login = await app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { odsCode: 'A81001', email, password: gp.password },
      });
      assert.equal(login.statusCode, 401, `${email}: ${login.body}`);
    }
  });

  it('sends the member of staff back to the page they started from when they cancel at CIS2', async () => {
    const authorize = await start(triage, 'A81001', 'settings');
    const landing = await finish(triage, await atCis2(triage, authorize, { cancel: true }));
    assert.equal(landing.location.pathname, '/settings.html');
    assert.deepEqual([landing.code, landing.error], [undefined, 'cancelled']);
  });
});

describe('the role table: national RBAC role codes at the practice’s ODS code', () => {
  const held = (org: string, code: string) => ({ org_code: org, role_code: `S8000:G8000:${code}` });
  it('maps clinical codes to clinician, admin and clerical codes to reception, the practice manager’s to admin, and nothing else', () => {
    assert.equal(staffRoleAt([held('A81001', 'R8000')], 'A81001'), 'clinician');
    assert.equal(staffRoleAt([held('A81001', 'R8001')], 'A81001'), 'clinician');
    assert.equal(staffRoleAt([held('A81001', 'R8003')], 'A81001'), 'clinician');
    assert.equal(staffRoleAt([held('A81001', 'R8008')], 'A81001'), 'reception');
    assert.equal(staffRoleAt([held('A81001', 'R8009')], 'A81001'), 'reception');
    assert.equal(staffRoleAt([held('A81001', 'R8011')], 'A81001'), 'admin');
    for (const unmapped of ['R8004', 'R8015', 'R0001', 'R5105'])
      assert.equal(staffRoleAt([held('A81001', unmapped)], 'A81001'), undefined, unmapped);
  });
  it('reads only roles held at this ODS code, and takes the highest of them', () => {
    assert.equal(staffRoleAt([held('B82002', 'R8011'), held('A81001', 'R8009')], 'A81001'), 'reception');
    assert.equal(staffRoleAt([held('A81001', 'R8009'), held('A81001', 'R8000')], 'A81001'), 'clinician');
    assert.equal(staffRoleAt([held('B82002', 'R8000')], 'A81001'), undefined);
    assert.equal(staffRoleAt([{ org_code: 'A81001', role_code: 'not a code' }], 'A81001'), undefined);
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
              if (incoming.url?.endsWith('/access_token') && answer.statusCode === 200 && tamper.idToken) {
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

describe('an ID token that is not CIS2’s for this sign-in is refused (a man in the middle of the token response)', async () => {
  const tamper: { idToken?: (idToken: string) => Promise<string> } = {};
  const proxy = await startTamperingProxy(tamper);
  after(() => proxy.close());
  const triage = await startTriage({ after }, { cis2: { publicUrl: proxy.url, acrValues: 'AAL3_ANY' } });
  proxy.setTarget(triage.cis2!.provider.url);
  await offerCis2(triage);
  const providerKey = triage.cis2!.signingKeys[0]!;

  /** Re-signs the ID token's claims, changed, with the provider's own key (or another under its kid). */
  const resign =
    (change: (claims: JWTPayload) => JWTPayload, key: 'provider' | 'another' = 'provider') =>
    async (idToken: string) => {
      const claims = change(decodeJwt(idToken));
      const signingKey =
        key === 'provider'
          ? await importJWK(providerKey as Parameters<typeof importJWK>[0], 'RS256')
          : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: providerKey.kid }).sign(signingKey);
    };

  it('takes the untouched ID token through the same proxy (the tampering below is all that differs)', async () => {
    tamper.idToken = undefined;
    const landing = await signIn(triage, gp);
    assert.equal(landing.error, undefined);
    assert.ok(landing.code);
  });

  const forgeries: [string, (idToken: string) => Promise<string>][] = [
    ['for another sign-in (wrong nonce)', resign((claims) => ({ ...claims, nonce: 'someone-elses-nonce' }))],
    [
      'issued to another client (wrong aud)',
      resign((claims) => ({ ...claims, aud: 'another-relying-party' })),
    ],
    [
      'for several audiences, this service not the authorised party (azp)',
      resign((claims) => ({
        ...claims,
        aud: [String(claims.aud), 'another-relying-party'],
        azp: 'another-relying-party',
      })),
    ],
    [
      'from another issuer (wrong iss)',
      resign((claims) => ({ ...claims, iss: 'https://am.nhsidentity.spineservices.nhs.uk' })),
    ],
    ['at a lower assurance than asked (acr AAL2_ANY)', resign((claims) => ({ ...claims, acr: 'AAL2_ANY' }))],
    ['with no acr at all', resign(({ acr: _acr, ...claims }) => claims)],
    ['expired', resign((claims) => ({ ...claims, iat: 1_000_000, exp: 1_000_600 }))],
    ['signed with another key under the provider’s key id', resign((claims) => claims, 'another')],
    [
      'unsigned (alg none)',
      (idToken) =>
        Promise.resolve(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${idToken.split('.')[1]}.`),
    ],
  ];
  for (const [what, forge] of forgeries) {
    it(`refuses an ID token ${what}: no session, and the member of staff is told on the staff page`, async () => {
      const before = await handovers(triage);
      tamper.idToken = forge;
      try {
        const landing = await signIn(triage, gp);
        assert.equal(landing.code, undefined);
        assert.ok(landing.error === 'failed' || landing.error === 'assurance', String(landing.error));
        assert.equal(await handovers(triage), before);
      } finally {
        tamper.idToken = undefined;
      }
    });
  }
});

describe('NHS CIS2 in triage’s configuration (TRIAGE_CIS2_*)', () => {
  const schema = Type.Object(Cis2ConfigFields, { additionalProperties: false });
  const { privateJwk, publicJwk, kid } = nhsLoginClientKey();
  const all = {
    TRIAGE_CIS2_ISSUER:
      'https://am.nhsidentity.spineservices.nhs.uk/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare',
    TRIAGE_CIS2_CLIENT_ID: '999999999999.apps.national',
    TRIAGE_CIS2_PRIVATE_KEY: JSON.stringify(privateJwk),
    TRIAGE_CIS2_KID: kid,
    TRIAGE_CIS2_REDIRECT_URI: 'https://gp-consult.example/api/auth/cis2/callback',
  };
  /** As triage's boot reads them: the schema (strict), then the all-or-none rule. */
  const load = (env: Record<string, string>) => () => cis2SettingsFrom(loadConfig(schema, 'TRIAGE', env));

  it('takes all five (the level AAL3_ANY unless set), or none (off)', () => {
    assert.equal(load({})(), undefined);
    assert.equal(load(all)()?.acrValues, 'AAL3_ANY');
    assert.equal(
      load({ ...all, TRIAGE_CIS2_ACR_VALUES: 'AAL2_OR_AAL3_ANY' })()?.acrValues,
      'AAL2_OR_AAL3_ANY',
    );
  });
  it('refuses half a set-up, naming what is missing, a public key where the private one goes, and an unknown level', () => {
    const { TRIAGE_CIS2_KID: _kid, ...withoutKid } = all;
    assert.throws(load(withoutKid), /TRIAGE_CIS2_KID: required/);
    assert.throws(
      load({ ...all, TRIAGE_CIS2_PRIVATE_KEY: JSON.stringify(publicJwk) }),
      /not a private RSA JWK/,
    );
    assert.throws(load({ ...all, TRIAGE_CIS2_ACR_VALUES: 'AAL1_USERPASS' }), /TRIAGE_CIS2_ACR_VALUES/);
    assert.throws(load({ TRIAGE_CIS2_ACR_VALUES: 'AAL3_ANY' }), /TRIAGE_CIS2_ACR_VALUES/);
  });
});
