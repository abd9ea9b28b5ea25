// Issue 12, finding 2: server-side request forgery through the notification settings a practice's
// admin sets (GOV.UK Notify base URL, SMTP host and port). Each attack goes through the admin API
// or the notification worker, against real services on 127.0.0.1 (PostgreSQL, Redis, a Notify
// stand-in, servers that record every connection).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { after, describe, it } from 'node:test';
import { strictOutbound, type OutboundPolicy } from '@gpc/outbound';
import type { NotificationSettings } from '@gpc/triage';
import {
  seedConsultation,
  startNotifyStandIn,
  startRecordingServer,
  startTriage,
  storedSetting,
  waitFor,
  type TestTriage,
} from '@gpc/test-support';

const notifyKey = `gp-consult-test-${randomUUID()}-${randomUUID()}`;
const templates = { emailTemplateId: randomUUID(), smsTemplateId: randomUUID() };
const notifyAt = (baseUrl: string): NotificationSettings => ({
  provider: 'govuk-notify',
  apiKey: notifyKey,
  ...templates,
  baseUrl,
});
const smtpAt = (host: string, port = 2525): NotificationSettings => ({
  provider: 'smtp',
  host,
  port,
  secure: false,
  from: 'Riverside Surgery <riverside@example.org>',
});

interface NotificationView {
  status: string;
  attempts: number;
  lastError: string | null;
}

async function startWorld(outbound: OutboundPolicy) {
  const triage = await startTriage(
    { after },
    {
      outbound,
      publicWebUrl: 'https://consult.example.org',
      rateLimitAllowList: ['127.0.0.1'],
      notifications: {
        retryBaseDelayMs: 100,
        deliveryCheckEveryMs: 200,
        maxAttempts: 2,
        firstDeliveryCheckMs: 100,
        sweepIntervalMs: 0,
      },
    },
  );
  return { triage, ...steps(triage) };
}

function steps({ app, db, practiceA: practice, as }: TestTriage) {
  const staff = () => as(practice, 'reception').headers;

  /** The admin sets the practice's provider through the settings API. */
  const setNotifications = (settings: NotificationSettings) =>
    as(practice, 'admin').inject({ method: 'PATCH', url: '/practice', payload: { notifications: settings } });

  /** Settings stored as they are (saved before the check existed, or a name that resolves inside later). */
  const storeNotifications = (settings: NotificationSettings) =>
    db.pool.query('UPDATE practice SET notification_settings = $2 WHERE id = $1', [
      practice.id,
      storedSetting(practice.id, 'notification_settings', settings),
    ]);

  /** A staff message to a patient who gave a phone number and an email: its notification, once it is `status`. */
  async function notifyPatient(status: 'sent' | 'failed'): Promise<NotificationView> {
    const id = await seedConsultation(db.pool, practice.id);
    await db.pool.query(
      "UPDATE consultation SET contact_phone = '07700 900456', contact_email = 'robin@example.org', preferred_contact = 'email' WHERE id = $1",
      [id],
    );
    const sent = await app.inject({
      method: 'POST',
      url: `/consultations/${id}/messages`,
      headers: staff(),
      payload: { body: 'Your blood test results are normal.' },
    });
    assert.equal(sent.statusCode, 201, sent.body);
    return waitFor(
      `notification ${status}`,
      async () => {
        const view = await app.inject({ url: `/consultations/${id}`, headers: staff() });
        const [latest] = view.json<{ notifications: NotificationView[] }>().notifications.slice(-1);
        return latest?.status === status ? latest : undefined;
      },
      { timeoutMs: 20_000 },
    );
  }

  return { setNotifications, storeNotifications, notifyPatient };
}

