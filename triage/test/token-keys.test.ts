import assert from 'node:assert/strict';
import { createHmac, type JsonWebKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { defaultTokenIssuer, TokenAudience, type StaffTokenClaims } from '@gpc/contracts';
import { generateSigningKey, signStaffToken, TokenKeys } from '@gpc/triage';
import { seedConsultation, startTriage, type TestTriage } from '@gpc/test-support';

/**
 * One key per token audience: triage signs every token with its current EdDSA key (`kid`, `iss`,
 * `aud`), and no kind of token stands in for another. Each attack here is a real request to a
 * real triage (its own database), with a token that would have worked when one HMAC secret signed
 * everything and a `typ` claim told them apart.
 */

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function staffClaims(triage: TestTriage): StaffTokenClaims {
  const staff = triage.practiceA.staff.admin;
  return { typ: 'staff', sub: staff.id, practiceId: triage.practiceA.id, role: 'admin', name: staff.name };
}

/** A JWT signed HS256 with a shared secret, as @fastify/jwt signed every token before. */
function hs256(claims: object, secret: string | Buffer): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ...claims, iat: now, exp: now + 600 })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** The status of a staff route (the practice's queue) with this bearer token. */
async function staffRouteStatus(triage: TestTriage, token: string): Promise<number> {
  return (await triage.app.inject({ method: 'GET', url: '/consultations', headers: bearer(token) }))
    .statusCode;
}

/** A call for a request of practice A, started by its clinician: the patient's link token and the host token. */
async function startCall(triage: TestTriage): Promise<{ patientToken: string; hostToken: string }> {
  const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
  const created = await triage
    .as(triage.practiceA, 'clinician')
    .inject({ method: 'POST', url: '/calls', payload: { consultationId } });
  assert.equal(created.statusCode, 201, created.body);
  const { patientLink, hostToken } = created.json<{ patientLink: string; hostToken: string }>();
  return { patientToken: new URL(patientLink).hash.replace('#t=', ''), hostToken };
}

/** A thread link token and, unlocked with the patient's date of birth, a thread session token. */
async function threadTokens(triage: TestTriage): Promise<{ link: string; session: string }> {
  const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
  const sent = await triage.as(triage.practiceA, 'clinician').inject({
    method: 'POST',
    url: `/consultations/${consultationId}/messages`,
    payload: { body: 'Please send a photo of the rash.' },
  });
  assert.equal(sent.statusCode, 201, sent.body);
  const link = new URL(sent.json<{ threadLink: string }>().threadLink).hash.replace('#t=', '');
  const unlocked = await triage.app.inject({
    method: 'POST',
    url: '/threads/unlock',
    payload: { token: link, birthDate: '1980-02-03' },
  });
  assert.equal(unlocked.statusCode, 200, unlocked.body);
  return { link, session: unlocked.json<{ sessionToken: string }>().sessionToken };
}

describe('triage signs each kind of token for its own audience, and refuses one where another is expected', () => {
  it('refuses at the staff routes a call token, a thread link or session, and a token of an unknown key', async (t) => {
    const triage = await startTriage(t);
    assert.equal(await staffRouteStatus(triage, triage.as(triage.practiceA, 'admin').token), 200);

    const { patientToken, hostToken } = await startCall(triage);
    assert.equal(await staffRouteStatus(triage, hostToken), 401, "a call's host token is not a staff token");
    assert.equal(
      await staffRouteStatus(triage, patientToken),
      401,
      "a patient's call link is not a staff token",
    );
    const { link, session } = await threadTokens(triage);
    assert.equal(await staffRouteStatus(triage, link), 401, 'a thread link is not a staff token');
    assert.equal(await staffRouteStatus(triage, session), 401, 'a thread session is not a staff token');

    // the same claims, signed by a key triage does not hold (e.g. a call node's, or an attacker's)
    const stranger = new TokenKeys([generateSigningKey()], defaultTokenIssuer);
    assert.equal(await staffRouteStatus(triage, signStaffToken(stranger, staffClaims(triage))), 401);
    // and by a key that claims triage's kid
    const [current] = triage.app.tokens.publicJwks().keys;
    const impostor = new TokenKeys([generateSigningKey(current!.kid)], defaultTokenIssuer);
    assert.equal(await staffRouteStatus(triage, signStaffToken(impostor, staffClaims(triage))), 401);
  });

  it('refuses an HS256 token, whether signed with a shared secret or with its own public key', async (t) => {
    const triage = await startTriage(t);
    const claims = staffClaims(triage);
    // what a call node holding the old shared secret could mint: an admin token for any practice
    assert.equal(
      await staffRouteStatus(triage, hs256(claims, 'a-shared-secret-that-is-long-enough-0123456789')),
      401,
    );
    // algorithm confusion: the published public key used as an HMAC secret
    const [published] = triage.app.tokens.publicJwks().keys;
    assert.equal(await staffRouteStatus(triage, hs256(claims, Buffer.from(published!.x, 'base64url'))), 401);
    assert.equal(await staffRouteStatus(triage, hs256(claims, published!.x)), 401);
  });

  it('refuses a staff token of the right key for another audience or from another issuer', async (t) => {
    const key = generateSigningKey();
    const triage = await startTriage(t, { signingKeys: [key] });
    const ours = new TokenKeys([key], defaultTokenIssuer);
    const claims = staffClaims(triage);
    assert.equal(
      await staffRouteStatus(triage, ours.sign('staff', claims, 300)),
      200,
      'the right audience passes',
    );
    for (const kind of ['call', 'threadLink', 'threadSession'] as const)
      assert.equal(
        await staffRouteStatus(triage, ours.sign(kind, claims, 300)),
        401,
        `aud ${TokenAudience[kind]}`,
      );
    const elsewhere = new TokenKeys([key], 'https://another-issuer.example');
    assert.equal(await staffRouteStatus(triage, elsewhere.sign('staff', claims, 300)), 401, 'another iss');
  });

  it('refuses a thread link as a session, a session as a link, and a staff token as either', async (t) => {
    const triage = await startTriage(t);
    const { link, session } = await threadTokens(triage);
    const readThread = (token: string) =>
      triage.app.inject({ method: 'GET', url: '/threads/messages', headers: bearer(token) });
    const unlock = (token: string) =>
      triage.app.inject({
        method: 'POST',
        url: '/threads/unlock',
        payload: { token, birthDate: '1980-02-03' },
      });
    assert.equal((await readThread(session)).statusCode, 200);
    assert.equal((await readThread(link)).statusCode, 401, 'a link does not skip the date of birth');
    assert.equal((await unlock(link)).statusCode, 200);
    assert.equal((await unlock(session)).statusCode, 401, 'a session is not a link');
    const staffToken = triage.as(triage.practiceA, 'clinician').token;
    assert.equal((await readThread(staffToken)).statusCode, 401, 'a staff token is not a thread session');
    assert.equal((await unlock(staffToken)).statusCode, 401, 'a staff token is not a thread link');
    const { hostToken } = await startCall(triage);
    assert.equal((await readThread(hostToken)).statusCode, 401, 'a call token is not a thread session');
  });

  it('signs with the first key and verifies with every key it holds: a rotation without downtime', async (t) => {
    const previous = generateSigningKey();
    const next = generateSigningKey();
    const before = await startTriage(t, { signingKeys: [previous] });
    const oldToken = before.as(before.practiceA, 'admin').token;
    const kidOf = (token: string) =>
      (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    assert.equal(kidOf(oldToken), previous.kid);

    // a new current key first, the previous one kept: its tokens still pass, new ones are signed with the new key
    const during = await startTriage(t, { signingKeys: [next, previous] });
    assert.equal(await staffRouteStatus(during, oldToken), 200, "the previous key's token still verifies");
    const newToken = during.as(during.practiceA, 'admin').token;
    assert.equal(kidOf(newToken), next.kid);
    const jwks = await during.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.deepEqual(
      jwks.json<{ keys: JsonWebKey[] }>().keys.map((key) => key.kid),
      [next.kid, previous.kid],
      'both keys published, the current one first',
    );
    assert.ok(
      jwks.json<{ keys: JsonWebKey[] }>().keys.every((key) => key.d === undefined),
      'no private part is published',
    );

    // the previous key removed: its tokens stop
    const after = await startTriage(t, { signingKeys: [next] });
    assert.equal(await staffRouteStatus(after, oldToken), 401, "the removed key's token is refused");
    assert.equal(await staffRouteStatus(after, newToken), 200);
  });

  it('refuses a signing key set that is not one at boot, naming TRIAGE_SIGNING_KEYS', async () => {
    const { loadTriageConfig } = await import('@gpc/triage');
    const base = {
      TRIAGE_DATABASE_URL: 'postgres://x',
      TRIAGE_REDIS_URL: 'redis://x',
      TRIAGE_S3_BUCKET: 'bucket',
      TRIAGE_S3_ACCESS_KEY_ID: 'k',
      TRIAGE_S3_SECRET_ACCESS_KEY: 's',
    };
    const { d: _private, ...publicOnly } = generateSigningKey();
    for (const keys of [
      'a-shared-secret-that-is-long-enough-0123456789',
      JSON.stringify({ keys: [publicOnly] }),
    ])
      assert.throws(() => loadTriageConfig({ ...base, TRIAGE_SIGNING_KEYS: keys }), /TRIAGE_SIGNING_KEYS: /);
    assert.throws(
      () =>
        loadTriageConfig({
          ...base,
          TRIAGE_SIGNING_KEYS: JSON.stringify({ keys: [generateSigningKey()] }),
          TRIAGE_JWT_SECRET: 'x'.repeat(40),
        }),
      /TRIAGE_JWT_SECRET: unknown key/,
    );
    assert.ok(
      loadTriageConfig({ ...base, TRIAGE_SIGNING_KEYS: JSON.stringify({ keys: [generateSigningKey()] }) }),
    );
  });
});
