import type {
  FhirAuth,
  OpeningHoursSettings,
  PracticeSettingsChange,
  PracticeSettingsView,
} from '@gpc/contracts';
import { parseNotificationSettings } from '../notifications/settings';
import type { Queryable } from './queryable';

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
  fhir_base_url: string | null;
  fhir_auth: FhirAuth;
  notification_settings: unknown;
}
const settingsColumns =
  'ods_code, name, timezone, opening_hours, daily_capacity, fhir_base_url, fhir_auth, notification_settings';

/** The settings as staff see them: never a secret, only whether one is set. */
function toPracticeSettingsView(row: PracticeSettingsRow): PracticeSettingsView {
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

export async function findPracticeSettings(db: Queryable, practiceId: string): Promise<PracticeSettingsView> {
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
): Promise<PracticeSettingsView> {
  const { rows } = await db.query<PracticeSettingsRow>(
    `UPDATE practice SET
       opening_hours = COALESCE($2, opening_hours),
       daily_capacity = COALESCE($3, daily_capacity),
       fhir_base_url = CASE WHEN $4::boolean THEN $5 ELSE fhir_base_url END,
       fhir_auth = COALESCE($6, fhir_auth),
       notification_settings = CASE WHEN $7::boolean THEN $8::jsonb ELSE notification_settings END
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
    ],
  );
  return toPracticeSettingsView(rows[0]!);
}
