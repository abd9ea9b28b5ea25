import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { io as connect, type Socket } from 'socket.io-client';
import { StaffLive } from '@gpc/contracts';
import {
  freeTextSubmission,
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
  const sockets: Socket[] = [];
  triage.after(() => {
    for (const socket of sockets) socket.disconnect();
  });

  const tokenFor = (practice: SeededPractice) => as(practice, 'reception').token;

  async function dashboard(token: string): Promise<{ socket: Socket; changes: unknown[] }> {
    const socket = connect(`${url}/staff`, {
      path: StaffLive.path,
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
    });
    sockets.push(socket);
    const changes: unknown[] = [];
    socket.on('queue:changed', (change: unknown) => changes.push(change));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', (error) => reject(new Error(error.message)));
    });
    return { socket, changes };
  }

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
    await waitFor(
      'both of the practice’s dashboards told',
      () => first.changes.length > 0 && second.changes.length > 0,
      { timeoutMs: 1000, intervalMs: 20 },
    );
    assert.equal(first.changes.length, 1);
    assert.equal(second.changes.length, 1);
    assert.deepEqual(
      Object.keys(first.changes[0] as object).sort(),
      ['change', 'consultationId'],
      'ids only, no patient data',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(other.changes.length, 0, 'another practice hears nothing');
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
