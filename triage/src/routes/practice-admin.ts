import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import { AppError, FhirAuthSchema, type FhirAuth } from '@gpc/contracts';
import { allowRoles } from '../auth/staff-auth';
import { hashPassword } from '../auth/passwords';
import { withTransaction } from '../db/transaction';
import { ErrorBody } from '../errors';
import { NotificationSettings, parseNotificationSettings } from '../notifications/settings';

const Time = Type.String({ pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$' });
const Day = Type.Array(Type.Tuple([Time, Time]), { maxItems: 6 });
const OpeningHours = Type.Object(
  {
    mon: Type.Optional(Day),
    tue: Type.Optional(Day),
    wed: Type.Optional(Day),
    thu: Type.Optional(Day),
    fri: Type.Optional(Day),
    sat: Type.Optional(Day),
    sun: Type.Optional(Day),
  },
  { additionalProperties: false },
);

/** What staff see of the practice's settings: never a secret, only whether one is set. */
const PracticeView = Type.Object({
  odsCode: Type.String(),
  name: Type.String(),
  timezone: Type.String(),
  openingHours: OpeningHours,
  dailyCapacity: Type.Integer(),
  fhir: Type.Object({
    baseUrl: Type.Union([Type.String(), Type.Null()]),
    authType: Type.String(),
  }),
  notifications: Type.Union([
    Type.Null(),
    Type.Object({
      provider: Type.String(),
      /** The sender (SMTP) or the service's templates (Notify); credentials are never shown. */
      from: Type.Optional(Type.String()),
      host: Type.Optional(Type.String()),
      emailTemplateId: Type.Optional(Type.String()),
      smsTemplateId: Type.Optional(Type.String()),
    }),
  ]),
});
const PracticeChange = Type.Object(
  {
    openingHours: Type.Optional(OpeningHours),
    dailyCapacity: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
    fhir: Type.Optional(
      Type.Object(
        {
          baseUrl: Type.Union([Type.String({ pattern: '^https?://', maxLength: 500 }), Type.Null()]),
          auth: FhirAuthSchema,
        },
        { additionalProperties: false },
      ),
    ),
    /** Replaces the provider settings whole (with their credentials); null: staff send links themselves. */
    notifications: Type.Optional(Type.Union([NotificationSettings, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);

const Role = Type.Union([Type.Literal('admin'), Type.Literal('clinician'), Type.Literal('reception')]);
const StaffView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  role: Role,
  active: Type.Boolean(),
});
const NewStaff = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    role: Role,
    /** The first password, given to them in person; at least 12 characters. */
    password: Type.String({ minLength: 12, maxLength: 200 }),
  },
  { additionalProperties: false },
);
const StaffChange = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })),
    role: Type.Optional(Role),
    /** false: they can no longer sign in, and their sessions end. */
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

interface PracticeRow {
  ods_code: string;
  name: string;
  timezone: string;
  opening_hours: Record<string, [string, string][]>;
  daily_capacity: number;
  fhir_base_url: string | null;
  fhir_auth: FhirAuth;
  notification_settings: unknown;
}
interface StaffRow {
  id: string;
  email: string;
  display_name: string;
  role: 'admin' | 'clinician' | 'reception';
  active: boolean;
}
const toStaff = (row: StaffRow) => ({
  id: row.id,
  email: row.email,
  name: row.display_name,
  role: row.role,
  active: row.active,
});

function toPractice(row: PracticeRow) {
  const settings = parseNotificationSettings(row.notification_settings);
  return {
    odsCode: row.ods_code,
    name: row.name,
    timezone: row.timezone,
    openingHours: row.opening_hours,
    dailyCapacity: row.daily_capacity,
    fhir: { baseUrl: row.fhir_base_url, authType: row.fhir_auth.type },
    notifications: !settings
      ? null
      : settings.provider === 'smtp'
        ? { provider: settings.provider, from: settings.from, host: settings.host }
        : {
            provider: settings.provider,
            emailTemplateId: settings.emailTemplateId,
            smsTemplateId: settings.smsTemplateId,
          },
  };
}

/**
 * A practice's admins run their own practice: opening hours and capacity for online requests,
 * where summaries are filed, how links reach patients, and who works there. Admins only; every
 * change is audited, and secrets go in but never come back out.
 */
