import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import {
  AppError,
  refusals,
  IdParams,
  NewStaffMember,
  PracticeSettingsChange,
  PracticeSettingsView,
  StaffMemberChange,
  StaffMemberView,
  type StaffTokenClaims,
} from '@gpc/contracts';
import { hashPassword } from '../auth/passwords';
import { requireStaffOf } from '../auth/staff-auth';
import { recordAudit } from '../db/audit';
import {
  findPracticeSettings,
  updateHoursSettings,
  updatePracticeSettings,
  type StoredPracticeSettings,
} from '../db/practices';
import { bankHolidayDataWarning, bankHolidaysCoverUntil } from '../hours/bank-holidays';
import { insertStaff, listStaff, revokeStaffSessions, updateStaff } from '../db/staff';
import { withTransaction } from '../db/transaction';
import { strictOutbound, type OutboundPolicy } from '@gpc/outbound';
import { checkDestinations } from '../practice-destinations';
import { sealSettingsChange } from '../secrets/practice-secrets';
import type { SecretKeyring } from '@gpc/contracts/secrets';

/** What an audit event says changed: the names of the fields given, in order. */
const changedFields = (change: object) => Object.keys(change).sort().join(', ');

export interface PracticeAdminRoutesDeps {
  pool: pg.Pool;
  /** The clock the bank-holiday data's warning is reckoned by (tests set it). */
  now?: () => Date;
  /** Where practice-configured places may be (the deployment's outbound policy), checked when they are set. */
  outbound?: OutboundPolicy;
  /** Encrypts the credentials admins give before they are stored. */
  secrets?: SecretKeyring;
}

/**
 * A practice's admins run their own practice. `/practice`: opening hours and capacity for online
 * requests, where summaries are filed, how links reach patients (secrets go in but never come back
 * out). `/staff`: who works there; admins add staff, rename them, change their role, or stop their
 * access. Admins only; every change is audited.
 */
export const practiceAdminRoutes: FastifyPluginCallbackTypebox<PracticeAdminRoutesDeps> = (
  app,
  { pool, now = () => new Date(), outbound = strictOutbound, secrets },
  done,
) => {
  app.addHook('preHandler', requireStaffOf('admin'));
  settingsRoutes(app, pool, now, outbound, secrets);
  staffRoutes(app, pool);
  done();
};

type AdminApp = Parameters<FastifyPluginCallbackTypebox<PracticeAdminRoutesDeps>>[0];

