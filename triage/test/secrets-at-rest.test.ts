import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { ConfigError } from '@gpc/contracts';
import { newSecretsKeyEntry, secretKeyringFrom, type SecretKeyring } from '@gpc/contracts/secrets';
import {
  createTriageLogger,
  generateSigningKey,
  loadTriageConfig,
  type NotificationSettings,
} from '@gpc/triage';
import {
  seedConsultation,
  startMailRelay,
  startNotifyStandIn,
  startTriage,
  storedSetting,
  track,
  waitFor,
  type SeededPractice,
} from '@gpc/test-support';

const repoRoot = path.resolve(import.meta.dirname, '../..');

// the deployment's keys: "old" held since before, "new" added and made current (a rotation under way)
const oldEntry = newSecretsKeyEntry('old');
const newEntry = newSecretsKeyEntry('new');
const keyring = (keys: string, current: string): SecretKeyring =>
  secretKeyringFrom({ secretsKeys: keys, secretsCurrentKid: current }, 'TRIAGE')!;
const oldOnly = keyring(oldEntry, 'old');
const rotating = keyring(`${newEntry},${oldEntry}`, 'new');

const smtpUser = 'riverside.surgery';
const smtpPassword = `smtp-pw-${randomUUID()}`;
const notifyKey = `gpc_test-${randomUUID()}-${randomUUID()}`;
const clientSecret = `client-secret-${randomUUID()}`;
const wrongPassword = `wrong-pw-${randomUUID()}`;

/** The ways a secret's bytes could sit in a row: as text, base64, base64url or hex. */
const encodings = (secret: string) => {
  const bytes = Buffer.from(secret, 'utf8');
  // SMTP's AUTH PLAIN sends base64 of "\0user\0password"
  const plain = Buffer.from(`\0${smtpUser}\0${secret}`, 'utf8').toString('base64');
  return [secret, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), plain];
};
const assertNoSecretIn = (text: string, where: string) => {
  for (const secret of [smtpPassword, notifyKey, clientSecret, wrongPassword])
    for (const encoded of encodings(secret))
      assert.ok(!text.includes(encoded), `${where} holds a secret (${encoded.slice(0, 12)}…)`);
};

interface NotificationView {
  status: string;
  attempts: number;
  lastError: string | null;
}

