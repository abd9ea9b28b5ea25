import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { NotificationSettings } from '@gpc/triage';
import {
  capturedLogger,
  seedConsultation,
  startMailRelay,
  startNotifyStandIn,
  startTriage,
  storedSetting,
  waitFor,
} from '@gpc/test-support';

const email = 'robin.sample@example.org';
const phone = '07700 900456';
const notifyKey = `gp-consult-test-${randomUUID()}-${randomUUID()}`;
const emailTemplateId = randomUUID();
const smsTemplateId = randomUUID();

interface NotificationView {
  channel: string;
  destination: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

describe('links to patients by email and text message (real PostgreSQL, Redis and SMTP; a GOV.UK Notify stand-in)', async () => {
  const { logger, lines: logLines } = capturedLogger('info');
  const {
    app,
    db,
    practiceA: practice,
    as,
    ...triage
  } = await startTriage(
    { after },
    {
      publicWebUrl: 'https://consult.example.org',
      // these tests poll the request far faster than a person would
      rateLimitAllowList: ['127.0.0.1'],
      logger,
      notifications: {
        retryBaseDelayMs: 200,
        deliveryCheckEveryMs: 200,
        maxAttempts: 4,
        firstDeliveryCheckMs: 100,
        sweepIntervalMs: 0,
      },
    },
  );
  const relay = await startMailRelay();
  triage.after(() => relay.close());
  const notify = await startNotifyStandIn();
  triage.after(() => notify.close());

  const staff = () => as(practice, 'reception').headers;

  async function useSettings(settings: NotificationSettings | null) {
    // as triage stores them: the API key encrypted for the practice
    await db.pool.query('UPDATE practice SET notification_settings = $2 WHERE id = $1', [
      practice.id,
      settings === null ? null : storedSetting(practice.id, 'notification_settings', settings),
    ]);
  }
  const smtp = (port = relay.port): NotificationSettings => ({
    provider: 'smtp',
    host: '127.0.0.1',
    port,
    secure: false,
    from: 'Riverside Surgery <riverside@example.org>',
  });

  const govukNotify = (): NotificationSettings => ({
    provider: 'govuk-notify',
    apiKey: notifyKey,
    emailTemplateId,
    smsTemplateId,
    baseUrl: notify.baseUrl,
  });

  async function requestWith(contact: {
    phone?: string;
    email?: string;
    preferred: 'sms' | 'email' | 'phone';
  }) {
    const id = await seedConsultation(db.pool, practice.id);
    await db.pool.query(
      'UPDATE consultation SET contact_phone = $2, contact_email = $3, preferred_contact = $4 WHERE id = $1',
      [id, contact.phone ?? null, contact.email ?? null, contact.preferred],
    );
    return id;
  }

  async function message(consultationId: string, body = 'Your blood test results are normal.') {
    const response = await app.inject({
      method: 'POST',
      url: `/consultations/${consultationId}/messages`,
      headers: staff(),
      payload: { body },
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json<{ threadLink: string; notification: NotificationView | null }>();
  }

  const notificationsOf = async (consultationId: string) =>
    (await app.inject({ url: `/consultations/${consultationId}`, headers: staff() })).json<{
      notifications: NotificationView[];
    }>().notifications;

  const settled = (consultationId: string, status: string) =>
    waitFor(
      `notification ${status}`,
      async () => {
        const [latest] = (await notificationsOf(consultationId)).slice(-1);
        return latest?.status === status ? latest : undefined;
      },
      { timeoutMs: 20_000 },
    );

  it('emails the patient a link through the practice’s relay, with nothing clinical in it, and the link opens the thread', async () => {
    await useSettings(smtp());
    const id = await requestWith({ email, phone, preferred: 'email' });
    const sent = await message(id);
    assert.deepEqual(
      { channel: sent.notification?.channel, status: sent.notification?.status },
      { channel: 'email', status: 'queued' },
    );
    const view = await settled(id, 'sent');
    assert.equal(view.destination, email);
    assert.equal(view.attempts, 1);

    const mail = await waitFor('the email', () => relay.received.find((m) => m.to.includes(email)), {
      timeoutMs: 20_000,
    });
    const { rows } = await db.pool.query<{ reference: string }>(
      'SELECT reference FROM consultation WHERE id = $1',
      [id],
    );
    assert.equal(mail.subject, `Practice A81001: a message about your request ${rows[0]!.reference}`);
    assert.match(mail.from, /Riverside Surgery/);
    assert.doesNotMatch(mail.text, /blood test/, 'the message itself stays behind the date-of-birth check');
    const link = /https:\/\/consult\.example\.org\/thread\.html#t=(\S+)/.exec(mail.text);
    assert.ok(link, mail.text);
    const unlocked = await app.inject({
      method: 'POST',
      url: '/threads/unlock',
      payload: { token: link[1], birthDate: '1980-02-03' },
    });
    assert.equal(unlocked.statusCode, 200, unlocked.body);
    const thread = await app.inject({
      url: '/threads/messages',
      headers: { authorization: `Bearer ${unlocked.json<{ sessionToken: string }>().sessionToken}` },
    });
    assert.match(thread.body, /Your blood test results are normal\./);
  });

  it('keeps trying while the relay is down, and sends once it is back', async () => {
    const down = await startMailRelay();
    const port = down.port;
    await down.close();
    await useSettings(smtp(port));
    const id = await requestWith({ email, preferred: 'email' });
    await message(id);
    const waiting = await waitFor(
      'a failed attempt',
      async () => {
        const [latest] = await notificationsOf(id);
        return latest && latest.attempts >= 1 && latest.lastError ? latest : undefined;
      },
      { timeoutMs: 20_000 },
    );
    assert.equal(waiting.status, 'queued');
    assert.match(waiting.lastError ?? '', /the mail relay did not take it/);
    const back = await startMailRelay(port);
    try {
      const view = await settled(id, 'sent');
      assert.ok(view.attempts >= 2);
      assert.equal(back.received.length, 1);
    } finally {
      await back.close();
    }
  });

  it('fails at once, saying why, when the relay refuses the address', async () => {
    await useSettings(smtp());
    relay.refuseWith(550);
    try {
      const id = await requestWith({ email: 'nobody@example.org', preferred: 'email' });
      await message(id);
      const view = await settled(id, 'failed');
      assert.equal(view.attempts, 1);
      assert.equal(view.lastError, 'the mail relay refused it (550)');
    } finally {
      relay.refuseWith(undefined);
    }
  });

  it('tells staff to phone when the practice sends email only and the patient gave only a phone number', async () => {
    await useSettings(smtp());
    const id = await requestWith({ phone, preferred: 'sms' });
    const sent = await message(id);
    assert.equal(sent.notification?.status, 'failed');
    assert.match(sent.notification?.lastError ?? '', /sends by email only: phone them/);
  });

  it('sends a text message through GOV.UK Notify and records its delivery receipt', async () => {
    await useSettings(govukNotify());
    notify.setStatus('sending');
    const id = await requestWith({ phone, email, preferred: 'sms' });
    await message(id);
    await settled(id, 'sent');
    const call = notify.calls.at(-1);
    assert.equal(call?.kind, 'sms');
    assert.equal(call?.to, phone);
    assert.equal(call?.templateId, smsTemplateId);
    assert.equal(call?.serviceId, notifyKey.slice(-73, -37), 'signed with the service id from the key');
    assert.match(call?.personalisation.link ?? '', /^https:\/\/consult\.example\.org\/thread\.html#t=/);
    notify.setStatus('delivered');
    const delivered = await settled(id, 'delivered');
    assert.equal(delivered.channel, 'sms');
  });

  it('fails with Notify’s own words on a 400, and on a permanent-failure receipt', async () => {
    await useSettings(govukNotify());
    notify.refuseNext(400, 'phone_number Not a UK mobile number');
    const refused = await requestWith({ phone: '01632 960001', preferred: 'sms' });
    await message(refused);
    const view = await settled(refused, 'failed');
    assert.equal(view.lastError, 'GOV.UK Notify: phone_number Not a UK mobile number');
    assert.equal(view.attempts, 1);

    notify.setStatus('permanent-failure');
    const bounced = await requestWith({ email: 'gone@example.org', preferred: 'email' });
    await message(bounced);
    const failed = await settled(bounced, 'failed');
    assert.match(failed.lastError ?? '', /does not exist/);
  });

  it('leaves the link to staff when the practice has no provider set up', async () => {
    await useSettings(null);
    const id = await requestWith({ email, preferred: 'email' });
    const sent = await message(id);
    assert.equal(sent.notification, null);
    assert.match(sent.threadLink, /thread\.html#t=/);
    assert.deepEqual(await notificationsOf(id), []);
  });

  it('never writes an address or a number to the logs', () => {
    const logged = logLines.join('');
    assert.ok(logged.includes('notification sent'), 'the sends were logged');
    for (const secret of [email, phone, 'nobody@example.org', '01632 960001', 'gone@example.org']) {
      assert.ok(!logged.includes(secret), `"${secret}" appeared in the logs`);
    }
  });
});
