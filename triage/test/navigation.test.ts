import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { freeTextSubmission, medicalAnswers, seedConsultation, startTriage } from '@gpc/test-support';

describe('care navigation, claims, and the queue routes under arbitrary input', async () => {
  const { app, db, practiceA, practiceB, as, formId } = await startTriage(
    { after },
    { now: () => new Date('2026-07-13T09:00:00Z') },
  );

  async function submitForm(slug: string): Promise<string> {
    const body = freeTextSubmission(await formId(slug), 'please');
    const response = await app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: slug === 'medical' ? { ...body, answers: medicalAnswers() } : body,
    });
    assert.equal(response.statusCode, 201, response.body);
    const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM consultation WHERE reference = $1', [
      response.json<{ reference: string }>().reference,
    ]);
    return rows[0]!.id;
  }

  it('assigns new requests by the practice’s rules: an admin type to reception, medical to the duty clinician', async () => {
    const admin = as(practiceA, 'admin').headers;
    const rules = [
      { matchKind: 'admin', matchFormSlug: 'fit-note', assignTo: practiceA.staff.reception.id },
      { matchKind: 'medical', assignTo: practiceA.staff.clinician.id, setPriority: 'soon' },
    ];
    const saved = await app.inject({
      method: 'PUT',
      url: '/navigation-rules',
      headers: admin,
      payload: rules,
    });
    assert.equal(saved.statusCode, 200, saved.body);
    const reception = as(practiceA, 'reception').headers;
    assert.equal(
      (await app.inject({ method: 'PUT', url: '/navigation-rules', headers: reception, payload: [] }))
        .statusCode,
      403,
    );
    const outsider = await app.inject({
      method: 'PUT',
      url: '/navigation-rules',
      headers: admin,
      payload: [{ assignTo: practiceB.staff.clinician.id }],
    });
    assert.equal(outsider.statusCode, 400, 'rules cannot send requests to another practice’s staff');

    const fitNote = await submitForm('fit-note');
    const medical = await submitForm('medical');
    const letter = await submitForm('letter');
    const { rows } = await db.pool.query<{ id: string; assigned_to: string | null; priority: string }>(
      'SELECT id, assigned_to, priority FROM consultation WHERE id = ANY($1)',
      [[fitNote, medical, letter]],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    assert.equal(byId.get(fitNote)?.assigned_to, practiceA.staff.reception.id);
    assert.deepEqual(
      [byId.get(medical)?.assigned_to, byId.get(medical)?.priority],
      [practiceA.staff.clinician.id, 'soon'],
    );
    assert.equal(byId.get(letter)?.assigned_to, null, 'no rule matched');
  });

  it('claims a request for whoever opens it, and shows colleagues who holds it', async () => {
    const id = await seedConsultation(db.pool, practiceA.id);
    const first = await app.inject({
      method: 'GET',
      url: `/consultations/${id}`,
      headers: as(practiceA, 'clinician').headers,
    });
    assert.equal(
      first.json<{ claimedBy: { id: string } | null }>().claimedBy?.id,
      practiceA.staff.clinician.id,
    );
    const second = await app.inject({
      method: 'GET',
      url: `/consultations/${id}`,
      headers: as(practiceA, 'reception').headers,
    });
    assert.deepEqual(second.json<{ claimedBy: { id: string; name: string } | null }>().claimedBy, {
      id: practiceA.staff.clinician.id,
      name: 'clinician of A81001',
    });
  });

  it('never answers 5xx to arbitrary queue queries and changes (property-based)', async () => {
    const reception = as(practiceA, 'reception').headers;
    const id = await seedConsultation(db.pool, practiceA.id);
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('status', 'priority', 'kind', 'assignee', 'olderThanMinutes', 'limit', 'other'),
          fc.string(),
        ),
        fc.oneof(
          fc.anything(),
          fc.record(
            {
              status: fc.string(),
              priority: fc.string(),
              assignedTo: fc.oneof(fc.uuid(), fc.constant(null), fc.string()),
            },
            { requiredKeys: [] },
          ),
        ),
        fc.oneof(fc.constant(id), fc.uuid(), fc.string()),
        async (query, change, target) => {
          const list = await app.inject({
            method: 'GET',
            url: '/consultations',
            query,
            headers: reception,
          });
          assert.ok(list.statusCode < 500, `list ${list.statusCode}: ${list.body}`);
          const patch = await app.inject({
            method: 'PATCH',
            url: `/consultations/${encodeURIComponent(target)}`,
            headers: reception,
            payload: change as Record<string, unknown>,
          });
          assert.ok(patch.statusCode < 500, `patch ${patch.statusCode}: ${patch.body}`);
        },
      ),
      { numRuns: 150 },
    );
  });
});
