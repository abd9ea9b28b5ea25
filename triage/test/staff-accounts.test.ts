import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { EnrolledSession, MfaEnrolment, SignInStep, StaffSession } from '@gpc/contracts';
import { ConfigError } from '@gpc/contracts';
import { startTriage, totpCode, type SeededPractice, type TestTriage } from '@gpc/test-support';
import { trustedProxiesFrom } from '../src/trusted-proxies';

/**
 * Staff accounts (issue 12, finding 6): TOTP MFA with recovery codes, required by practice policy;
 * password change and admin resets; refresh-token families with reuse detection. Each control is
 * attacked here against real PostgreSQL, and refuses.
 */

type Role = 'admin' | 'clinician' | 'reception';
const json = <T>(response: LightMyRequestResponse): T => response.json<T>();

/** A code the app does not show now, nor one step either side (what a guesser sends). */
function wrongCode(secret: string): string {
  const near = [-30_000, 0, 30_000].map((offset) => totpCode(secret, Date.now() + offset));
  let code = 123456;
  while (near.includes(String(code))) code++;
  return String(code);
}

/** These tests sign in often from one address: its per-address limit is tested on its own below. */
const manySignIns = { rateLimitAllowList: ['127.0.0.1'] };

function helpers(world: TestTriage) {
  const { app } = world;
  const login = (practice: SeededPractice, role: Role, password = practice.staff[role].password) =>
    app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { odsCode: practice.odsCode, email: practice.staff[role].email, password },
    });
  const post = (url: string, payload: object, token?: string) =>
    app.inject({
      method: 'POST',
      url,
      payload,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  /** Enrols the member of staff through their account page's API; their secret and recovery codes. */
  async function enrol(
    practice: SeededPractice,
    role: Role,
  ): Promise<{ secret: string; recoveryCodes: string[] }> {
    const { headers } = world.as(practice, role);
    const started = await app.inject({ method: 'POST', url: '/account/mfa/enrolment', headers, payload: {} });
    assert.equal(started.statusCode, 200, started.body);
    const { secret } = json<MfaEnrolment>(started);
    const confirmed = await app.inject({
      method: 'POST',
      url: '/account/mfa/confirm',
      headers,
      payload: { code: totpCode(secret) },
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    return { secret, recoveryCodes: json<{ recoveryCodes: string[] }>(confirmed).recoveryCodes };
  }
  const setPolicy = (practice: SeededPractice, requiredRoles: Role[]) =>
    app.inject({
      method: 'PUT',
      url: '/practice/mfa-policy',
      headers: world.as(practice, 'admin').headers,
      payload: { requiredRoles },
    });
  return { login, post, bearer, enrol, setPolicy };
}

describe('staff MFA: sign-in in two steps, codes that work once, enrolment the practice requires (real PostgreSQL)', async () => {
  const world = await startTriage({ after }, manySignIns);
  const { app, db, practiceA: practice } = world;
  const { login, post, bearer, enrol, setPolicy } = helpers(world);

  it('signs a member of staff with MFA in with their password then a code, refusing a wrong code and a replayed one', async () => {
    const { secret } = await enrol(practice, 'clinician');
    const stored = await db.pool.query<{ totp_secret: string }>(
      'SELECT totp_secret FROM staff WHERE id = $1',
      [practice.staff.clinician.id],
    );
    assert.notEqual(stored.rows[0]!.totp_secret, secret, 'the secret is not stored as it was shown');
    const account = await app.inject({
      method: 'GET',
      url: '/account',
      headers: world.as(practice, 'clinician').headers,
    });
    assert.equal(account.body.includes(secret), false, 'the secret never comes back out');

    const first = await login(practice, 'clinician');
    assert.equal(first.statusCode, 200);
    const step = json<SignInStep>(first);
    assert.equal(step.step, 'totp');
    assert.equal('accessToken' in step, false, 'no session on the password alone');

    const wrong = await post('/auth/mfa', { pendingToken: step.pendingToken, code: wrongCode(secret) });
    assert.equal(wrong.statusCode, 401);

    // the enrolment used this step's code: the next step's, as the app shows it in a moment
    const code = totpCode(secret, Date.now() + 30_000);
    const passed = await post('/auth/mfa', { pendingToken: step.pendingToken, code });
    assert.equal(passed.statusCode, 200, passed.body);
    const session = json<StaffSession>(passed);
    const me = await app.inject({ method: 'GET', url: '/account', headers: bearer(session.accessToken) });
    assert.equal(me.statusCode, 200);

    // a code seen over the shoulder, replayed within its window with the password: refused
    const again = json<SignInStep>(await login(practice, 'clinician'));
    const replayed = await post('/auth/mfa', { pendingToken: again.pendingToken, code });
    assert.equal(replayed.statusCode, 401);
    assert.equal(replayed.json<{ accessToken?: string }>().accessToken, undefined);
  });

  it('takes each recovery code once in place of a code', async () => {
    const { recoveryCodes } = await enrol(practice, 'admin');
    assert.equal(recoveryCodes.length, 10);
    assert.equal(new Set(recoveryCodes).size, 10);
    const hashes = await db.pool.query<{ code_hash: string }>(
      'SELECT code_hash FROM staff_recovery_code WHERE staff_id = $1',
      [practice.staff.admin.id],
    );
    assert.equal(hashes.rowCount, 10);
    assert.ok(
      hashes.rows.every((row) => !recoveryCodes.includes(row.code_hash)),
      'stored hashed',
    );

    const code = recoveryCodes[3]!;
    const first = json<SignInStep>(await login(practice, 'admin'));
    const used = await post('/auth/mfa', { pendingToken: first.pendingToken, code: code.toLowerCase() });
    assert.equal(used.statusCode, 200, used.body);
    const second = json<SignInStep>(await login(practice, 'admin'));
    const usedAgain = await post('/auth/mfa', { pendingToken: second.pendingToken, code });
    assert.equal(usedAgain.statusCode, 401);
    const account = await app.inject({
      method: 'GET',
      url: '/account',
      headers: bearer(json<StaffSession>(used).accessToken),
    });
    assert.equal(account.json<{ recoveryCodesLeft: number }>().recoveryCodesLeft, 9);
    const audited = await db.pool.query(
      `SELECT 1 FROM audit_event WHERE entity_id = $1 AND action = 'mfa recovery code used'`,
      [practice.staff.admin.id],
    );
    assert.equal(audited.rowCount, 1);
  });

  it('refuses the mfa-pending proof as an access token, for another step, or a second time', async () => {
    const { practiceB: other } = world;
    const { secret } = await enrol(other, 'clinician');
    const step = json<SignInStep>(await login(other, 'clinician'));
    for (const url of ['/account', '/consultations', '/staff']) {
      const asToken = await app.inject({ method: 'GET', url, headers: bearer(step.pendingToken) });
      assert.equal(asToken.statusCode, 401, `${url} with the proof as a bearer token`);
    }
    const wrongStep = await post('/auth/mfa/enrolment', { pendingToken: step.pendingToken });
    assert.equal(wrongStep.statusCode, 401, 'a proof for the code step cannot start an enrolment');
    const passed = await post('/auth/mfa', {
      pendingToken: step.pendingToken,
      code: totpCode(secret, Date.now() + 30_000),
    });
    assert.equal(passed.statusCode, 200, passed.body);
    const reused = await post('/auth/mfa', {
      pendingToken: step.pendingToken,
      code: totpCode(secret, Date.now() + 30_000),
    });
    assert.equal(reused.statusCode, 401, 'spent');
  });

  it('gives a clinician whose practice requires MFA no session until they have enrolled', async () => {
    const { practiceB: other } = world;
    assert.equal((await setPolicy(other, ['admin', 'clinician'])).statusCode, 200);
    const step = json<SignInStep>(await login(other, 'admin'));
    assert.equal(step.step, 'enrol-mfa');
    assert.equal('accessToken' in step, false);
    // nothing but enrolment: not the code step, not the API
    assert.equal(
      (await post('/auth/mfa', { pendingToken: step.pendingToken, code: '123456' })).statusCode,
      401,
    );
    assert.equal(
      (await app.inject({ method: 'GET', url: '/account', headers: bearer(step.pendingToken) })).statusCode,
      401,
    );

    const started = await post('/auth/mfa/enrolment', { pendingToken: step.pendingToken });
    assert.equal(started.statusCode, 200, started.body);
    const enrolment = json<MfaEnrolment>(started);
    assert.match(enrolment.qrCode, /^data:image\/svg\+xml;base64,/);
    assert.match(enrolment.otpauthUrl, /^otpauth:\/\/totp\/.*secret=/);
    const wrong = await post('/auth/mfa/enrolment/confirm', {
      pendingToken: step.pendingToken,
      code: wrongCode(enrolment.secret),
    });
    assert.equal(wrong.statusCode, 400);
    const confirmed = await post('/auth/mfa/enrolment/confirm', {
      pendingToken: step.pendingToken,
      code: totpCode(enrolment.secret),
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    const { recoveryCodes, session } = json<EnrolledSession>(confirmed);
    assert.equal(recoveryCodes.length, 10);
    assert.equal(
      (await app.inject({ method: 'GET', url: '/account', headers: bearer(session.accessToken) })).statusCode,
      200,
    );
    // from now on, the code step
    assert.equal(json<SignInStep>(await login(other, 'admin')).step, 'totp');
    // a role the practice does not require it of signs in as before
    assert.ok('accessToken' in json<StaffSession>(await login(other, 'reception')));
    // and only admins set the policy
    const byClinician = await app.inject({
      method: 'PUT',
      url: '/practice/mfa-policy',
      headers: world.as(other, 'clinician').headers,
      payload: { requiredRoles: [] },
    });
    assert.equal(byClinician.statusCode, 403);
  });
});

describe('staff sessions: refresh-token families, password change, admin resets (real PostgreSQL)', async () => {
  const world = await startTriage({ after }, manySignIns);
  const { app, db, practiceA: practice, practiceB: other } = world;
  const { login, post, bearer, enrol } = helpers(world);
  const session = async (role: Role, at = practice) => json<StaffSession>(await login(at, role));
  const refresh = (refreshToken: string) => post('/auth/refresh', { refreshToken });

  it('revokes the whole family when a spent refresh token is presented again: the thief’s and the owner’s tokens both stop', async () => {
    const owner = await session('reception');
    const otherDevice = await session('reception');
    const stolen = owner.refreshToken; // copied by a thief
    const renewed = await refresh(owner.refreshToken);
    assert.equal(renewed.statusCode, 200);
    const ownerNext = json<StaffSession>(renewed);

    const replay = await refresh(stolen);
    assert.equal(replay.statusCode, 401, 'the spent token is refused');
    assert.equal((await refresh(ownerNext.refreshToken)).statusCode, 401, 'and the family with it');
    // and the access tokens out before the reuse (the thief may hold one): the member's access closes now
    const withAccessToken = await app.inject({
      method: 'GET',
      url: '/account',
      headers: bearer(ownerNext.accessToken),
    });
    assert.equal(withAccessToken.statusCode, 401);
    assert.equal(
      (await refresh(otherDevice.refreshToken)).statusCode,
      200,
      'another sign-in is its own family',
    );
    const audited = await db.pool.query(
      `SELECT 1 FROM audit_event WHERE entity_id = $1 AND action LIKE 'refresh token reused%'`,
      [practice.staff.reception.id],
    );
    assert.equal(audited.rowCount, 1);

    // the thief first: the owner's next refresh is the reuse, and the thief's new token dies with it
    const victim = await session('reception');
    const thief = json<StaffSession>(await refresh(victim.refreshToken));
    assert.equal((await refresh(victim.refreshToken)).statusCode, 401);
    assert.equal((await refresh(thief.refreshToken)).statusCode, 401);
  });

  it('changes a password only with the current one, and ends every other session', async () => {
    const elsewhere = await session('clinician');
    const here = await session('clinician');
    const headers = bearer(here.accessToken);
    const newPassword = 'a much longer passphrase 2026';
    const wrong = await app.inject({
      method: 'POST',
      url: '/account/password',
      headers,
      payload: { currentPassword: 'not my password', newPassword },
    });
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.json<{ message: string }>().message, 'The current password is not right');
    const noCurrent = await app.inject({
      method: 'POST',
      url: '/account/password',
      headers,
      payload: { newPassword },
    });
    assert.equal(noCurrent.statusCode, 400);
    assert.equal(
      json<StaffSession>(await login(practice, 'clinician')).staff.id,
      practice.staff.clinician.id,
    );

    const changed = await app.inject({
      method: 'POST',
      url: '/account/password',
      headers,
      payload: { currentPassword: practice.staff.clinician.password, newPassword },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    // the new session works at once, though issued within the second of the revocation it follows
    const fresh = await app.inject({
      url: '/consultations',
      headers: bearer(json<StaffSession>(changed).accessToken),
    });
    assert.equal(fresh.statusCode, 200, fresh.body);
    assert.equal((await app.inject({ url: '/consultations', headers })).statusCode, 401, 'the old one stops');
    assert.equal((await refresh(elsewhere.refreshToken)).statusCode, 401, 'the other session ended');
    assert.equal((await refresh(here.refreshToken)).statusCode, 401, 'so did the old one here');
    assert.equal(
      (await refresh(json<StaffSession>(changed).refreshToken)).statusCode,
      200,
      'the new one works',
    );
    assert.equal((await login(practice, 'clinician')).statusCode, 401, 'the old password no longer signs in');
    assert.equal((await login(practice, 'clinician', newPassword)).statusCode, 200);
  });

  it('lets an admin reset a colleague’s password and MFA at their own practice, audited; refuses other practices’ staff, non-admins and themselves', async () => {
    const admin = world.as(practice, 'admin').headers;
    const target = practice.staff.reception;
    const before = await session('reception');

    // an admin of practice A at practice B's staff: as if there were no such member
    for (const url of [
      `/staff/${other.staff.reception.id}/password/reset`,
      `/staff/${other.staff.reception.id}/mfa/reset`,
    ]) {
      const refused = await app.inject({ method: 'POST', url, headers: admin, payload: {} });
      assert.equal(refused.statusCode, 404, url);
    }
    assert.equal((await login(other, 'reception')).statusCode, 200, 'their password still works');
    const byClinician = await app.inject({
      method: 'POST',
      url: `/staff/${target.id}/password/reset`,
      headers: world.as(practice, 'clinician').headers,
      payload: {},
    });
    assert.equal(byClinician.statusCode, 403);
    const self = await app.inject({
      method: 'POST',
      url: `/staff/${practice.staff.admin.id}/mfa/reset`,
      headers: admin,
      payload: {},
    });
    assert.equal(self.statusCode, 403);

    const reset = await app.inject({
      method: 'POST',
      url: `/staff/${target.id}/password/reset`,
      headers: admin,
      payload: {},
    });
    assert.equal(reset.statusCode, 200, reset.body);
    const { temporaryPassword } = reset.json<{ temporaryPassword: string }>();
    assert.ok(temporaryPassword.length >= 16);
    assert.equal((await refresh(before.refreshToken)).statusCode, 401, 'their sessions ended');
    assert.equal((await login(practice, 'reception')).statusCode, 401, 'the old password is gone');
    const step = json<SignInStep>(await login(practice, 'reception', temporaryPassword));
    assert.equal(step.step, 'change-password', 'the temporary password only leads to choosing a new one');
    assert.equal(
      (await app.inject({ method: 'GET', url: '/account', headers: bearer(step.pendingToken) })).statusCode,
      401,
    );
    const chosen = await post('/auth/password', {
      pendingToken: step.pendingToken,
      newPassword: 'reception chose this one',
    });
    assert.equal(chosen.statusCode, 200, chosen.body);
    assert.ok('accessToken' in json<StaffSession>(chosen));
    assert.equal(
      (await login(practice, 'reception', temporaryPassword)).statusCode,
      401,
      'the temporary one is gone',
    );

    await enrol(practice, 'reception');
    assert.equal(
      json<SignInStep>(await login(practice, 'reception', 'reception chose this one')).step,
      'totp',
    );
    const mfaReset = await app.inject({
      method: 'POST',
      url: `/staff/${target.id}/mfa/reset`,
      headers: admin,
      payload: {},
    });
    assert.equal(mfaReset.statusCode, 204);
    const after = json<StaffSession>(await login(practice, 'reception', 'reception chose this one'));
    assert.ok('accessToken' in after, 'MFA off: the practice does not require it of reception');
    const left = await db.pool.query('SELECT 1 FROM staff_recovery_code WHERE staff_id = $1', [target.id]);
    assert.equal(left.rowCount, 0);

    const audit = await db.pool.query<{ actor: string; action: string }>(
      `SELECT actor, action FROM audit_event WHERE entity_id = $1 AND action IN ('password reset', 'mfa reset') ORDER BY id`,
      [target.id],
    );
    assert.deepEqual(audit.rows, [
      { actor: practice.staff.admin.id, action: 'password reset' },
      { actor: practice.staff.admin.id, action: 'mfa reset' },
    ]);
  });
});

describe('sign-in rate limits keyed per account and per client address, behind a trusted proxy (real PostgreSQL)', async () => {
  const proxy = '10.0.0.5';
  const capSeconds = 4;
  const world = await startTriage(
    { after },
    { trustedProxies: [proxy], signInBackoff: { freeAttempts: 5, capSeconds } },
  );
  const { app, practiceA: practice } = world;
  /** A sign-in arriving through the proxy, from `client`. */
  const signInFrom = (client: string, email: string, password: string) =>
    app.inject({
      method: 'POST',
      url: '/auth/login',
      remoteAddress: proxy,
      headers: { 'x-forwarded-for': client },
      payload: { odsCode: practice.odsCode, email, password },
    });
  const clinician = practice.staff.clinician;

  it('never locks a member of staff out for longer than the capped back-off, whatever an attacker sprays from many addresses', async () => {
    const waits: number[] = [];
    let refused = 0;
    // three rounds of spraying from 40 addresses each, the later ones after each back-off ends
    for (let round = 0; round < 3; round++) {
      for (let n = 0; n < 40; n++) {
        const response = await signInFrom(
          `203.0.113.${round * 40 + n + 1}`,
          clinician.email,
          `guess ${round} ${n}`,
        );
        if (response.statusCode === 429) {
          refused++;
          waits.push(Number(response.headers['retry-after']));
        } else assert.equal(response.statusCode, 401);
      }
      await sleep((Math.max(...waits) + 0.2) * 1000);
    }
    assert.ok(refused > 100, `the back-off refused most guesses (${refused} of 120)`);
    assert.ok(
      waits.every((seconds) => seconds >= 1 && seconds <= capSeconds),
      `waits ${[...new Set(waits)].join(', ')}`,
    );

    // the attacker keeps going; the clinician, told how long to wait, signs in once it has passed
    await signInFrom('203.0.113.200', clinician.email, 'one more guess');
    const told = await signInFrom('198.51.100.7', clinician.email, clinician.password);
    assert.equal(told.statusCode, 429);
    const retryAfter = Number(told.headers['retry-after']);
    assert.ok(retryAfter <= capSeconds);
    // meanwhile colleagues sign in as usual: the back-off is the account's, not the practice's
    const colleague = await signInFrom(
      '198.51.100.8',
      practice.staff.reception.email,
      practice.staff.reception.password,
    );
    assert.equal(colleague.statusCode, 200);
    await sleep((retryAfter + 0.2) * 1000);
    const signedIn = await signInFrom('198.51.100.7', clinician.email, clinician.password);
    assert.equal(signedIn.statusCode, 200, signedIn.body);
  });

  it('limits each client address on its own, so one address cannot stop the practice signing in', async () => {
    const attacker = '203.0.113.250';
    let limited = false;
    for (let n = 0; n < 12 && !limited; n++) {
      // a different (unknown) account each time: the address limit, not any account's back-off
      const response = await signInFrom(attacker, `nobody${n}@example.org`, 'guess');
      limited = response.statusCode === 429;
    }
    assert.ok(limited, 'the address is limited after 10 a minute');
    const admin = await signInFrom('198.51.100.9', practice.staff.admin.email, practice.staff.admin.password);
    assert.equal(admin.statusCode, 200, 'staff at other addresses sign in');
    assert.equal(
      (await signInFrom(attacker, practice.staff.admin.email, practice.staff.admin.password)).statusCode,
      429,
    );
  });

  it('ignores X-Forwarded-For from anyone but the trusted proxy: a client cannot pick a fresh address per guess', async () => {
    const direct = '192.0.2.77';
    let limitedAt = 0;
    for (let n = 1; n <= 12 && !limitedAt; n++) {
      const response = await app.inject({
        method: 'POST',
        url: '/auth/login',
        remoteAddress: direct,
        headers: { 'x-forwarded-for': `198.18.0.${n}` },
        payload: { odsCode: practice.odsCode, email: `spoof${n}@example.org`, password: 'guess' },
      });
      if (response.statusCode === 429) limitedAt = n;
    }
    assert.equal(limitedAt, 11, 'counted by its real address');
  });
});

describe('trusted proxies in the configuration', () => {
  it('takes addresses and CIDRs, none by default, and refuses to boot with anything else', () => {
    assert.deepEqual(trustedProxiesFrom({}), []);
    assert.deepEqual(trustedProxiesFrom({ trustedProxies: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8' }), [
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'fd00::/8',
    ]);
    for (const bad of ['proxy.example.org', '10.0.0.0/33', '10.0.0.1/8/8', '*', '']) {
      assert.throws(
        () => trustedProxiesFrom({ trustedProxies: `127.0.0.1,${bad}` }),
        (error: unknown) =>
          error instanceof ConfigError &&
          /TRIAGE_TRUSTED_PROXIES: ".*" is not an IP address or CIDR/.test(error.message),
        bad,
      );
    }
  });
});
