// What the public form reads and records before a request exists: a practice by its ODS code, its
// active forms (the `questionnaire` table), and the fact that a form stopped at an urgent answer.
import type { Questionnaire } from '@medplum/fhirtypes';
import type { PracticeForm } from '@gpc/contracts';
import type { OpeningHours } from '../practice-hours';
import type { Queryable } from './queryable';

/** A practice as the public form sees it. */
export interface PublicPractice {
  id: string;
  odsCode: string;
  name: string;
  timezone: string;
  openingHours: OpeningHours;
}

/** The practice with that ODS code (in either case), or undefined when none uses this service. */
export async function findPracticeByOds(db: Queryable, odsCode: string): Promise<PublicPractice | undefined> {
  const { rows } = await db.query<{
    id: string;
    ods_code: string;
    name: string;
    timezone: string;
    opening_hours: OpeningHours;
  }>('SELECT id, ods_code, name, timezone, opening_hours FROM practice WHERE ods_code = $1', [
    odsCode.toUpperCase(),
  ]);
  const row = rows[0];
  return row
    ? {
        id: row.id,
        odsCode: row.ods_code,
        name: row.name,
        timezone: row.timezone,
        openingHours: row.opening_hours,
      }
    : undefined;
}

/** The practice's active forms: medical first, "something else" last among its kind, then by title. */
export async function listActiveForms(db: Queryable, practiceId: string): Promise<PracticeForm[]> {
  const { rows } = await db.query<PracticeForm>(
    `SELECT id, slug, kind, resource ->> 'title' AS title FROM questionnaire WHERE practice_id = $1 AND active
      ORDER BY kind DESC, slug = 'something-else', title`,
    [practiceId],
  );
  return rows;
}

/** One of the practice's active forms, as its FHIR Questionnaire; undefined when there is no such form. */
export async function findActiveForm(
  db: Queryable,
  odsCode: string,
  formId: string,
): Promise<Questionnaire | undefined> {
  const { rows } = await db.query<{ resource: Questionnaire }>(
    `SELECT q.resource FROM questionnaire q JOIN practice p ON p.id = q.practice_id
      WHERE p.ods_code = $1 AND q.id = $2 AND q.active`,
    [odsCode.toUpperCase(), formId],
  );
  return rows[0]?.resource;
}

/** Records that a practice's form stopped at the urgent answer `linkId`; false when there is no such form. */
export async function recordRedFlagEvent(
  db: Queryable,
  event: { odsCode: string; formId: string; linkId: string },
): Promise<boolean> {
  const inserted = await db.query(
    `INSERT INTO red_flag_event (practice_id, questionnaire_id, link_id)
     SELECT p.id, q.id, $3 FROM practice p JOIN questionnaire q ON q.practice_id = p.id WHERE p.ods_code = $1 AND q.id = $2`,
    [event.odsCode.toUpperCase(), event.formId, event.linkId],
  );
  return (inserted.rowCount ?? 0) > 0;
}

/** Adds one of the practice's forms, a FHIR Questionnaire. */
export async function insertQuestionnaire(
  db: Queryable,
  practiceId: string,
  form: { slug: string; kind: string; resource: unknown },
): Promise<void> {
  await db.query('INSERT INTO questionnaire (practice_id, slug, kind, resource) VALUES ($1, $2, $3, $4)', [
    practiceId,
    form.slug,
    form.kind,
    JSON.stringify(form.resource),
  ]);
}
