import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { PracticeSettingsView, WriteBackSettings } from '@gpc/contracts';
import { startTriage } from '@gpc/test-support';

describe('a practice’s GP record transport (FHIR R4 or GP Connect Send Document over MESH), against the real PostgreSQL', async () => {
  const { as, practiceA, practiceB } = await startTriage({ after });
  const admin = as(practiceA, 'admin');
  const change = (writeBack: unknown, client = admin) =>
    client.inject({ method: 'PATCH', url: '/practice', payload: { writeBack } });
  const settingsOf = async (client = admin) =>
    (await client.inject({ method: 'GET', url: '/practice' })).json<PracticeSettingsView>().writeBack;

  it('is FHIR R4 until an admin chooses Send Document with the GP system’s MESH mailbox, shown in the settings', async () => {
    assert.equal((await settingsOf())?.transport, 'fhir-r4');
    const sendDocument: WriteBackSettings = {
      transport: 'gp-connect-send-document',
      sendDocument: { recipientMailbox: 'A81001OT001', routeByPatient: false, recipientOdsCode: null },
    };
    const changed = await change(sendDocument);
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual(changed.json<PracticeSettingsView>().writeBack, sendDocument);
    assert.deepEqual(await settingsOf(), sendDocument);
    assert.equal(
      (await settingsOf(as(practiceB, 'admin')))?.transport,
      'fhir-r4',
      'another practice’s is its own',
    );

    const byPatient: WriteBackSettings = {
      transport: 'gp-connect-send-document',
      sendDocument: { recipientMailbox: null, routeByPatient: true, recipientOdsCode: 'A81002' },
    };
    assert.equal((await change(byPatient)).statusCode, 200);
    assert.deepEqual(await settingsOf(), byPatient);
    const back = {
      transport: 'fhir-r4',
      sendDocument: { recipientMailbox: null, routeByPatient: false, recipientOdsCode: null },
    };
    assert.equal((await change(back)).statusCode, 200);
    assert.deepEqual(await settingsOf(), back);
  });

  it('refuses Send Document with nowhere to send, a malformed mailbox or ODS code, and non-admins', async () => {
    const nowhere = await change({
      transport: 'gp-connect-send-document',
      sendDocument: { recipientMailbox: null, routeByPatient: false, recipientOdsCode: null },
    });
    assert.equal(nowhere.statusCode, 400);
    assert.match(nowhere.json<{ message: string }>().message, /MESH mailbox/);
    for (const sendDocument of [
      { recipientMailbox: 'not a mailbox!', routeByPatient: false, recipientOdsCode: null },
      { recipientMailbox: 'A81001OT001', routeByPatient: false, recipientOdsCode: 'a81001' },
    ]) {
      const refused = await change({ transport: 'gp-connect-send-document', sendDocument });
      assert.equal(refused.statusCode, 400, JSON.stringify(sendDocument));
    }
    const clinician = await change(
      {
        transport: 'gp-connect-send-document',
        sendDocument: { recipientMailbox: 'A81001OT001', routeByPatient: false, recipientOdsCode: null },
      },
      as(practiceA, 'clinician'),
    );
    assert.equal(clinician.statusCode, 403);
    assert.equal((await settingsOf())?.transport, 'fhir-r4', 'nothing refused was kept');
  });
});