export function registerPracticeAdminRoutes(app: FastifyInstance, pool: pg.Pool): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const adminOnly = allowRoles('admin');
  const practiceColumns =
    'ods_code, name, timezone, opening_hours, daily_capacity, fhir_base_url, fhir_auth, notification_settings';

  typed.get(
    '/practice',
    {
      preHandler: adminOnly,
      schema: {
        summary: 'The practice’s settings (admins)',
        response: { 200: PracticeView, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const { rows } = await pool.query<PracticeRow>(
        `SELECT ${practiceColumns} FROM practice WHERE id = $1`,
        [request.staff.practiceId],
      );
      return toPractice(rows[0]!);
    },
  );

  typed.patch(
    '/practice',
    {
      preHandler: adminOnly,
      schema: {
        summary: 'Change the practice’s settings (admins)',
        body: PracticeChange,
        response: { 200: PracticeView, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      const change = request.body;
      for (const [day, ranges] of Object.entries(change.openingHours ?? {})) {
        if (ranges.some(([from, to]) => from >= to)) {
          throw new AppError('badRequest', `Opening hours on ${day}: each period must end after it starts`);
        }
      }
      const row = await withTransaction(pool, async (client) => {
        const { rows } = await client.query<PracticeRow>(
          `UPDATE practice SET
             opening_hours = COALESCE($2, opening_hours),
             daily_capacity = COALESCE($3, daily_capacity),
             fhir_base_url = CASE WHEN $4::boolean THEN $5 ELSE fhir_base_url END,
             fhir_auth = COALESCE($6, fhir_auth),
             notification_settings = CASE WHEN $7::boolean THEN $8::jsonb ELSE notification_settings END
           WHERE id = $1 RETURNING ${practiceColumns}`,
          [
            practiceId,
            change.openingHours ? JSON.stringify(change.openingHours) : null,
            change.dailyCapacity ?? null,
            change.fhir !== undefined,
            change.fhir?.baseUrl ?? null,
            change.fhir ? JSON.stringify(change.fhir.auth) : null,
            change.notifications !== undefined,
            change.notifications ? JSON.stringify(change.notifications) : null,
          ],
        );
        await client.query(
          `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, $2, $3, 'practice', $4)`,
          [practiceId, sub, `change settings: ${Object.keys(change).sort().join(', ')}`, practiceId],
        );
        return rows[0]!;
      });
      return toPractice(row);
    },
  );

  typed.get(
    '/staff',
    {
      preHandler: adminOnly,
      schema: {
        summary: 'The practice’s staff (admins)',
        response: { 200: Type.Array(StaffView), 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const { rows } = await pool.query<StaffRow>(
        'SELECT id, email, display_name, role, active FROM staff WHERE practice_id = $1 ORDER BY active DESC, display_name',
        [request.staff.practiceId],
      );
      return rows.map(toStaff);
    },
  );

  typed.post(
    '/staff',
    {
      preHandler: adminOnly,
      schema: {
        summary: 'Add a member of staff (admins)',
        body: NewStaff,
        response: { 201: StaffView, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const { practiceId, sub } = request.staff;
      const passwordHash = await hashPassword(request.body.password);
      const row = await withTransaction(pool, async (client) => {
        const { rows } = await client.query<StaffRow>(
          `INSERT INTO staff (practice_id, email, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (practice_id, email) DO NOTHING RETURNING id, email, display_name, role, active`,
          [
            practiceId,
            request.body.email.toLowerCase(),
            request.body.name.trim(),
            request.body.role,
            passwordHash,
          ],
        );
        if (!rows[0])
          throw new AppError('conflict', 'Someone at this practice already has that email address');
        await client.query(
          `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, $2, 'add staff', 'staff', $3)`,
          [practiceId, sub, rows[0].id],
        );
        return rows[0];
      });
      return reply.code(201).send(toStaff(row));
    },
  );

  typed.patch(
    '/staff/:id',
    {
      preHandler: adminOnly,
      schema: {
        summary: 'Change a member of staff’s name or role, or stop their access (admins)',
        params: IdParams,
        body: StaffChange,
        response: {
          200: StaffView,
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      const change = request.body;
      // a practice must never lock itself out: an admin cannot demote or stop themselves
      if (
        request.params.id === sub &&
        (change.active === false || (change.role && change.role !== 'admin'))
      ) {
        throw new AppError('conflict', 'You cannot remove your own admin access; ask another admin');
      }
      const row = await withTransaction(pool, async (client) => {
        const { rows } = await client.query<StaffRow>(
          `UPDATE staff SET display_name = COALESCE($3, display_name), role = COALESCE($4, role), active = COALESCE($5, active)
            WHERE id = $1 AND practice_id = $2 RETURNING id, email, display_name, role, active`,
          [
            request.params.id,
            practiceId,
            change.name?.trim() ?? null,
            change.role ?? null,
            change.active ?? null,
          ],
        );
        if (!rows[0]) throw new AppError('notFound', 'No such member of staff');
        if (change.active === false) {
          // their refresh tokens stop working now; an access token already issued runs out within minutes
          await client.query(
            'UPDATE staff_session SET revoked_at = now() WHERE staff_id = $1 AND revoked_at IS NULL',
            [rows[0].id],
          );
        }
        await client.query(
          `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, $2, $3, 'staff', $4)`,
          [practiceId, sub, `change staff: ${Object.keys(change).sort().join(', ')}`, rows[0].id],
        );
        return rows[0];
      });
      return toStaff(row);
    },
  );
}
