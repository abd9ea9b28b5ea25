import type {
  FhirAuth,
  OpeningHoursSettings,
  OutOfHours,
  PracticeNation,
  PracticeSettingsChange,
  PracticeSettingsView,
  WriteBackTransport,
} from '@gpc/contracts';
import { parseNotificationSettings } from '../notifications/settings';
import type { Queryable } from './queryable';

/** The settings as stored; the route adds what depends on the clock (the bank-holiday data's status). */
export type StoredPracticeSettings = Omit<PracticeSettingsView, 'bankHolidays'>;

/** Practices (`practice`) and the forms each starts with (`questionnaire`). */

/** Creates the practice; its id. ODS codes are kept in capitals. */
export async function insertPractice(
  db: Queryable,
  practice: { odsCode: string; name: string },
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO practice (ods_code, name) VALUES ($1, $2) RETURNING id',
    [practice.odsCode.toUpperCase(), practice.name],
  );
  return rows[0]!.id;
}

interface PracticeSettingsRow {
  ods_code: string;
  name: string;
  timezone: string;
  opening_hours: OpeningHoursSettings;
  daily_capacity: number;
  nation: PracticeNation;
  out_of_hours: OutOfHours;
  response_time_message: string | null;
  response_target_urgent_minutes: number;
  response_target_soon_minutes: number;
  response_target_routine_minutes: number;
  nhs_login_offered: boolean;
  cis2_sign_in: boolean;
  website_origins: string[];
  fhir_base_url: string | null;
  fhir_auth: FhirAuth;
  notification_settings: unknown;
  write_back_transport: WriteBackTransport;
  mesh_recipient_mailbox: string | null;
  mesh_route_by_patient: boolean;
  send_document_recipient_ods: string | null;
}
const settingsColumns =
  'ods_code, name, timezone, opening_hours, daily_capacity, nation, out_of_hours, response_time_message, fhir_base_url, ' +
  'fhir_auth, notification_settings, response_target_urgent_minutes, response_target_soon_minutes, response_target_routine_minutes, ' +
  'nhs_login_offered, cis2_sign_in, website_origins, write_back_transport, mesh_recipient_mailbox, mesh_route_by_patient, ' +
  'send_document_recipient_ods';

