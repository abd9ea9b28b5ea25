import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { io as connect, type Socket } from 'socket.io-client';
import { buildTriageApp } from '../src/app';
import { noWriteBacks } from './support/write-back';
import { migrateDatabase } from '../src/db/migrate';
import { staffLivePath } from '../src/live';
import { createTestDatabase, type TestDatabase } from './support/database';
import { seedConsultation, seedPractice, type SeededPractice } from './support/practices';

describe('live queue updates to staff dashboards, and the request detail', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let url: string;
  let practiceA: SeededPractice;
  let practiceB: SeededPractice;
  const sockets: Socket[] = [];

  before(async () => {
    db = await createTestDatabase();
    await migrateDatabase(db.url);
    practiceA = await seedPractice(db.pool, 'A81001');
    practiceB = await seedPractice(db.pool, 'B82002');
    app = await buildTriageApp({
      pool: db.pool,
      jwtSecret: 'live-test-secret-that-is-long-enough-0123456789',
      writeBack: noWriteBacks,
      live: {},
      now: () => new Date('2026-07-13T09:00:00Z'),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await app.close();
    await db.drop();
  });

  const tokenFor = (practice: SeededPractice) =>
    app.jwt.sign({
      typ: 'staff',
      sub: practice.staff.reception.id,
      practiceId: practice.id,
      role: 'reception',
      name: 'R',
    });

  async function dashboard(token: string): Promise<{ socket: Socket; changes: unknown[] }> {
    const socket = connect(`${url}/staff`, {
      path: staffLivePath,
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
    const forms = (await app.inject({ method: 'GET', url: '/practices/A81001' })).json<{
      forms: { id: string; slug: string }[];
    }>().forms;
    const submitted = await app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: {
        idempotencyKey: randomUUID(),
        formId: forms.find((form) => form.slug === 'fit-note')!.id,
        patient: {
          givenName: 'Pat',
          familyName: 'Example',
          birthDate: '1980-02-03',
          email: 'pat@example.org',
        },
        submittedBy: { type: 'patient' },
        preferredContact: 'email',
        answers: {
          resourceType: 'QuestionnaireResponse',
          status: 'completed',
          item: [{ linkId: 'details', answer: [{ valueString: 'x' }] }],
        },
      },
    });
    assert.equal(submitted.statusCode, 201, submitted.body);
    for (let wait = 0; wait < 50 && (first.changes.length === 0 || second.changes.length === 0); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
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
      headers: { authorization: `Bearer ${tokenFor(practiceA)}` },
    });
    assert.equal(mine.statusCode, 200, mine.body);
    assert.equal(mine.json<{ nhsNumber: string }>().nhsNumber, '9434765919');
    const theirs = await app.inject({
      method: 'GET',
      url: `/consultations/${id}`,
      headers: { authorization: `Bearer ${tokenFor(practiceB)}` },
    });
    assert.equal(theirs.statusCode, 404);
    const audit = await db.pool.query("SELECT 1 FROM audit_event WHERE entity_id = $1 AND action = 'view'", [
      id,
    ]);
    assert.equal(audit.rowCount, 1);
  });
});
