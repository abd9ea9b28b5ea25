import type pg from 'pg';
import { insertQuestionnaire } from './db/forms';
import { insertPractice } from './db/practices';
import { withTransaction } from './db/transaction';
import { defaultForms } from './forms/default-forms';

/** Creates a practice with the default forms, in one transaction. */
export async function createPractice(
  pool: pg.Pool,
  practice: { odsCode: string; name: string },
): Promise<string> {
  return withTransaction(pool, async (client) => {
    const practiceId = await insertPractice(client, practice);
    for (const form of defaultForms) await insertQuestionnaire(client, practiceId, form);
    return practiceId;
  });
}