/** `/practice`: the practice's settings, read and changed. */
function settingsRoutes(
  app: AdminApp,
  pool: pg.Pool,
  now: () => Date,
  outbound: OutboundPolicy,
  secrets: SecretKeyring | undefined,
): void {
  app.get(
    '/practice',
    {
      schema: {
        summary: 'The practice’s settings (admins)',
        response: { 200: PracticeSettingsView, ...refusals(401, 403) },
      },
    },
    async (request) => withBankHolidays(await findPracticeSettings(pool, request.staff.practiceId), now()),
  );

  app.patch(
    '/practice',
    {
      schema: {
        summary: 'Change the practice’s settings (admins)',
        body: PracticeSettingsChange,
        response: { 200: PracticeSettingsView, ...refusals(400, 401, 403) },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      const change = request.body;
      checkOpeningHours(change);
      checkDestinations(change, outbound);
      checkWebsiteOrigins(change);
      checkWriteBackSettings(change);
      // credentials are encrypted for this practice before they reach the database
      const stored = sealSettingsChange(secrets, practiceId, change);
      return withTransaction(pool, async (client) => {
        await updateHoursSettings(client, practiceId, change);
        const settings = withBankHolidays(await updatePracticeSettings(client, practiceId, stored), now());
        await recordAudit(client, {
          practiceId,
          actor: sub,
          action: `change settings: ${changedFields(change)}`,
          entity: 'practice',
          entityId: practiceId,
        });
        return settings;
      });
    },
  );
}

/** `/staff`: who works at the practice, added, changed and stopped. */
function staffRoutes(app: AdminApp, pool: pg.Pool): void {
  app.get(
    '/staff',
    {
      schema: {
        summary: 'The practice’s staff (admins)',
        response: { 200: Type.Array(StaffMemberView), ...refusals(401, 403) },
      },
    },
    async (request) => listStaff(pool, request.staff.practiceId),
  );

  app.post(
    '/staff',
    {
      schema: {
        summary: 'Add a member of staff (admins)',
        body: NewStaffMember,
        response: { 201: StaffMemberView, ...refusals(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await addStaffMember(pool, request.staff, request.body)),
  );

  app.patch(
    '/staff/:id',
    {
      schema: {
        summary: 'Change a member of staff’s name or role, or stop their access (admins)',
        params: IdParams,
        body: StaffMemberChange,
        response: {
          200: StaffMemberView,
          ...refusals(400, 401, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const member = await changeStaffMember(pool, request.staff, request.params.id, request.body);
      // committed: their dashboards and calls close on every node, and a demoted member's next token has the new role
      if (request.body.active === false || request.body.role !== undefined)
        await app.announceStaffRevoked(member.id);
      return member;
    },
  );
}

/** Adds a member of staff, audited; refused when someone at the practice already has the email address. */
async function addStaffMember(
  pool: pg.Pool,
  admin: StaffTokenClaims,
  member: NewStaffMember,
): Promise<StaffMemberView> {
  const passwordHash = await hashPassword(member.password);
  return withTransaction(pool, async (client) => {
    const added = await insertStaff(client, {
      practiceId: admin.practiceId,
      email: member.email.toLowerCase(),
      name: member.name.trim(),
      role: member.role,
      passwordHash,
    });
    if (!added) throw new AppError('conflict', 'Someone at this practice already has that email address');
    await recordAudit(client, {
      practiceId: admin.practiceId,
      actor: admin.sub,
      action: 'add staff',
      entity: 'staff',
      entityId: added.id,
    });
    return added;
  });
}

/**
 * Changes a member of staff, audited; stopping their access ends their sessions too (their live
 * sockets are closed by the caller, once this has committed). A practice
 * must never lock itself out: an admin cannot demote or stop themselves.
 */
async function changeStaffMember(
  pool: pg.Pool,
  admin: StaffTokenClaims,
  staffId: string,
  change: StaffMemberChange,
): Promise<StaffMemberView> {
  if (staffId === admin.sub && (change.active === false || (change.role && change.role !== 'admin')))
    throw new AppError('conflict', 'You cannot remove your own admin access; ask another admin');
  return withTransaction(pool, async (client) => {
    const member = await updateStaff(client, admin.practiceId, staffId, {
      ...change,
      name: change.name?.trim(),
    });
    if (!member) throw new AppError('notFound', 'No such member of staff');
    // their refresh tokens stop working now; an access token already issued runs out within minutes
    if (change.active === false) await revokeStaffSessions(client, member.id);
    await recordAudit(client, {
      practiceId: admin.practiceId,
      actor: admin.sub,
      action: `change staff: ${changedFields(change)}`,
      entity: 'staff',
      entityId: member.id,
    });
    return member;
  });
}

/** Send Document needs somewhere to send: the GP system's MESH mailbox, or MESH's routing by the patient. */
function checkWriteBackSettings(change: PracticeSettingsChange): void {
  const settings = change.writeBack;
  if (settings?.transport !== 'gp-connect-send-document') return;
  if (!settings.sendDocument.recipientMailbox && !settings.sendDocument.routeByPatient) {
    throw new AppError(
      'badRequest',
      'GP Connect Send Document needs the GP system’s MESH mailbox, or routing to the patient’s registered practice',
    );
  }
}

/** Each website origin exactly as a browser writes it (the pattern lets through a default port, e.g. :443). */
function checkWebsiteOrigins(change: PracticeSettingsChange): void {
  for (const origin of change.websiteOrigins ?? []) {
    if (new URL(origin).origin !== origin)
      throw new AppError(
        'badRequest',
        `${origin} is not a website origin; write it as ${new URL(origin).origin}`,
      );
  }
}

function checkOpeningHours(change: PracticeSettingsChange): void {
  for (const [day, ranges] of Object.entries(change.openingHours ?? {})) {
    if (ranges.some(([from, to]) => from >= to)) {
      throw new AppError('badRequest', `Opening hours on ${day}: each period must end after it starts`);
    }
  }
}

/** The settings with the bank-holiday data's status: admins are warned months before it runs out. */
function withBankHolidays(settings: StoredPracticeSettings, now: Date): PracticeSettingsView {
  return {
    ...settings,
    bankHolidays: { coversUntil: bankHolidaysCoverUntil(), warning: bankHolidayDataWarning(now) },
  };
}
