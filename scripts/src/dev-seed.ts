import pg from 'pg';
import { sealPracticeSecrets, type SecretKeyring } from '@gpc/contracts/secrets';
import { createPractice, hashPassword, type NotificationSettings } from '@gpc/triage';

export const devPractice = { odsCode: 'A81001', name: 'Riverside Surgery (development)' };
export const devPracticeSender = 'Riverside Surgery (development) <riverside.surgery@example.org>';
export const devStaffEmails = {
  admin: 'admin@riverside.example',
  clinician: 'clinician@riverside.example',
  reception: 'reception@riverside.example',
} as const;

/**
 * A second development practice whose GP record is reached by GP Connect Send Document: an ITK3
 * message over the local MESH stand-in to the simulated GP system's mailbox (local/gp-inbox, which
 * answers with ITK3 acknowledgements), so both transports can be tried from the dashboard.
 */
export const devMeshPractice = {
  odsCode: 'A81002',
  name: 'Meadow Lane Surgery (development, files by MESH)',
  /** The simulated GP system's MESH mailbox (scripts/src/mesh-dev.ts). */
  gpMailbox: 'A81002GP01',
};
export const devMeshStaffEmails = {
  admin: 'admin@meadowlane.example',
  clinician: 'clinician@meadowlane.example',
  reception: 'reception@meadowlane.example',
} as const;

/**
 * A practice to try the service with on a developer's machine: its forms, one member of staff per
 * role (the password is this checkout's development password) and opening hours round the clock.
 * Its GP record is the local FHIR server, whatever port that is on today, and its staff's password
 * this checkout's; the rest is made once. Credentials in its settings are stored as triage stores
 * them: encrypted for the practice under this checkout's key (`secrets`, as triage and record run with).
 */
export async function seedDevPractice(
  databaseUrl: string,
  password: string,
  fhirBaseUrl: string,
  notificationSettings: NotificationSettings,
  secrets: SecretKeyring,
): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const stored = (practiceId: string) =>
    JSON.stringify(sealPracticeSecrets(secrets, practiceId, 'notification_settings', notificationSettings));
  try {
    await seedRiverside(pool, password, fhirBaseUrl, stored);
    await seedMeshPractice(pool, password, stored);
  } finally {
    await pool.end();
  }
}

async function seedRiverside(
  pool: pg.Pool,
  password: string,
  fhirBaseUrl: string,
  stored: (practiceId: string) => string,
): Promise<void> {
  {
    // every start: the local FHIR server and mail catcher are where this checkout runs them now, and
    // the form offers sign-in with the local NHS login, and staff sign-in with the local NHS CIS2 (a
    // database from before either gets them too)
    const found = await pool.query<{ id: string }>('SELECT id FROM practice WHERE ods_code = $1', [
      devPractice.odsCode,
    ]);
    const existingId = found.rows[0]?.id;
    if (existingId) {
      await pool.query(
        'UPDATE practice SET fhir_base_url = $2, notification_settings = $3, nhs_login_offered = true, cis2_sign_in = true WHERE id = $1',
        [existingId, fhirBaseUrl, stored(existingId)],
      );
    }
    const passwordHash = await hashPassword(password);
    if (existingId) {
      // the banner prints this checkout's password: a fresh clone on a machine whose database has
      // the practice already would otherwise print one that no longer signs in
      await pool.query(
        `UPDATE staff SET password_hash = $3 FROM practice p
          WHERE staff.practice_id = p.id AND p.ods_code = $1 AND staff.email = ANY($2)`,
        [devPractice.odsCode, Object.values(devStaffEmails), passwordHash],
      );
      return;
    }
    const practiceId = await createPractice(pool, devPractice);
    const allDay = [['00:00', '24:00']];
    await pool.query(
      // open round the clock: England's core hours, and out of hours by the practice's choice
      `UPDATE practice SET opening_hours = $2, out_of_hours = 'open', fhir_base_url = $3, notification_settings = $4,
         nhs_login_offered = true, cis2_sign_in = true
        WHERE id = $1`,
      [
        practiceId,
        JSON.stringify(
          Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => [day, allDay])),
        ),
        fhirBaseUrl,
        stored(practiceId),
      ],
    );
    for (const [role, email] of Object.entries(devStaffEmails)) {
      await pool.query(
        'INSERT INTO staff (practice_id, email, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5)',
        [practiceId, email, `Dev ${role}`, role, passwordHash],
      );
    }
  }
}

/**
 * The practice that files by GP Connect Send Document: made once (open round the clock, NHS login
 * offered, one member of staff per role); every start sets its transport to the local MESH's GP
 * mailbox, its mail to the mail catcher and its staff's password to this checkout's.
 */
async function seedMeshPractice(
  pool: pg.Pool,
  password: string,
  stored: (practiceId: string) => string,
): Promise<void> {
  const found = await pool.query<{ id: string }>('SELECT id FROM practice WHERE ods_code = $1', [
    devMeshPractice.odsCode,
  ]);
  const passwordHash = await hashPassword(password);
  const practiceId = found.rows[0]?.id ?? (await createPractice(pool, devMeshPractice));
  const allDay = [['00:00', '24:00']];
  await pool.query(
    `UPDATE practice SET notification_settings = $2, nhs_login_offered = true,
       write_back_transport = 'gp-connect-send-document', mesh_recipient_mailbox = $3, mesh_route_by_patient = false,
       send_document_recipient_ods = NULL,
       opening_hours = CASE WHEN $4 THEN $5::jsonb ELSE opening_hours END,
       out_of_hours = CASE WHEN $4 THEN 'open' ELSE out_of_hours END
     WHERE id = $1`,
    [
      practiceId,
      stored(practiceId),
      devMeshPractice.gpMailbox,
      !found.rows[0],
      JSON.stringify(
        Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => [day, allDay])),
      ),
    ],
  );
  for (const [role, email] of Object.entries(devMeshStaffEmails)) {
    await pool.query(
      `INSERT INTO staff (practice_id, email, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [practiceId, email, `Dev ${role}`, role, passwordHash],
    );
  }
  await pool.query(`UPDATE staff SET password_hash = $2 WHERE practice_id = $1 AND email = ANY($3)`, [
    practiceId,
    passwordHash,
    Object.values(devMeshStaffEmails),
  ]);
}
