import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { seedConsultation, startTriage } from '@gpc/test-support';

describe('staff sign-in and the practice queue, on the real PostgreSQL and Redis', async () => {
  const { app, db, practiceA, practiceB, as, writeBackQueue } = await startTriage(
    { after },
    { writeBackQueue: {} },
  );
  const queue = writeBackQueue!;

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('signs staff in, refuses a wrong password or another practice the same way, and rotates refresh tokens', async () => {
    // the admin: the refresh token reused below revokes its family and closes the member's access,
    // which the clinician and receptionist of the tests after this one still need
    const { email, password } = practiceA.staff.admin;
    const signedIn = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { odsCode: practiceA.odsCode, email, password },
    });
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    const session = signedIn.json<{ accessToken: string; refreshToken: string }>();
    const claims = JSON.parse(Buffer.from(session.accessToken.split('.')[1]!, 'base64url').toString()) as
      { practiceId: string; role: string; exp: number; iat: number } | undefined;
    assert.equal(claims?.practiceId, practiceA.id);
    assert.equal(claims?.role, 'admin');
    assert.ok(claims && claims.exp - claims.iat <= 5 * 60, 'access tokens live at most 5 minutes');

    for (const payload of [
      { odsCode: 'A81001', email: practiceA.staff.clinician.email, password: 'wrong' },
      {
        odsCode: 'B82002',
        email: practiceA.staff.clinician.email,
        password: practiceA.staff.clinician.password,
      },
      { odsCode: 'A81001', email: 'nobody@example.org', password: 'whatever' },
    ]) {
      const refused = await app.inject({ method: 'POST', url: '/auth/login', payload });
      assert.equal(refused.statusCode, 401);
      assert.deepEqual(refused.json(), {
        code: 'unauthorized',
        message: 'The practice, email or password is not right',
      });
    }
    const extra = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { odsCode: 'A81001', email: 'a@b.c', password: 'x', admin: true },
    });
    assert.equal(extra.statusCode, 400);

    const renewed = await app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refreshToken: session.refreshToken },
    });
    assert.equal(renewed.statusCode, 200);
    const reused = await app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refreshToken: session.refreshToken },
    });
    assert.equal(reused.statusCode, 401, 'a refresh token works once');
  });

  it('lists only the caller’s practice, with filters, and refuses calls without a valid token', async () => {
    const mine = await seedConsultation(db.pool, practiceA.id, { kind: 'admin' });
    const theirs = await seedConsultation(db.pool, practiceB.id);
    const { token: accessToken } = as(practiceA, 'reception');

    const list = await app.inject({ method: 'GET', url: '/consultations', headers: bearer(accessToken) });
    assert.equal(list.statusCode, 200);
    const ids = list.json<{ id: string }[]>().map((item) => item.id);
    assert.ok(ids.includes(mine));
    assert.ok(!ids.includes(theirs), 'another practice’s request never appears');

    const filtered = await app.inject({
      method: 'GET',
      url: '/consultations?kind=medical&limit=50&olderThanMinutes=0',
      headers: bearer(accessToken),
    });
    assert.equal(filtered.statusCode, 200, 'numbers in the query string are read as numbers');
    assert.ok(!filtered.json<{ id: string }[]>().some((item) => item.id === mine));

    assert.equal((await app.inject({ method: 'GET', url: '/consultations' })).statusCode, 401);
    // a real token whose claims were edited to another practice: the signature no longer matches
    const [header, payload, signature] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const edited = Buffer.from(
      JSON.stringify({ ...claims, practiceId: practiceB.id, role: 'admin' }),
    ).toString('base64url');
    const forged = `${header}.${edited}.${signature}`;
    assert.equal(
      (await app.inject({ method: 'GET', url: '/consultations', headers: bearer(forged) })).statusCode,
      401,
    );
    const unknownStatus = (
      await app.inject({ method: 'GET', url: '/consultations?status=lost', headers: bearer(accessToken) })
    ).statusCode;
    assert.equal(unknownStatus, 400, 'an unknown status is a validation error');
  });

  it('assigns, prioritises and moves a request along, audited, and never across practices', async () => {
    const id = await seedConsultation(db.pool, practiceA.id);
    const { token: accessToken } = as(practiceA, 'reception');
    const changed = await app.inject({
      method: 'PATCH',
      url: `/consultations/${id}`,
      headers: bearer(accessToken),
      payload: { assignedTo: practiceA.staff.clinician.id, priority: 'urgent', status: 'in_progress' },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual(
      (({ assignedTo, priority, status }) => ({ assignedTo, priority, status }))(
        changed.json<Record<string, unknown>>(),
      ),
      { assignedTo: practiceA.staff.clinician.id, priority: 'urgent', status: 'in_progress' },
    );
    const audit = await db.pool.query('SELECT action FROM audit_event WHERE entity_id = $1 ORDER BY id', [
      id,
    ]);
    assert.equal(audit.rowCount, 3);

    const toOutsider = await app.inject({
      method: 'PATCH',
      url: `/consultations/${id}`,
      headers: bearer(accessToken),
      payload: { assignedTo: practiceB.staff.clinician.id },
    });
    assert.equal(toOutsider.statusCode, 400, 'cannot assign to another practice’s staff');

    const { token: otherPractice } = as(practiceB, 'admin');
    const crossPractice = await app.inject({
      method: 'PATCH',
      url: `/consultations/${id}`,
      headers: bearer(otherPractice),
      payload: { priority: 'routine' },
    });
    assert.equal(crossPractice.statusCode, 404, 'another practice’s request is as good as missing');
    const closeCross = await app.inject({
      method: 'POST',
      url: `/consultations/${id}/close`,
      headers: bearer(otherPractice),
      payload: { outcomeCode: '182836005', outcomeDisplay: 'Review of medication', summary: 'x' },
    });
    assert.equal(closeCross.statusCode, 404);
  });

  it('lets clinicians close with a coded outcome, and enqueues the write-back once', async () => {
    const id = await seedConsultation(db.pool, practiceA.id);
    const reception = as(practiceA, 'reception');
    const close = (token: string) =>
      app.inject({
        method: 'POST',
        url: `/consultations/${id}/close`,
        headers: bearer(token),
        payload: {
          outcomeCode: '182836005',
          outcomeDisplay: 'Review of medication',
          summary: 'Medication reviewed; no change.',
        },
      });
    assert.equal((await close(reception.token)).statusCode, 403, 'reception cannot close a consultation');

    const clinician = as(practiceA, 'clinician');
    const closed = await close(clinician.token);
    assert.equal(closed.statusCode, 200, closed.body);
    assert.equal(closed.json<{ status: string }>().status, 'closed');
    assert.equal((await close(clinician.token)).statusCode, 409);

    const jobs = await queue.getJobs(['waiting', 'delayed', 'active']);
    assert.deepEqual(
      jobs.filter((job) => job.data.consultationId === id).map((job) => job.data),
      [{ consultationId: id, practiceId: practiceA.id }],
    );
    // the outbox row committed with the close: the summary is owed to the GP record
    const owed = await db.pool.query(
      'SELECT status, practice_id FROM write_back WHERE consultation_id = $1',
      [id],
    );
    assert.deepEqual(owed.rows, [{ status: 'pending', practice_id: practiceA.id }]);
    const detail = await app.inject({ url: `/consultations/${id}`, headers: bearer(clinician.token) });
    assert.equal(detail.json<{ writeBack: { status: string } }>().writeBack.status, 'pending');
    const bad = await app.inject({
      method: 'POST',
      url: `/consultations/${await seedConsultation(db.pool, practiceA.id)}/close`,
      headers: bearer(clinician.token),
      payload: { outcomeCode: 'not-snomed', outcomeDisplay: 'x', summary: 'x' },
    });
    assert.equal(bad.statusCode, 400);
  });
});
