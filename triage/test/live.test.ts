import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  freeTextSubmission,
  openDashboard,
  seedConsultation,
  startTriage,
  waitFor,
  type SeededPractice,
} from '@gpc/test-support';

describe('live queue updates to staff dashboards, and the request detail', async () => {
  const { app, db, practiceA, practiceB, as, formId, url, ...triage } = await startTriage(
    { after },
    { live: {}, now: () => new Date('2026-07-13T09:00:00Z') },
  );
  const dashboard = (token: string) => openDashboard(triage, url, token);
  const tokenFor = (practice: SeededPractice) => as(practice, 'reception').token;

  it('tells the practice’s dashboards, and only them, when a request arrives', async () => {
    const [first, second, other] = await Promise.all([
      dashboard(tokenFor(practiceA)),
      dashboard(tokenFor(practiceA)),
      dashboard(tokenFor(practiceB)),
    ]);
    const submitted = await app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: freeTextSubmission(await formId('fit-note'), 'x'),
    });
    assert.equal(submitted.statusCode, 201, submitted.body);
    await waitFor('both of the practice’s dashboards told', () => first.length > 0 && second.length > 0, {
      timeoutMs: 1000,
      intervalMs: 20,
    });
    assert.equal(first.length, 1);
    assert.equal(second.length, 1);
    assert.deepEqual(
      Object.keys(first[0] as object).sort(),
      ['change', 'consultationId'],
      'ids only, no patient data',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(other.length, 0, 'another practice hears nothing');
  });

  it('refuses a dashboard without a valid staff token', async () => {
    await assert.rejects(dashboard('not-a-token'), /unauthorized/);
  });

  it('shows a request in full to its own practice only, and audits the reading', async () => {
    const id = await seedConsultation(db.pool, practiceA.id);
    const mine = await app.inject({
      method: 'GET',
      url: `/consultations/${id}`,
      headers: as(practiceA, 'reception').headers,
    });
    assert.equal(mine.statusCode, 200, mine.body);
    assert.equal(mine.json<{ nhsNumber: string }>().nhsNumber, '9434765919');
    const theirs = await app.inject({
      method: 'GET',
      url: `/consultations/${id}`,
      headers: as(practiceB, 'reception').headers,
    });
    assert.equal(theirs.statusCode, 404);
    const audit = await db.pool.query("SELECT 1 FROM audit_event WHERE entity_id = $1 AND action = 'view'", [
      id,
    ]);
    assert.equal(audit.rowCount, 1);
  });
});
