import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import {
  AppError,
  refusals,
  FormParams,
  OdsParams,
  PracticeEmbedding,
  PracticeInfo,
  QuestionnaireBody,
  RedFlagEvent,
} from '@gpc/contracts';
import { findActiveForm, listActiveForms, recordRedFlagEvent } from '../db/forms';
import { findPracticeWithAvailability } from '../db/availability';
import { findWebsiteOrigins } from '../db/practices';
import { availabilityAt, availabilityView } from '../hours/availability';

export interface FormRoutesDeps {
  pool: pg.Pool;
  now: () => Date;
}

/**
 * What the public form needs before the patient types anything, under `/practices`: the practice,
 * whether it is open, its forms; and the record that a form stopped at an urgent answer. No sign-in.
 */
export const formRoutes: FastifyPluginCallbackTypebox<FormRoutesDeps> = (app, { pool, now }, done) => {
  app.get(
    '/:ods',
    {
      schema: {
        summary: 'A practice and its forms (public)',
        params: OdsParams,
        response: { 200: PracticeInfo, ...refusals(404) },
      },
    },
    async (request) => {
      const at = now();
      const practice = await findPracticeWithAvailability(pool, request.params.ods, at);
      if (!practice) throw new AppError('notFound', 'No practice with that code uses this service');
      const { hours, ...context } = practice.availability;
      const availability = availabilityAt(hours, at, context);
      return {
        odsCode: practice.odsCode,
        name: practice.name,
        openNow: availability.state === 'open' || availability.state === 'open-out-of-hours',
        availability: availabilityView(availability),
        forms: await listActiveForms(pool, practice.id),
      };
    },
  );

  app.get(
    '/:ods/embedding',
    {
      schema: {
        summary: 'The practice’s own website origins, where the widget may open its form (public)',
        params: OdsParams,
        response: { 200: PracticeEmbedding, ...refusals(404) },
      },
    },
    async (request) => {
      const websiteOrigins = await findWebsiteOrigins(pool, request.params.ods);
      if (!websiteOrigins) throw new AppError('notFound', 'No practice with that code uses this service');
      return { websiteOrigins };
    },
  );

  app.get(
    '/:ods/forms/:formId',
    {
      schema: {
        summary: 'One form, as a FHIR Questionnaire (public)',
        params: FormParams,
        response: { 200: QuestionnaireBody, ...refusals(404) },
      },
    },
    async (request) => {
      const { ods, formId } = request.params;
      const form = await findActiveForm(pool, ods, formId);
      if (!form) throw new AppError('notFound', 'No such form');
      return { ...form, id: formId, resourceType: 'Questionnaire' as const };
    },
  );

  app.post(
    '/:ods/red-flag-events',
    {
      config: { rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: {
        summary: 'Record that a form stopped at an urgent answer (public; no patient details)',
        params: OdsParams,
        body: RedFlagEvent,
        response: { 204: Type.Null(), ...refusals(400, 404) },
      },
    },
    async (request, reply) => {
      const recorded = await recordRedFlagEvent(pool, { odsCode: request.params.ods, ...request.body });
      if (!recorded) throw new AppError('notFound', 'No such form');
      return reply.code(204).send(null);
    },
  );
  done();
};
