import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import type { Questionnaire } from '@medplum/fhirtypes';
import { AppError } from '@gpc/contracts';
import { ErrorBody } from '../errors';
import { isOpen, type OpeningHours } from '../practice-hours';

const OdsParams = Type.Object({ ods: Type.String({ pattern: '^[A-Za-z0-9]{3,10}$' }) });
const PracticeInfo = Type.Object({
  odsCode: Type.String(),
  name: Type.String(),
  openNow: Type.Boolean(),
  forms: Type.Array(
    Type.Object({ id: Type.String(), slug: Type.String(), kind: Type.String(), title: Type.String() }),
  ),
});
// a FHIR Questionnaire: its shape is FHIR's, checked when the practice saves it
const QuestionnaireBody = Type.Object(
  { resourceType: Type.Literal('Questionnaire') },
  { additionalProperties: true },
);
const RedFlagEvent = Type.Object(
  { formId: Type.String({ format: 'uuid' }), linkId: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);

export interface FormRoutesDeps {
  pool: pg.Pool;
  now: () => Date;
}

/** What the public form needs before the patient types anything: the practice, whether it is open, its forms. */
export function registerFormRoutes(app: FastifyInstance, deps: FormRoutesDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = deps;

  typed.get(
    '/practices/:ods',
    {
      schema: {
        summary: 'A practice and its forms (public)',
        params: OdsParams,
        response: { 200: PracticeInfo, 404: ErrorBody },
      },
    },
    async (request) => {
      const { rows } = await pool.query<{
        id: string;
        ods_code: string;
        name: string;
        timezone: string;
        opening_hours: OpeningHours;
      }>('SELECT id, ods_code, name, timezone, opening_hours FROM practice WHERE ods_code = $1', [
        request.params.ods.toUpperCase(),
      ]);
      const practice = rows[0];
      if (!practice) throw new AppError('notFound', 'No practice with that code uses this service');
      const forms = await pool.query<{ id: string; slug: string; kind: string; title: string }>(
        `SELECT id, slug, kind, resource ->> 'title' AS title FROM questionnaire WHERE practice_id = $1 AND active
          ORDER BY kind DESC, slug = 'something-else', title`,
        [practice.id],
      );
      return {
        odsCode: practice.ods_code,
        name: practice.name,
        openNow: isOpen(practice.opening_hours, practice.timezone, deps.now()),
        forms: forms.rows,
      };
    },
  );

  typed.get(
    '/practices/:ods/forms/:formId',
    {
      schema: {
        summary: 'One form, as a FHIR Questionnaire (public)',
        params: Type.Object({ ods: OdsParams.properties.ods, formId: Type.String({ format: 'uuid' }) }),
        response: { 200: QuestionnaireBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { rows } = await pool.query<{ resource: Questionnaire }>(
        `SELECT q.resource FROM questionnaire q JOIN practice p ON p.id = q.practice_id
          WHERE p.ods_code = $1 AND q.id = $2 AND q.active`,
        [request.params.ods.toUpperCase(), request.params.formId],
      );
      if (!rows[0]) throw new AppError('notFound', 'No such form');
      return { ...rows[0].resource, id: request.params.formId, resourceType: 'Questionnaire' as const };
    },
  );

  typed.post(
    '/practices/:ods/red-flag-events',
    {
      config: { rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: {
        summary: 'Record that a form stopped at an urgent answer (public; no patient details)',
        params: OdsParams,
        body: RedFlagEvent,
        response: { 204: Type.Null(), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const inserted = await pool.query(
        `INSERT INTO red_flag_event (practice_id, questionnaire_id, link_id)
         SELECT p.id, q.id, $3 FROM practice p JOIN questionnaire q ON q.practice_id = p.id WHERE p.ods_code = $1 AND q.id = $2`,
        [request.params.ods.toUpperCase(), request.body.formId, request.body.linkId],
      );
      if (inserted.rowCount === 0) throw new AppError('notFound', 'No such form');
      return reply.code(204).send(null);
    },
  );
}