/** The settings as staff see them: never a secret, only whether one is set. */
function toPracticeSettingsView(row: PracticeSettingsRow): StoredPracticeSettings {
  const settings = parseNotificationSettings(row.notification_settings);
  return {
    odsCode: row.ods_code,
    name: row.name,
    timezone: row.timezone,
    openingHours: row.opening_hours,
    dailyCapacity: row.daily_capacity,
    nation: row.nation,
    outOfHours: row.out_of_hours,
    responseTimeMessage: row.response_time_message,
    responseTargets: {
      urgent: row.response_target_urgent_minutes,
      soon: row.response_target_soon_minutes,
      routine: row.response_target_routine_minutes,
    },
    nhsLoginOffered: row.nhs_login_offered,
    cis2SignIn: row.cis2_sign_in,
    websiteOrigins: row.website_origins,
    fhir: { baseUrl: row.fhir_base_url, authType: row.fhir_auth.type },
    writeBack: {
      transport: row.write_back_transport,
      sendDocument: {
        recipientMailbox: row.mesh_recipient_mailbox,
        routeByPatient: row.mesh_route_by_patient,
        recipientOdsCode: row.send_document_recipient_ods,
      },
    },
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

export async function findPracticeSettings(
  db: Queryable,
  practiceId: string,
): Promise<StoredPracticeSettings> {
  const { rows } = await db.query<PracticeSettingsRow>(
    `SELECT ${settingsColumns} FROM practice WHERE id = $1`,
    [practiceId],
  );
  return toPracticeSettingsView(rows[0]!);
}

/** Changes the settings given; those left out stay as they are (`null` FHIR base URL or provider clears it). */
export async function updatePracticeSettings(
  db: Queryable,
  practiceId: string,
  change: PracticeSettingsChange,
): Promise<StoredPracticeSettings> {
  const { rows } = await db.query<PracticeSettingsRow>(
    `UPDATE practice SET
       opening_hours = COALESCE($2, opening_hours),
       daily_capacity = COALESCE($3, daily_capacity),
       fhir_base_url = CASE WHEN $4::boolean THEN $5 ELSE fhir_base_url END,
       fhir_auth = COALESCE($6, fhir_auth),
       notification_settings = CASE WHEN $7::boolean THEN $8::jsonb ELSE notification_settings END,
       response_target_urgent_minutes = COALESCE($9, response_target_urgent_minutes),
       response_target_soon_minutes = COALESCE($10, response_target_soon_minutes),
       response_target_routine_minutes = COALESCE($11, response_target_routine_minutes),
       nhs_login_offered = COALESCE($12, nhs_login_offered),
       website_origins = COALESCE($13, website_origins),
       cis2_sign_in = COALESCE($14, cis2_sign_in),
       write_back_transport = COALESCE($15, write_back_transport),
       mesh_recipient_mailbox = CASE WHEN $15::text IS NULL THEN mesh_recipient_mailbox ELSE $16 END,
       mesh_route_by_patient = COALESCE($17, mesh_route_by_patient),
       send_document_recipient_ods = CASE WHEN $15::text IS NULL THEN send_document_recipient_ods ELSE $18 END
     WHERE id = $1 RETURNING ${settingsColumns}`,
    [
      practiceId,
      change.openingHours ? JSON.stringify(change.openingHours) : null,
      change.dailyCapacity ?? null,
      change.fhir !== undefined,
      change.fhir?.baseUrl ?? null,
      change.fhir ? JSON.stringify(change.fhir.auth) : null,
      change.notifications !== undefined,
      change.notifications ? JSON.stringify(change.notifications) : null,
      change.responseTargets?.urgent ?? null,
      change.responseTargets?.soon ?? null,
      change.responseTargets?.routine ?? null,
      change.nhsLoginOffered ?? null,
      change.websiteOrigins ?? null,
      change.cis2SignIn ?? null,
      change.writeBack?.transport ?? null,
      change.writeBack?.sendDocument.recipientMailbox ?? null,
      change.writeBack?.sendDocument.routeByPatient ?? null,
      change.writeBack?.sendDocument.recipientOdsCode ?? null,
    ],
  );
  return toPracticeSettingsView(rows[0]!);
}

/**
 * Changes the hours settings given (nation, out-of-hours choice, response-time message); those left
 * out stay as they are, a null message goes back to the service's own words.
 */
export async function updateHoursSettings(
  db: Queryable,
  practiceId: string,
  change: Pick<PracticeSettingsChange, 'nation' | 'outOfHours' | 'responseTimeMessage'>,
): Promise<void> {
  await db.query(
    `UPDATE practice SET nation = COALESCE($2, nation), out_of_hours = COALESCE($3, out_of_hours),
       response_time_message = CASE WHEN $4::boolean THEN $5 ELSE response_time_message END
     WHERE id = $1`,
    [
      practiceId,
      change.nation ?? null,
      change.outOfHours ?? null,
      change.responseTimeMessage !== undefined,
      change.responseTimeMessage?.trim() ?? null,
    ],
  );
}

/**
 * The practice's own website origins, where the widget may open its form (public: the web server's
 * frame-ancestors and the form's postMessage checks); undefined when no practice has that ODS code.
 */
export async function findWebsiteOrigins(db: Queryable, odsCode: string): Promise<string[] | undefined> {
  const { rows } = await db.query<{ website_origins: string[] }>(
    'SELECT website_origins FROM practice WHERE ods_code = $1',
    [odsCode],
  );
  return rows[0]?.website_origins;
}

/** A practice's stored settings that hold credentials, as stored (secrets encrypted, or legacy plain text). */
export interface PracticeSecretsRow {
  id: string;
  fhir_auth: unknown;
  notification_settings: unknown;
}

/** Every practice's id, oldest first (the rotation goes through them one at a time). */
export async function listPracticeIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM practice ORDER BY created_at, id');
  return rows.map((row) => row.id);
}

/** A practice's stored credentials, locked until the transaction ends (a settings change waits). */
export async function lockPracticeSecrets(
  db: Queryable,
  practiceId: string,
): Promise<PracticeSecretsRow | undefined> {
  const { rows } = await db.query<PracticeSecretsRow>(
    'SELECT id, fhir_auth, notification_settings FROM practice WHERE id = $1 FOR UPDATE',
    [practiceId],
  );
  return rows[0];
}

/** Stores a practice's credentials re-encrypted (the same settings otherwise). */
export async function storePracticeSecrets(
  db: Queryable,
  practiceId: string,
  stored: { fhirAuth: unknown; notificationSettings: unknown },
): Promise<void> {
  await db.query('UPDATE practice SET fhir_auth = $2, notification_settings = $3 WHERE id = $1', [
    practiceId,
    JSON.stringify(stored.fhirAuth),
    stored.notificationSettings === null ? null : JSON.stringify(stored.notificationSettings),
  ]);
}
