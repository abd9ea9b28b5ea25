import assert from 'node:assert/strict';
import { randomUUID, type JsonWebKey } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { importJWK, SignJWT, type JWK } from 'jose';
import {
  callEventsAudience,
  callNodeIssuer,
  type CallDataView,
  type CallEvent,
  type QueueItem,
} from '@gpc/contracts';
import { generateSigningKey } from '@gpc/triage';
import { seedConsultation, startTriage } from '@gpc/test-support';

/** A call node's token for the call-events endpoint, signed with `key`; claims and lifetime as asked. */
async function callNodeToken(
  key: JsonWebKey,
  { audience = callEventsAudience, issuer = callNodeIssuer, seconds = 60, issuedAgo = 0 } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000) - issuedAgo;
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', kid: String(key.kid) })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject('node-1')
    .setIssuedAt(now)
    .setExpirationTime(now + seconds)
    .sign(await importJWK(key as JWK, 'EdDSA'));
}

describe('call data: call nodes post call events, staff read them, admins export them', async () => {
  const triage = await startTriage({ after });
  const { app, db, practiceA, practiceB, as } = triage;
  const clinician = as(practiceA, 'clinician');

  /** A call triage made for a new request of practice A. */
  async function newCall(): Promise<{ callId: string; consultationId: string }> {
    const consultationId = await seedConsultation(db.pool, practiceA.id);
    const made = await clinician.inject({ method: 'POST', url: '/calls', payload: { consultationId } });
    assert.equal(made.statusCode, 201, made.body);
    return { callId: made.json<{ callId: string }>().callId, consultationId };
  }

  const post = async (events: unknown[], token?: string) =>
    app.inject({
      method: 'POST',
      url: '/internal/call-events',
      headers: { authorization: `Bearer ${token ?? (await callNodeToken(triage.callNodeKey))}` },
      payload: { events },
    });

  /** A call's events as a call node makes them: the patient joins, reports once, leaves; the call ends. */
  function callEvents(callId: string, practiceId = practiceA.id): CallEvent[] {
    const attendanceId = randomUUID();
    const at = (second: number) => new Date(Date.UTC(2026, 10, 28, 10, 0, second)).toISOString();
    const base = { callId, practiceId };
    return [
      {
        type: 'joined',
        eventId: attendanceId,
        ...base,
        at: at(0),
        participantId: 'link-1',
        role: 'patient',
        name: 'Pat Example',
      },
      {
        type: 'quality',
        eventId: randomUUID(),
        ...base,
        at: at(15),
        attendanceId,
        report: {
          windowSeconds: 15,
          path: 'relay-tls',
          sendKbps: 700,
          receiveKbps: 900,
          // a loss a `real` column cannot hold exactly: staff must see 1.02, not 1.0199999809265137
          lossPercent: 1.02,
          roundTripMs: 40,
          freezeCount: 1,
          freezeSeconds: 0.5,
        },
      },
      { type: 'left', eventId: randomUUID(), ...base, at: at(50), attendanceId, reason: 'left' },
      { type: 'ended', eventId: randomUUID(), ...base, at: at(55) },
    ];
  }

  const stored = async (callId: string) => {
    const { rows } = await db.pool.query<{ attendances: number; samples: number }>(
      `SELECT (SELECT count(*)::int FROM video_call_attendance WHERE call_id = $1) AS attendances,
              (SELECT count(*)::int FROM video_call_quality q JOIN video_call_attendance a ON a.id = q.attendance_id
                WHERE a.call_id = $1) AS samples`,
      [callId],
    );
    return rows[0]!;
  };

  it('refuses call events without a call node’s own token: none, staff, call links, another key, expired or long-lived', async () => {
    const { callId } = await newCall();
    const events = callEvents(callId);
    const otherKey = generateSigningKey();
    const link = app.tokens.sign(
      'call',
      {
        typ: 'call',
        sub: 'x',
        practiceId: practiceA.id,
        name: 'Pat',
        callId,
        consultationId: callId,
        role: 'patient',
      },
      60,
    );
    const refused: [string, string | undefined][] = [
      ['a staff access token', clinician.token],
      ['an admin’s access token', as(practiceA, 'admin').token],
      ['a call link token', link],
      ['a token of a key triage does not know', await callNodeToken(otherKey)],
      [
        'a token for another audience',
        await callNodeToken(triage.callNodeKey, { audience: 'gpc-triage/staff' }),
      ],
      ['a token of another issuer', await callNodeToken(triage.callNodeKey, { issuer: 'gpc-triage' })],
      ['an expired token', await callNodeToken(triage.callNodeKey, { issuedAgo: 100, seconds: 60 })],
      ['a token living an hour', await callNodeToken(triage.callNodeKey, { seconds: 3600 })],
    ];
    for (const [what, token] of refused) {
      const answer = await post(events, token);
      assert.equal(answer.statusCode, 401, what);
      assert.equal(answer.json<{ code: string }>().code, 'unauthorized', what);
    }
    const bare = await app.inject({ method: 'POST', url: '/internal/call-events', payload: { events } });
    assert.equal(bare.statusCode, 401, 'no token at all');
    assert.deepEqual(await stored(callId), { attendances: 0, samples: 0 });
  });

  it('refuses a malformed post with a coded badRequest and records none of its events', async () => {
    const { callId } = await newCall();
    const [joined, quality] = callEvents(callId) as [
      CallEvent & { type: 'joined' },
      CallEvent & { type: 'quality' },
    ];
    const malformed: [string, unknown[]][] = [
      [
        'a path that is not one of ours',
        [joined, { ...quality, report: { ...quality.report, path: 'relay' } }],
      ],
      ['an extra field', [{ ...joined, nhsNumber: '9000000009' }]],
      ['an unknown event type', [{ ...joined, type: 'kicked' }]],
      ['an event id that is not a uuid', [{ ...joined, eventId: 'not-a-uuid' }]],
      ['loss over 100 %', [joined, { ...quality, report: { ...quality.report, lossPercent: 101 } }]],
      ['no events', []],
      ['more than 100 events', Array.from({ length: 101 }, () => ({ ...joined, eventId: randomUUID() }))],
    ];
    for (const [what, events] of malformed) {
      const answer = await post(events);
      assert.equal(answer.statusCode, 400, what);
      assert.equal(answer.json<{ code: string }>().code, 'badRequest', what);
    }
    assert.deepEqual(await stored(callId), { attendances: 0, samples: 0 });
  });

  it('records each event once, however often a call node sends its post again', async () => {
    const { callId } = await newCall();
    const events = callEvents(callId);
    const first = await post(events);
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.json(), { recorded: 4, alreadyRecorded: 0, notRecorded: 0 });
    for (let retry = 0; retry < 2; retry++) {
      const again = await post(events);
      assert.deepEqual(again.json(), { recorded: 0, alreadyRecorded: 4, notRecorded: 0 });
    }
    assert.deepEqual(await stored(callId), { attendances: 1, samples: 1 });
    const { rows } = await db.pool.query<{ left_reason: string; media_path: string; ended: boolean }>(
      `SELECT a.left_reason, a.media_path, vc.ended_at IS NOT NULL AS ended
         FROM video_call_attendance a JOIN video_call vc ON vc.id = a.call_id WHERE a.call_id = $1`,
      [callId],
    );
    assert.deepEqual(rows, [{ left_reason: 'left', media_path: 'relay-tls', ended: true }]);
  });

  it('counts a request as actioned once its patient was admitted to one of its calls, not while they only waited', async () => {
    const { callId, consultationId } = await newCall();
    // an urgent request past its hour
    await db.pool.query(
      `UPDATE consultation SET priority = 'urgent', created_at = now() - interval '61 minutes' WHERE id = $1`,
      [consultationId],
    );
    const overdue = async () => {
      const items = (await clinician.inject({ url: '/consultations?limit=200' })).json<QueueItem[]>();
      return items.find((item) => item.id === consultationId)?.overdue;
    };
    const [joined] = callEvents(callId);
    assert.equal((await post([joined])).json<{ recorded: number }>().recorded, 1);
    assert.equal(await overdue(), true, 'a patient left waiting: not actioned');

    const admitted = {
      type: 'admitted',
      eventId: randomUUID(),
      callId,
      practiceId: practiceA.id,
      at: new Date(Date.UTC(2026, 10, 28, 10, 0, 20)).toISOString(),
      attendanceId: joined!.eventId,
    };
    assert.deepEqual((await post([admitted])).json(), { recorded: 1, alreadyRecorded: 0, notRecorded: 0 });
    assert.deepEqual((await post([admitted])).json(), { recorded: 0, alreadyRecorded: 1, notRecorded: 0 });
    assert.equal(await overdue(), false, 'the patient was seen by video: actioned');
    const [call] = (await clinician.inject({ url: `/consultations/${consultationId}/calls` })).json<
      CallDataView[]
    >();
    assert.equal(call?.attendances[0]?.admittedAt, admitted.at);
  });

  it('does not record events naming a call of another practice, or one triage never made', async () => {
    const { callId } = await newCall();
    const asOtherPractice = await post(callEvents(callId, practiceB.id));
    assert.deepEqual(asOtherPractice.json(), { recorded: 0, alreadyRecorded: 0, notRecorded: 4 });
    const unknown = await post(callEvents(randomUUID()));
    assert.deepEqual(unknown.json(), { recorded: 0, alreadyRecorded: 0, notRecorded: 4 });
    assert.deepEqual(await stored(callId), { attendances: 0, samples: 0 });
  });

  it('shows staff of the practice the request’s calls, and another practice’s staff nothing', async () => {
    const { callId, consultationId } = await newCall();
    await post(callEvents(callId));
    const url = `/consultations/${consultationId}/calls`;
    const seen = await as(practiceA, 'reception').inject({ url });
    assert.equal(seen.statusCode, 200, seen.body);
    const [call] = seen.json<CallDataView[]>();
    assert.equal(call?.callId, callId);
    assert.equal(call?.durationSeconds, 50);
    assert.deepEqual(
      call?.attendances.map(({ role, name, leftReason, mediaPath, pathsSeen, quality }) => ({
        role,
        name,
        leftReason,
        mediaPath,
        pathsSeen,
        loss: quality?.averageLossPercent,
        worstLoss: quality?.worstLossPercent,
        freezes: quality?.freezeCount,
      })),
      [
        {
          role: 'patient',
          name: 'Pat Example',
          leftReason: 'left',
          mediaPath: 'relay-tls',
          pathsSeen: ['relay-tls'],
          loss: 1.02,
          worstLoss: 1.02,
          freezes: 1,
        },
      ],
    );
    for (const role of ['admin', 'clinician', 'reception'] as const)
      assert.deepEqual((await as(practiceB, role).inject({ url })).json(), [], `practice B's ${role}`);
    assert.equal((await app.inject({ url })).statusCode, 401, 'without a token');
  });

  it('exports the practice’s calls as CSV for its admins only, without another practice’s', async () => {
    const { callId } = await newCall();
    await post(callEvents(callId));
    const csv = await as(practiceA, 'admin').inject({ url: '/practice/calls.csv' });
    assert.equal(csv.statusCode, 200, csv.body);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    const lines = csv.body.trimEnd().split('\r\n');
    assert.match(lines[0]!, /^call_id,request_reference,.*,media_path,paths_seen,/);
    const line = lines.find((each) => each.startsWith(callId));
    assert.ok(line, 'the call is in the report');
    assert.match(line, /,patient,.*,left,50,relay-tls,relay-tls,1,700,900,1.02,1.02,40,1,0.5$/);
    assert.ok(!csv.body.includes('Pat Example'), 'roles, not names');

    for (const role of ['clinician', 'reception'] as const)
      assert.equal((await as(practiceA, role).inject({ url: '/practice/calls.csv' })).statusCode, 403, role);
    const other = await as(practiceB, 'admin').inject({ url: '/practice/calls.csv' });
    assert.equal(other.statusCode, 200);
    assert.ok(!other.body.includes(callId), 'practice B’s report has none of practice A’s calls');
    assert.equal(other.body.trimEnd().split('\r\n').length, 1, 'only its header');
  });
});
