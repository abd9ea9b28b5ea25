import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallTokenClaims } from '@gpc/contracts';
import { seedConsultation, startTriage } from '@gpc/test-support';

/** The claims of a token (signature checked elsewhere: the call node verifies them). */
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as CallTokenClaims & {
    aud: string;
    iss: string;
    exp: number;
    iat: number;
  };
const linkToken = (link: string) => new URL(link).hash.replace('#t=', '');

describe('video calls are made by triage: for clinicians and admins, from the request on record', () => {
  it("starts a call for the practice's request with the patient's name from the record, never the page's", async (t) => {
    const triage = await startTriage(t);
    const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
    const clinician = triage.as(triage.practiceA, 'clinician');

    const withName = await clinician.inject({
      method: 'POST',
      url: '/calls',
      payload: { consultationId, patientName: 'Someone Else' },
    });
    assert.equal(withName.statusCode, 400, 'the page cannot name the patient');

    const created = await clinician.inject({ method: 'POST', url: '/calls', payload: { consultationId } });
    assert.equal(created.statusCode, 201, created.body);
    const { callId, patientLink, hostToken } = created.json<{
      callId: string;
      patientLink: string;
      hostToken: string;
    }>();
    const patient = claimsOf(linkToken(patientLink));
    assert.deepEqual(
      { name: patient.name, role: patient.role, callId: patient.callId, aud: patient.aud },
      { name: 'Pat Example', role: 'patient', callId, aud: 'gpc-signalling' },
    );
    assert.equal(patient.consultationId, consultationId);
    assert.equal(patient.practiceId, triage.practiceA.id);
    const host = claimsOf(hostToken);
    assert.equal(host.role, 'clinician');
    assert.equal(host.sub, triage.practiceA.staff.clinician.id);
    assert.ok(host.exp - host.iat <= 300, 'a host token lives 5 minutes at most');

    const recorded = await triage.db.pool.query(
      'SELECT practice_id, consultation_id, created_by FROM video_call WHERE id = $1',
      [callId],
    );
    assert.deepEqual(recorded.rows, [
      {
        practice_id: triage.practiceA.id,
        consultation_id: consultationId,
        created_by: triage.practiceA.staff.clinician.id,
      },
    ]);
    const audited = await triage.db.pool.query(
      "SELECT actor, action FROM audit_event WHERE entity = 'video_call' AND entity_id = $1",
      [callId],
    );
    assert.deepEqual(audited.rows, [
      { actor: triage.practiceA.staff.clinician.id, action: 'start video call' },
    ]);
  });

  it("refuses reception staff, another practice's request and call, and anyone not signed in", async (t) => {
    const triage = await startTriage(t);
    const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
    const start = (role: 'reception' | 'admin') =>
      triage
        .as(triage.practiceA, role)
        .inject({ method: 'POST', url: '/calls', payload: { consultationId } });
    assert.equal((await start('reception')).statusCode, 403);
    const byAdmin = await start('admin');
    assert.equal(byAdmin.statusCode, 201, 'admins may run calls too');
    const { callId } = byAdmin.json<{ callId: string }>();

    const otherPractice = triage.as(triage.practiceB, 'clinician');
    const elsewhere = await otherPractice.inject({
      method: 'POST',
      url: '/calls',
      payload: { consultationId },
    });
    assert.equal(elsewhere.statusCode, 404, "another practice's request is as good as missing");
    for (const url of [`/calls/${callId}/guests`, `/calls/${callId}/host-token`]) {
      const payload = url.endsWith('guests') ? { name: 'Ana Interpreter' } : {};
      assert.equal((await otherPractice.inject({ method: 'POST', url, payload })).statusCode, 404, url);
      const receptionist = triage.as(triage.practiceA, 'reception');
      assert.equal((await receptionist.inject({ method: 'POST', url, payload })).statusCode, 403, url);
      assert.equal((await triage.app.inject({ method: 'POST', url, payload })).statusCode, 401, url);
    }
  });

  it('invites a guest by name (audited) and gives a member of staff a fresh host token of their own', async (t) => {
    const triage = await startTriage(t);
    const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
    const clinician = triage.as(triage.practiceA, 'clinician');
    const { callId } = (
      await clinician.inject({ method: 'POST', url: '/calls', payload: { consultationId } })
    ).json<{ callId: string }>();

    const invited = await clinician.inject({
      method: 'POST',
      url: `/calls/${callId}/guests`,
      payload: { name: 'Ana Interpreter' },
    });
    assert.equal(invited.statusCode, 201, invited.body);
    const guest = claimsOf(linkToken(invited.json<{ link: string }>().link));
    assert.deepEqual(
      { name: guest.name, role: guest.role, callId: guest.callId },
      {
        name: 'Ana Interpreter',
        role: 'guest',
        callId,
      },
    );

    // another clinician of the practice joins the call as themselves
    const admin = triage.as(triage.practiceA, 'admin');
    const fresh = await admin.inject({ method: 'POST', url: `/calls/${callId}/host-token`, payload: {} });
    assert.equal(fresh.statusCode, 200, fresh.body);
    const host = claimsOf(fresh.json<{ token: string }>().token);
    assert.equal(host.sub, triage.practiceA.staff.admin.id);
    assert.equal(host.name, triage.practiceA.staff.admin.name);
    const audited = await triage.db.pool.query(
      "SELECT action FROM audit_event WHERE entity = 'video_call' AND entity_id = $1 ORDER BY id",
      [callId],
    );
    assert.deepEqual(
      audited.rows.map((row: { action: string }) => row.action),
      ['start video call', 'invite guest to video call'],
    );
  });
});
