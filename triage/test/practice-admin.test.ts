import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { SeededPractice } from '@gpc/test-support';
import { startTriage, testSecretsKeyring } from '@gpc/test-support';

describe('practice admins run their practice: settings and staff (real PostgreSQL)', async () => {
  const { app, db, practiceA: practice, practiceB: other, ...triage } = await startTriage({ after });

  async function login(odsCode: string, email: string, password: string) {
    return app.inject({ method: 'POST', url: '/auth/login', payload: { odsCode, email, password } });
  }
  const as = (p: SeededPractice, role: 'admin' | 'clinician' | 'reception') => triage.as(p, role).headers;

  it('lets an admin set opening hours, capacity, the FHIR endpoint and the link provider, and never shows a secret back', async () => {
    const headers = as(practice, 'admin');
    const apiKey = `live-${randomUUID()}-${randomUUID()}`;
    const changed = await app.inject({
      method: 'PATCH',
      url: '/practice',
      headers,
      payload: {
        openingHours: {
          mon: [['08:00', '18:30']],
          tue: [
            ['08:00', '12:00'],
            ['13:00', '18:30'],
          ],
        },
        dailyCapacity: 120,
        fhir: {
          baseUrl: 'https://gp-system.example.nhs.uk/fhir/R4',
          auth: {
            type: 'client_credentials',
            tokenUrl: 'https://gp-system.example.nhs.uk/token',
            clientId: 'gpc',
            clientSecret: 'top-secret-value',
          },
        },
        notifications: {
          provider: 'govuk-notify',
          apiKey,
          emailTemplateId: randomUUID(),
          smsTemplateId: randomUUID(),
        },
      },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    const view = changed.json<{
      dailyCapacity: number;
      fhir: { baseUrl: string; authType: string };
      notifications: { provider: string };
    }>();
    assert.equal(view.dailyCapacity, 120);
    assert.deepEqual(view.fhir, {
      baseUrl: 'https://gp-system.example.nhs.uk/fhir/R4',
      authType: 'client_credentials',
    });
    assert.equal(view.notifications.provider, 'govuk-notify');
    const read = await app.inject({ url: '/practice', headers });
    assert.ok(!read.body.includes('top-secret-value') && !read.body.includes(apiKey), 'secrets stay in');
    assert.ok(!changed.body.includes('top-secret-value') && !changed.body.includes(apiKey));
    const stored = await db.pool.query<{
      notification_settings: { apiKey: string };
      fhir_auth: { clientSecret: string };
    }>('SELECT notification_settings, fhir_auth FROM practice WHERE id = $1', [practice.id]);
    // stored encrypted for this practice (secrets-at-rest.test.ts attacks it), and the key opens it
    const { notification_settings: notifications, fhir_auth: fhirAuth } = stored.rows[0]!;
    assert.match(notifications.apiKey, /^enc:v1:test-1:/);
    assert.equal(
      testSecretsKeyring.open(notifications.apiKey, {
        practiceId: practice.id,
        field: 'notification_settings.apiKey',
      }),
      apiKey,
    );
    assert.equal(
      testSecretsKeyring.open(fhirAuth.clientSecret, {
        practiceId: practice.id,
        field: 'fhir_auth.clientSecret',
      }),
      'top-secret-value',
    );
    const untouched = await db.pool.query<{ daily_capacity: number }>(
      'SELECT daily_capacity FROM practice WHERE id = $1',
      [other.id],
    );
    assert.equal(untouched.rows[0]?.daily_capacity, 200, 'another practice is untouched');
  });

  it('refuses settings that make no sense, naming the problem', async () => {
    const headers = as(practice, 'admin');
    const cases: [unknown, RegExp][] = [
      [{ openingHours: { mon: [['18:00', '08:00']] } }, /must end after it starts/],
      [{ openingHours: { mon: [['8am', '6pm']] } }, /openingHours/],
      [{ dailyCapacity: -1 }, /dailyCapacity/],
      [{ notifications: { provider: 'smtp', host: 'relay', port: 25, secure: false } }, /notifications/],
      [{ fhir: { baseUrl: 'ftp://x', auth: { type: 'none' } } }, /baseUrl/],
      [{}, /must NOT have fewer than 1 properties|properties/],
      [{ name: 'A new name' }, /additional|name/],
    ];
    for (const [payload, message] of cases) {
      const response = await app.inject({
        method: 'PATCH',
        url: '/practice',
        headers,
        payload: payload as object,
      });
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.match(response.json<{ message: string }>().message, message, JSON.stringify(payload));
    }
  });

  it('keeps practice settings and staff to admins', async () => {
    for (const role of ['clinician', 'reception'] as const) {
      const headers = as(practice, role);
      for (const [method, url, payload] of [
        ['GET', '/practice', undefined],
        ['PATCH', '/practice', { dailyCapacity: 1 }],
        ['GET', '/staff', undefined],
        [
          'POST',
          '/staff',
          { email: 'x@a.example.org', name: 'X', role: 'admin', password: 'a-long-password-1' },
        ],
        ['PATCH', `/staff/${practice.staff.admin.id}`, { active: false }],
      ] as const) {
        const response = await app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
        assert.equal(response.statusCode, 403, `${role} ${method} ${url}`);
      }
    }
  });

  it('adds a member of staff who can then sign in, and stops one whose sessions then end', async () => {
    const headers = as(practice, 'admin');
    const added = await app.inject({
      method: 'POST',
      url: '/staff',
      headers,
      payload: {
        email: 'New.Nurse@A81001.example.org',
        name: 'New Nurse',
        role: 'clinician',
        password: 'correct horse nurse',
      },
    });
    assert.equal(added.statusCode, 201, added.body);
    const nurse = added.json<{ id: string; email: string; role: string; active: boolean }>();
    assert.deepEqual(
      { email: nurse.email, role: nurse.role, active: nurse.active },
      { email: 'new.nurse@a81001.example.org', role: 'clinician', active: true },
    );
    const again = await app.inject({
      method: 'POST',
      url: '/staff',
      headers,
      payload: {
        email: 'new.nurse@a81001.example.org',
        name: 'Twin',
        role: 'reception',
        password: 'another password!',
      },
    });
    assert.equal(again.statusCode, 409);

    const signedIn = await login('A81001', 'new.nurse@a81001.example.org', 'correct horse nurse');
    assert.equal(signedIn.statusCode, 200);
    const { refreshToken } = signedIn.json<{ refreshToken: string }>();
    const stored = await db.pool.query<{ password_hash: string }>(
      'SELECT password_hash FROM staff WHERE id = $1',
      [nurse.id],
    );
    assert.ok(!stored.rows[0]?.password_hash.includes('correct horse'), 'the password is hashed');

    const stopped = await app.inject({
      method: 'PATCH',
      url: `/staff/${nurse.id}`,
      headers,
      payload: { active: false },
    });
    assert.equal(stopped.statusCode, 200, stopped.body);
    assert.equal(
      (await login('A81001', 'new.nurse@a81001.example.org', 'correct horse nurse')).statusCode,
      401,
    );
    const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } });
    assert.equal(refreshed.statusCode, 401, 'their session ended');
    const listed = await app.inject({ url: '/staff', headers });
    assert.ok(listed.json<{ id: string; active: boolean }[]>().some((s) => s.id === nurse.id && !s.active));
  });

  it('never lets an admin lock themselves out, nor touch another practice’s staff', async () => {
    const headers = as(practice, 'admin');
    const self = practice.staff.admin.id;
    assert.equal(
      (await app.inject({ method: 'PATCH', url: `/staff/${self}`, headers, payload: { active: false } }))
        .statusCode,
      409,
    );
    assert.equal(
      (await app.inject({ method: 'PATCH', url: `/staff/${self}`, headers, payload: { role: 'reception' } }))
        .statusCode,
      409,
    );
    const theirs = await app.inject({
      method: 'PATCH',
      url: `/staff/${other.staff.clinician.id}`,
      headers,
      payload: { active: false },
    });
    assert.equal(theirs.statusCode, 404);
    const list = await app.inject({ url: '/staff', headers });
    assert.ok(!list.body.includes(other.staff.clinician.email), 'only this practice’s staff are listed');
    const audited = await db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_event WHERE practice_id = $1 AND entity IN ('staff', 'practice')",
      [practice.id],
    );
    assert.ok(audited.rows[0]!.n >= 3, 'changes are audited');
  });
});