describe('server-side request forgery through the GOV.UK Notify and SMTP settings, as production runs', async () => {
  const { triage, setNotifications, storeNotifications, notifyPatient } = await startWorld(strictOutbound);
  // an internal service on this machine: HTTP and raw TCP connections to it are counted
  const internal = await startRecordingServer(() => ({ status: 201, body: '{}' }));
  triage.after(() => internal.close());
  const notify = await startNotifyStandIn();
  triage.after(() => notify.close());
  const port = internal.port;
  const ownName = hostname();
  const ownNameIsLoopback = await lookup(ownName)
    .then(({ address }) => address.startsWith('127.') || address === '::1')
    .catch(() => false);

  const loopback = 'it is a loopback address (this server itself)';
  const notifyTargets = [
    [`https://127.0.0.1:${port}`, loopback],
    [`https://localhost:${port}`, loopback],
    ['https://169.254.169.254', 'it is a cloud metadata address'],
    ['https://10.0.0.1', 'it is a private network address'],
    [notify.baseUrl, 'it is not encrypted (plain http, or SMTP without TLS)'],
  ] as const;
  const smtpTargets = [
    ['127.0.0.1', loopback],
    ['localhost', loopback],
    ['::1', loopback],
    ['169.254.169.254', 'it is a cloud metadata address'],
    ['10.0.0.1', 'it is a private network address'],
    ['100.64.0.1', 'it is a shared (carrier-grade NAT) address'],
  ] as const;

  it('refuses a Notify base URL or SMTP host that is loopback, metadata, private or plain http when an admin sets it, saying why', async () => {
    for (const [url, reason] of notifyTargets) {
      const set = await setNotifications(notifyAt(url));
      assert.equal(set.statusCode, 400, url);
      assert.equal(
        set.json<{ message: string }>().message,
        `the GOV.UK Notify address is not allowed: ${reason}`,
      );
    }
    for (const [host, reason] of smtpTargets) {
      const set = await setNotifications(smtpAt(host, port));
      assert.equal(set.statusCode, 400, host);
      assert.equal(
        set.json<{ message: string }>().message,
        `the mail relay's address is not allowed: ${reason}`,
      );
    }
    assert.equal(internal.connections(), 0);
  });

  it('refuses them again when a link is sent, failing the notification at once with the reason, and nothing connects', async () => {
    const notifyCases: (readonly [string, string])[] = [...notifyTargets];
    const smtpCases: (readonly [string, string])[] = [...smtpTargets];
    if (ownNameIsLoopback) {
      // a name the settings check cannot see through: only the address the socket resolves shows it
      notifyCases.push([`https://${ownName}:${port}`, loopback]);
      smtpCases.push([ownName, loopback]);
    }
    for (const [url, reason] of notifyCases) {
      await storeNotifications(notifyAt(url));
      const view = await notifyPatient('failed');
      assert.equal(view.lastError, `the GOV.UK Notify address is not allowed: ${reason}`, url);
      assert.equal(view.attempts, 1, 'not retried: only a change of settings mends it');
    }
    for (const [host, reason] of smtpCases) {
      await storeNotifications(smtpAt(host, port));
      const view = await notifyPatient('failed');
      assert.equal(view.lastError, `the mail relay's address is not allowed: ${reason}`, host);
    }
    assert.equal(internal.connections(), 0, 'nothing connected to the internal service');
    assert.equal(notify.calls.length, 0, 'nothing reached the Notify stand-in over plain http');
  });
});

describe('GOV.UK Notify in development mode (plain http to loopback allowed): redirects and far sides’ words', async () => {
  const { triage, setNotifications, notifyPatient } = await startWorld({ allowLoopbackHttp: true });
  const notify = await startNotifyStandIn();
  triage.after(() => notify.close());
  const far = await startRecordingServer();
  triage.after(() => far.close());
  const secret = `SECRET-${randomUUID()}`;

  it('does not follow a Notify base URL that redirects', async () => {
    far.answerWith((request) => ({ status: 302, headers: { location: `${notify.baseUrl}${request.url}` } }));
    assert.equal((await setNotifications(notifyAt(far.origin))).statusCode, 200);
    const view = await notifyPatient('failed');
    assert.equal(view.lastError, 'GOV.UK Notify answered with a redirect (302), which is not followed');
    assert.equal(notify.calls.length, 0, 'the redirect was not followed');
  });

  it("shows staff what failed, never the far side's error body", async () => {
    for (const status of [400, 500]) {
      far.answerWith(() => ({
        status,
        statusText: secret,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ errors: [{ error: 'BadRequestError', message: `internal ${secret}` }] }),
      }));
      assert.equal((await setNotifications(notifyAt(far.origin))).statusCode, 200);
      const view = await notifyPatient('failed');
      assert.equal(view.lastError, `GOV.UK Notify: it answered ${status}`);
      assert.ok(!JSON.stringify(view).includes(secret));
    }
  });

  it('refuses private and metadata addresses even in development mode', async () => {
    for (const [settings, message] of [
      [
        notifyAt('http://10.0.0.1'),
        'the GOV.UK Notify address is not allowed: it is a private network address',
      ],
      [smtpAt('169.254.169.254'), "the mail relay's address is not allowed: it is a cloud metadata address"],
    ] as const) {
      const set = await setNotifications(settings);
      assert.equal(set.statusCode, 400);
      assert.equal(set.json<{ message: string }>().message, message);
    }
  });
});
