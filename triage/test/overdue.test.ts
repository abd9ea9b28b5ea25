import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ConsultationPriority, PracticeSettingsView, QueueItem } from '@gpc/contracts';
import { seedConsultation, startTriage } from '@gpc/test-support';

// Hazard: a request nobody acts on in time. Each practice sets how long a request may wait for its
// first action per priority; past that, the queue flags it and counts it.
describe('requests not actioned within the practice’s response target are flagged and counted', async () => {
  const { db, practiceA, practiceB, as } = await startTriage({ after });
  const clinician = as(practiceA, 'clinician');
  const admin = as(practiceA, 'admin');

  /** A request of this priority, created `minutesAgo` minutes ago by the database's clock. */
  async function requestAged(minutesAgo: number, priority: ConsultationPriority, practice = practiceA) {
    const id = await seedConsultation(db.pool, practice.id);
    await db.pool.query(
      `UPDATE consultation SET priority = $2, created_at = now() - make_interval(mins => $3) WHERE id = $1`,
      [id, priority, minutesAgo],
    );
    return id;
  }
  async function queueItem(id: string): Promise<QueueItem> {
    const items = (await clinician.inject({ method: 'GET', url: '/consultations?limit=200' })).json<
      QueueItem[]
    >();
    const item = items.find((candidate) => candidate.id === id);
    assert.ok(item, 'in the queue');
    return item;
  }
  const overdueCount = async () =>
    (await clinician.inject({ method: 'GET', url: '/consultations/overdue' })).json<{ overdue: number }>()
      .overdue;
  async function clearQueue() {
    await db.pool.query('DELETE FROM consultation WHERE practice_id = ANY($1)', [
      [practiceA.id, practiceB.id],
    ]);
  }

  it('starts every practice on urgent 60, soon 240 and routine 2880 minutes', async () => {
    const settings = (await admin.inject({ method: 'GET', url: '/practice' })).json<PracticeSettingsView>();
    assert.deepEqual(settings.responseTargets, { urgent: 60, soon: 240, routine: 2880 });
  });

  it('shows a request past its priority’s target as overdue, with when it became due, and counts it', async () => {
    await clearQueue();
    const late = await requestAged(61, 'urgent');
    const inTime = await requestAged(59, 'urgent');
    const soonLate = await requestAged(241, 'soon');
    const routineInTime = await requestAged(241, 'routine');
    await requestAged(500, 'urgent', practiceB); // another practice's: not counted here

    const item = await queueItem(late);
    assert.equal(item.overdue, true);
    const created = new Date(item.createdAt).getTime();
    assert.equal(new Date(item.dueAt!).getTime() - created, 60 * 60_000, 'due an hour after it came in');
    assert.equal((await queueItem(inTime)).overdue, false);
    assert.ok((await queueItem(inTime)).dueAt, 'still due');
    assert.equal((await queueItem(soonLate)).overdue, true);
    assert.equal((await queueItem(routineInTime)).overdue, false);
    assert.equal(await overdueCount(), 2);

    // the detail says the same
    const detail = await clinician.inject({ method: 'GET', url: `/consultations/${late}` });
    assert.equal(detail.json<QueueItem>().overdue, true);
  });

  it('does not flag a request actioned in time by a message to the patient, nor a closed one', async () => {
    await clearQueue();
    const messaged = await requestAged(30, 'urgent');
    const sent = await clinician.inject({
      method: 'POST',
      url: `/consultations/${messaged}/messages`,
      payload: { body: 'Please call the surgery this morning.' },
    });
    assert.equal(sent.statusCode, 201);
    // as if it came in two hours ago and the message went 30 minutes later, inside the hour
    await db.pool.query(`UPDATE consultation SET created_at = now() - interval '2 hours' WHERE id = $1`, [
      messaged,
    ]);
    await db.pool.query(
      `UPDATE message SET created_at = now() - interval '90 minutes' WHERE consultation_id = $1`,
      [messaged],
    );
    const actioned = await queueItem(messaged);
    assert.equal(actioned.overdue, false);
    assert.equal(actioned.dueAt, null, 'nothing is due once actioned');

    const closedLate = await requestAged(120, 'urgent');
    const closed = await clinician.inject({
      method: 'POST',
      url: `/consultations/${closedLate}/close`,
      payload: { outcomeCode: '182836005', outcomeDisplay: 'Review of medication', summary: 'Done.' },
    });
    assert.equal(closed.statusCode, 200, closed.body);
    assert.equal(closed.json<QueueItem>().overdue, false);
    assert.equal(await overdueCount(), 0);
  });

  it('still flags a request that was only opened, assigned or re-prioritised', async () => {
    await clearQueue();
    const opened = await requestAged(90, 'urgent');
    await clinician.inject({ method: 'GET', url: `/consultations/${opened}` });
    const changed = await clinician.inject({
      method: 'PATCH',
      url: `/consultations/${opened}`,
      payload: { assignedTo: practiceA.staff.clinician.id, status: 'in_progress' },
    });
    assert.equal(changed.json<QueueItem>().overdue, true, 'opening and assigning are not actions');
    // re-prioritising moves the target: soon gives it 240 minutes
    const soon = await clinician.inject({
      method: 'PATCH',
      url: `/consultations/${opened}`,
      payload: { priority: 'soon' },
    });
    assert.equal(soon.json<QueueItem>().overdue, false);
    assert.equal(await overdueCount(), 0);
  });

  it('follows the practice’s settings when an admin changes the targets', async () => {
    await clearQueue();
    const routine = await requestAged(30, 'routine');
    assert.equal((await queueItem(routine)).overdue, false);

    const changed = await admin.inject({
      method: 'PATCH',
      url: '/practice',
      payload: { responseTargets: { routine: 20 } },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual(changed.json<PracticeSettingsView>().responseTargets, {
      urgent: 60,
      soon: 240,
      routine: 20,
    });
    assert.equal((await queueItem(routine)).overdue, true);
    assert.equal(await overdueCount(), 1);
    const audit = await db.pool.query<{ action: string }>(
      "SELECT action FROM audit_event WHERE entity = 'practice' AND entity_id = $1 ORDER BY at DESC LIMIT 1",
      [practiceA.id],
    );
    assert.match(audit.rows[0]?.action ?? '', /responseTargets/);

    // other practices keep their own
    const other = (
      await as(practiceB, 'admin').inject({ method: 'GET', url: '/practice' })
    ).json<PracticeSettingsView>();
    assert.equal(other.responseTargets.routine, 2880);
  });

  it('refuses targets that are not whole minutes from 1 to 30 days, and non-admins', async () => {
    for (const responseTargets of [{ urgent: 0 }, { soon: 43_201 }, { routine: 1.5 }, {}, { later: 5 }]) {
      const refused = await admin.inject({ method: 'PATCH', url: '/practice', payload: { responseTargets } });
      assert.equal(refused.statusCode, 400, JSON.stringify(responseTargets));
    }
    const clinicianTries = await clinician.inject({
      method: 'PATCH',
      url: '/practice',
      payload: { responseTargets: { urgent: 30 } },
    });
    assert.equal(clinicianTries.statusCode, 403);
  });
});
