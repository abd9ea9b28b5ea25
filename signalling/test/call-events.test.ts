import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Participant } from '@gpc/contracts';
import { seedConsultation, startFaultProxy, startTriage, waitFor } from '@gpc/test-support';
import { CallData } from '../src/calls/call-data';
import { CallEventOutbox } from '../src/calls/call-event-outbox';

const report = {
  windowSeconds: 15,
  path: 'udp' as const,
  sendKbps: 500,
  receiveKbps: 600,
  lossPercent: 0,
  freezeCount: 0,
  freezeSeconds: 0,
};
const patient: Participant = {
  participantId: 'link-1',
  name: 'Pat Example',
  role: 'patient',
  state: 'waiting',
};

describe('a call node’s call events on their way to triage', async () => {
  const triage = await startTriage({ after }, { listen: true });
  // triage as the call node reaches it: through a proxy that can fail
  const proxy = await startFaultProxy(`${triage.url}/`);
  triage.after(() => proxy.close());
  const clinician = triage.as(triage.practiceA, 'clinician');

  async function newCall(): Promise<{ callId: string; practiceId: string }> {
    const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
    const made = await clinician.inject({ method: 'POST', url: '/calls', payload: { consultationId } });
    return { callId: made.json<{ callId: string }>().callId, practiceId: triage.practiceA.id };
  }
  const outbox = (maxQueued?: number) => {
    const made = new CallEventOutbox({
      triageUrl: proxy.url,
      key: triage.callNodeKey,
      nodeId: 'node-test',
      logger: pino({ level: 'silent' }),
      retryBaseMs: 50,
      retryMaxMs: 200,
      ...(maxQueued ? { maxQueued } : {}),
    });
    triage.after(() => made.close(0));
    return made;
  };
  const stored = async (callId: string) =>
    (
      await triage.db.pool.query<{ reason: string | null; samples: number; admitted: boolean }>(
        `SELECT a.left_reason AS reason, (SELECT count(*)::int FROM video_call_quality q WHERE q.attendance_id = a.id) AS samples,
                a.admitted_at IS NOT NULL AS admitted
           FROM video_call_attendance a WHERE a.call_id = $1`,
        [callId],
      )
    ).rows;

  it('keeps events while triage is down and records each once, though an answer was lost after triage recorded it', async () => {
    const call = await newCall();
    let down = true;
    let lostOne = false;
    proxy.setRule(() => {
      if (down) return { kind: 'status', status: 503 };
      if (!lostOne) {
        lostOne = true;
        return { kind: 'lose-answer' };
      }
      return { kind: 'pass' };
    });
    const events = outbox();
    const data = new CallData(events);
    data.joined(call, 'socket-1', patient);
    data.admitted('socket-1');
    data.admitted('socket-1'); // admitted once: the first admission stands
    data.quality('socket-1', report);
    data.left('socket-1', 'left');
    data.ended(call);
    await waitFor('posts refused while triage is down', () => proxy.requests.length >= 3);
    assert.equal(events.pending, 5, 'nothing dropped while triage is away');
    down = false;
    await waitFor('every event taken by triage', () => events.pending === 0);
    assert.ok(lostOne, 'one answer was lost after triage had recorded the post');
    assert.deepEqual(await stored(call.callId), [{ reason: 'left', samples: 1, admitted: true }]);
  });

  it('drops the oldest quality summaries first when its queue is full, never the joins and leaves', async () => {
    const call = await newCall();
    let down = true;
    proxy.setRule(() => (down ? { kind: 'status', status: 503 } : { kind: 'pass' }));
    const events = outbox(3);
    let now = Date.now();
    const data = new CallData(events, () => (now += 5000));
    data.joined(call, 'socket-2', patient);
    for (let sample = 0; sample < 3; sample++) data.quality('socket-2', { ...report, sendKbps: sample });
    data.left('socket-2', 'disconnected');
    assert.equal(events.pending, 3);
    assert.equal(events.dropped, 2);
    down = false;
    await waitFor('the queue posted', () => events.pending === 0);
    assert.deepEqual(await stored(call.callId), [{ reason: 'disconnected', samples: 1, admitted: false }]);
    const { rows } = await triage.db.pool.query<{ send_kbps: number }>(
      `SELECT q.send_kbps FROM video_call_quality q JOIN video_call_attendance a ON a.id = q.attendance_id
        WHERE a.call_id = $1`,
      [call.callId],
    );
    assert.deepEqual(rows, [{ send_kbps: 2 }], 'the newest summary kept');
  });

  it('refuses a page’s quality reports before it joined and when they come too often', () => {
    let now = 100_000;
    const data = new CallData(undefined, () => now);
    assert.throws(() => data.quality('socket-3', report), { code: 'conflict' });
    data.joined({ callId: 'c', practiceId: 'p' }, 'socket-3', patient);
    data.quality('socket-3', report);
    now += 1000;
    assert.throws(() => data.quality('socket-3', report), { code: 'tooManyRequests' });
    now += 4000;
    data.quality('socket-3', report);
  });
});