describe('practices’ credentials are encrypted at rest (real PostgreSQL, Redis and SMTP; a GOV.UK Notify stand-in)', async () => {
  // triage's own logger (its redaction included), writing here instead of stdout
  const logLines: string[] = [];
  const logger = createTriageLogger(
    'debug',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );
  const { db, practiceA, practiceB, as, ...triage } = await startTriage(
    { after },
    {
      logger,
      rateLimitAllowList: ['127.0.0.1'],
      secrets: rotating,
      notifications: { retryBaseDelayMs: 200, maxAttempts: 2, sweepIntervalMs: 0 },
    },
  );
  const relay = await startMailRelay(0, { login: { user: smtpUser, password: smtpPassword } });
  triage.after(() => relay.close());
  const notify = await startNotifyStandIn();
  triage.after(() => notify.close());

  const smtp: NotificationSettings = {
    provider: 'smtp',
    host: '127.0.0.1',
    port: relay.port,
    secure: false,
    user: smtpUser,
    password: smtpPassword,
    from: 'Riverside Surgery <riverside@example.org>',
  };
  const govukNotify: NotificationSettings = {
    provider: 'govuk-notify',
    apiKey: notifyKey,
    emailTemplateId: randomUUID(),
    smsTemplateId: randomUUID(),
    baseUrl: notify.baseUrl,
  };

  const saveSettings = async (practice: SeededPractice, payload: object) => {
    const response = await as(practice, 'admin').inject({ method: 'PATCH', url: '/practice', payload });
    assert.equal(response.statusCode, 200, response.body);
    return response;
  };
  const rawRow = async (practice: SeededPractice) =>
    (
      await db.pool.query<{ fhir_auth: string; notification_settings: string | null }>(
        'SELECT fhir_auth::text, notification_settings::text FROM practice WHERE id = $1',
        [practice.id],
      )
    ).rows[0]!;

  /** A staff message on a new request of the practice, emailed to the patient; its notification once settled. */
  async function emailPatient(practice: SeededPractice, settled: 'sent' | 'failed') {
    const id = await seedConsultation(db.pool, practice.id);
    const email = `patient-${randomUUID()}@example.org`;
    await db.pool.query(
      "UPDATE consultation SET contact_email = $2, preferred_contact = 'email' WHERE id = $1",
      [id, email],
    );
    const staff = as(practice, 'reception');
    const sent = await staff.inject({
      method: 'POST',
      url: `/consultations/${id}/messages`,
      payload: { body: 'Please book a blood test.' },
    });
    assert.equal(sent.statusCode, 201, sent.body);
    const view = await waitFor(
      `notification ${settled}`,
      async () => {
        const detail = await staff.inject({ url: `/consultations/${id}` });
        const [latest] = detail.json<{ notifications: NotificationView[] }>().notifications.slice(-1);
        return latest?.status === settled ? latest : undefined;
      },
      { timeoutMs: 20_000 },
    );
    return { view, email };
  }

  it('stores no credential in plain text: the raw row holds none of the secret’s bytes after saving through the API', async () => {
    await saveSettings(practiceA, {
      fhir: {
        baseUrl: 'https://gp-system.example.nhs.uk/fhir/R4',
        auth: {
          type: 'client_credentials',
          tokenUrl: 'https://gp-system.example.nhs.uk/token',
          clientId: 'gpc-riverside',
          clientSecret,
        },
      },
      notifications: govukNotify,
    });
    let row = await rawRow(practiceA);
    assertNoSecretIn(row.fhir_auth + row.notification_settings, 'the practice row');
    const fhirAuth = JSON.parse(row.fhir_auth) as { clientSecret: string; clientId: string };
    assert.match(fhirAuth.clientSecret, /^enc:v1:new:/, 'under the current key, its id beside it');
    assert.equal(fhirAuth.clientId, 'gpc-riverside', 'what is not secret stays readable');
    assert.match((JSON.parse(row.notification_settings!) as { apiKey: string }).apiKey, /^enc:v1:new:/);

    const saved = await saveSettings(practiceA, { notifications: smtp });
    row = await rawRow(practiceA);
    assertNoSecretIn(row.notification_settings!, 'the practice row');
    const stored = JSON.parse(row.notification_settings!) as { password: string; user: string; host: string };
    assert.match(stored.password, /^enc:v1:new:/);
    assert.deepEqual([stored.user, stored.host], [smtpUser, '127.0.0.1']);
    // and never back out of the API: the settings page shows the rest
    const shown = await as(practiceA, 'admin').inject({ url: '/practice' });
    assertNoSecretIn(shown.body + saved.body, 'the API’s answer');
    assert.ok(!shown.body.includes('enc:v1:'), 'not even encrypted');
    assert.deepEqual(shown.json<{ notifications: unknown }>().notifications, {
      provider: 'smtp',
      from: smtp.from,
      host: '127.0.0.1',
    });
  });

  it('sends with the stored credential, decrypted for its own practice: the relay takes the right password', async () => {
    await saveSettings(practiceA, { notifications: smtp });
    const { view, email } = await emailPatient(practiceA, 'sent');
    assert.equal(view.attempts, 1);
    assert.ok(relay.received.some((mail) => mail.to.includes(email)));
    assert.deepEqual(relay.logins.at(-1), { user: smtpUser, accepted: true });
  });

  it('a relay that refuses the stored password fails the notification without the password in what staff see', async () => {
    await saveSettings(practiceA, { notifications: { ...smtp, password: wrongPassword } });
    const { view } = await emailPatient(practiceA, 'failed');
    assert.ok(view.lastError, 'staff see why');
    assertNoSecretIn(view.lastError, 'what staff see');
    assert.deepEqual(relay.logins.at(-1), { user: smtpUser, accepted: false });
  });

  it('refuses a credential copied into another practice’s row: the notification fails saying so, and nothing is sent with it', async () => {
    await saveSettings(practiceA, { notifications: govukNotify });
    // someone with write access to the table copies A's settings, encrypted key and all, into B's row
    await db.pool.query(
      'UPDATE practice SET notification_settings = (SELECT notification_settings FROM practice WHERE id = $1) WHERE id = $2',
      [practiceA.id, practiceB.id],
    );
    const callsBefore = notify.calls.length;
    const { view, email } = await emailPatient(practiceB, 'failed');
    assert.equal(view.attempts, 1, 'failed for good at once, not retried');
    assert.match(
      view.lastError ?? '',
      /^the practice's notification credentials cannot be used: the stored notification_settings\.apiKey does not decrypt/,
    );
    assert.equal(notify.calls.length, callsBefore, 'Notify never heard from practice B with A’s key');
    assert.ok(!notify.calls.some((call) => call.to === email));
    // A's own still works
    const own = await emailPatient(practiceA, 'sent');
    assert.ok(notify.calls.some((call) => call.to === own.email));
  });

  it('keeps working with a credential stored under the old key once a new key is current, and secrets:rotate re-encrypts it under the new key', async () => {
    // stored before the rotation began: under "old", the only key then
    await db.pool.query('UPDATE practice SET notification_settings = $2 WHERE id = $1', [
      practiceA.id,
      storedSetting(practiceA.id, 'notification_settings', smtp, oldOnly),
    ]);
    // and a practice whose settings predate encryption: plain text
    await db.pool.query('UPDATE practice SET notification_settings = $2 WHERE id = $1', [
      practiceB.id,
      JSON.stringify(smtp),
    ]);
    assert.match((await rawRow(practiceA)).notification_settings!, /"enc:v1:old:/);
    const before = await emailPatient(practiceA, 'sent');
    assert.ok(
      relay.received.some((mail) => mail.to.includes(before.email)),
      'sent under the old key',
    );

    const rotate = () => runRotate(db.url, `${newEntry},${oldEntry}`, 'new');
    const first = await rotate();
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /credentials re-encrypted under key "new": 2 \(of which were plain text: 1\)/);
    assert.ok(!first.output.includes(smtpPassword) && !first.output.includes('enc:v1:'), 'counts only');
    for (const practice of [practiceA, practiceB]) {
      const row = await rawRow(practice);
      assert.match(row.notification_settings!, /"password": "enc:v1:new:/, 'the raw row shows the new key');
      assertNoSecretIn(row.notification_settings!, 'the rotated row');
    }
    const again = await rotate();
    assert.equal(again.code, 0, again.output);
    // idempotent: all three (A's FHIR secret, saved earlier, and both SMTP passwords) now current
    assert.match(
      again.output,
      /re-encrypted under key "new": 0 \(of which were plain text: 0\)\n.*already under key "new": 3\n/,
    );

    // once rotated, the old key can go: sending needs the new one only
    const after = await emailPatient(practiceA, 'sent');
    assert.ok(relay.received.some((mail) => mail.to.includes(after.email)));
    const newOnly = keyring(newEntry, 'new');
    const row = JSON.parse((await rawRow(practiceA)).notification_settings!) as { password: string };
    assert.equal(
      newOnly.open(row.password, { practiceId: practiceA.id, field: 'notification_settings.password' }),
      smtpPassword,
    );
  });

  it('re-encrypts the staff’s TOTP secrets under the new key too, so their authenticator apps still work once the old key goes', async () => {
    const clinician = practiceA.staff.clinician;
    const context = { practiceId: practiceA.id, field: `staff.totp_secret.${clinician.id}` };
    const totpSecret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await db.pool.query('UPDATE staff SET totp_secret = $2, mfa_enabled_at = now() WHERE id = $1', [
      clinician.id,
      oldOnly.seal(totpSecret, context),
    ]);
    const result = await runRotate(db.url, `${newEntry},${oldEntry}`, 'new');
    assert.equal(result.code, 0, result.output);
    assert.ok(!result.output.includes(totpSecret), 'counts only');
    const { rows } = await db.pool.query<{ totp_secret: string }>(
      'SELECT totp_secret FROM staff WHERE id = $1',
      [clinician.id],
    );
    assert.match(rows[0]!.totp_secret, /^enc:v1:new:/, 'the raw row shows the new key');
    assert.equal(keyring(newEntry, 'new').open(rows[0]!.totp_secret, context), totpSecret);
    await db.pool.query('UPDATE staff SET totp_secret = NULL, mfa_enabled_at = NULL WHERE id = $1', [
      clinician.id,
    ]);
  });

  it('rotation leaves a copied credential where it is and names its practice, never its value', async () => {
    await saveSettings(practiceA, { notifications: govukNotify });
    await db.pool.query(
      'UPDATE practice SET notification_settings = (SELECT notification_settings FROM practice WHERE id = $1) WHERE id = $2',
      [practiceA.id, practiceB.id],
    );
    const copied = (await rawRow(practiceB)).notification_settings;
    const result = await runRotate(db.url, `${newEntry},${oldEntry}`, 'new');
    assert.equal(result.code, 1, result.output);
    assert.match(
      result.output,
      new RegExp(`practice ${practiceB.id}: the stored notification_settings.apiKey does not decrypt`),
    );
    assert.ok(!result.output.includes(notifyKey));
    assert.equal((await rawRow(practiceB)).notification_settings, copied, 'left as it was');
  });

  it('refuses to boot with a malformed key, or a current key id it does not hold, naming the setting', () => {
    const refused = (env: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => loadTriageConfig({ ...bootEnv('TRIAGE'), ...env }),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
      );
    const short = `k1:${Buffer.alloc(16, 1).toString('base64')}`;
    const cases: [Record<string, string>, RegExp][] = [
      [
        { TRIAGE_SECRETS_KEYS: short, TRIAGE_SECRETS_CURRENT_KID: 'k1' },
        /TRIAGE_SECRETS_KEYS: key "k1" is 16 bytes; it must be 32/,
      ],
      [
        { TRIAGE_SECRETS_KEYS: 'k1:not base64!', TRIAGE_SECRETS_CURRENT_KID: 'k1' },
        /TRIAGE_SECRETS_KEYS: key "k1" is not base64/,
      ],
      [
        { TRIAGE_SECRETS_KEYS: 'no-kid-here', TRIAGE_SECRETS_CURRENT_KID: 'k1' },
        /entry 1 is not "kid:base64key"/,
      ],
      [
        { TRIAGE_SECRETS_KEYS: `${oldEntry},${oldEntry}`, TRIAGE_SECRETS_CURRENT_KID: 'old' },
        /"old" is given twice/,
      ],
      [
        { TRIAGE_SECRETS_KEYS: oldEntry, TRIAGE_SECRETS_CURRENT_KID: 'new' },
        /TRIAGE_SECRETS_CURRENT_KID: "new" is not one of the key ids/,
      ],
      [
        { TRIAGE_SECRETS_KEYS: oldEntry },
        /TRIAGE_SECRETS_CURRENT_KID: required when TRIAGE_SECRETS_KEYS is set/,
      ],
    ];
    for (const [env, message] of cases) refused(env, message);
    try {
      loadTriageConfig({
        ...bootEnv('TRIAGE'),
        TRIAGE_SECRETS_KEYS: short,
        TRIAGE_SECRETS_CURRENT_KID: 'k1',
      });
    } catch (error) {
      assert.ok(!(error as Error).message.includes(short.slice(3)), 'the message never echoes the key');
    }
    assert.ok(
      loadTriageConfig({
        ...bootEnv('TRIAGE'),
        TRIAGE_SECRETS_KEYS: oldEntry,
        TRIAGE_SECRETS_CURRENT_KID: 'old',
      }),
    );
  });

  it('triage and the record worker, started as processes with a key of the wrong length, stop at boot saying so', async () => {
    for (const [service, entry] of [
      ['triage', 'triage/src/server.ts'],
      ['record', 'record/src/server.ts'],
    ] as const) {
      const prefix = service === 'triage' ? 'TRIAGE' : 'RECORD';
      const child = track(
        spawn(process.execPath, ['--import', 'tsx', entry], {
          cwd: repoRoot,
          env: {
            PATH: process.env.PATH,
            ...bootEnv(prefix),
            [`${prefix}_SECRETS_KEYS`]: `k1:${Buffer.alloc(31, 7).toString('base64')}`,
            [`${prefix}_SECRETS_CURRENT_KID`]: 'k1',
          },
          stdio: 'pipe',
        }),
      );
      const code = await child.exited;
      assert.equal(code, 1, child.output());
      assert.match(
        child.output(),
        new RegExp(
          `${service}: invalid configuration:\\n  - ${prefix}_SECRETS_KEYS: key "k1" is 31 bytes; it must be 32`,
        ),
      );
    }
  });

  it('the rotate command refuses a malformed key too, before touching the database', async () => {
    const result = await runRotate(db.url, 'k1:c2hvcnQ=', 'k1');
    assert.equal(result.code, 1);
    assert.match(result.output, /TRIAGE_SECRETS_KEYS: key "k1" is 5 bytes; it must be 32/);
  });

  it('never writes a credential, or the keys, to the logs', () => {
    const text = logLines.join('');
    assert.ok(text.length > 0, 'the log was captured');
    assertNoSecretIn(text, 'the log');
    for (const entry of [oldEntry, newEntry]) assert.ok(!text.includes(entry.split(':')[1]!), 'no key');
    assert.ok(!text.includes('enc:v1:'), 'not even encrypted');
  });
});

/** A service's environment, complete but for its secrets keys (nothing listens or connects at boot's check). */
function bootEnv(prefix: 'TRIAGE' | 'RECORD'): Record<string, string> {
  return {
    [`${prefix}_DATABASE_URL`]: 'postgres://127.0.0.1:1/none',
    [`${prefix}_REDIS_URL`]: 'redis://127.0.0.1:1',
    [`${prefix}_S3_BUCKET`]: 'unused-here',
    [`${prefix}_S3_ACCESS_KEY_ID`]: 'S3RVER',
    [`${prefix}_S3_SECRET_ACCESS_KEY`]: 'S3RVER',
    ...(prefix === 'TRIAGE' ? { TRIAGE_SIGNING_KEYS: JSON.stringify({ keys: [generateSigningKey()] }) } : {}),
  };
}

/** Runs the rotate command as an operator would, in triage's environment; its exit code and output. */
async function runRotate(databaseUrl: string, keys: string, current: string) {
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', 'triage/src/secrets/rotate-cli.ts'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        TRIAGE_DATABASE_URL: databaseUrl,
        TRIAGE_SECRETS_KEYS: keys,
        TRIAGE_SECRETS_CURRENT_KID: current,
        // the rest of triage's environment is there too, and not its business
        TRIAGE_REDIS_URL: 'redis://127.0.0.1:1',
      },
      stdio: 'pipe',
    }),
  );
  const code = await child.exited;
  return { code, output: child.output() };
}
