import type pg from 'pg';
import { withTransaction } from './db/transaction';
import { defaultForms } from './forms/default-forms';

/** Creates a practice with the default forms, in one transaction. */
export async function createPractice(
  pool: pg.Pool,
  practice: { odsCode: string; name: string },
): Promise<string> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      'INSERT INTO practice (ods_code, name) VALUES ($1, $2) RETURNING id',
      [practice.odsCode.toUpperCase(), practice.name],
    );
    const practiceId = rows[0]!.id;
    for (const form of defaultForms) {
      await client.query(
        'INSERT INTO questionnaire (practice_id, slug, kind, resource) VALUES ($1, $2, $3, $4)',
        [practiceId, form.slug, form.kind, JSON.stringify(form.resource)],
      );
    }
    return practiceId;
  });
}
