import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import type { CreateCallResult } from '@gpc/contracts';
import { seedConsultation, startTriage } from '@gpc/test-support';
import { startCallNode } from '../../signalling/test/support/call-node';
import { CallSockets, nextEvent, ok } from '../../signalling/test/support/call-sockets';
import { launchBrowser, newLocalPage } from './support/browser';
import { startStaticServer } from './support/static';
import { joinAsPatient, mediaFlows, startCallAsClinician } from './support/call';
import { mediaBackOnNewTransport, reception, statesSeen, watchStates } from './support/call-recovery';

/** How long a call whose worker died may take to show both sides to each other again. */
const recoveryLimitMs = 5000;

describe('a mediasoup worker killed during calls, in Chromium: its calls come back, the others go on', async () => {
  const triage = await startTriage({ after }, { listen: true });
  // two workers: one call on each
  const node = await startCallNode({ jwksUrl: `${triage.url}/.well-known/jwks.json`, workers: 2 });
  triage.after(() => node.close());
  const web = await startStaticServer({ triageUrl: triage.url, signallingUrl: node.url });
  triage.after(() => web.close());
  const browser = await launchBrowser();
  triage.after(() => browser.close());
  const sockets = new CallSockets();
  triage.after(() => sockets.closeAll());

  const page = () => newLocalPage(browser);

  /** A call of practice A with its patient admitted and media flowing both ways. */
  async function callInProgress(): Promise<{ callId: string; clinician: Page; patient: Page }> {
    const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
    const clinician = await page();
    const token = triage.as(triage.practiceA, 'clinician').token;
    const patientLink = await startCallAsClinician(clinician, web.url, token, consultationId);
    const patient = await page();
    await joinAsPatient(patient, web.url, patientLink);
    await clinician.getByRole('button', { name: 'Admit Pat Example' }).click();
    await patient.waitForFunction(() => window.__call?.currentState === 'in-call', undefined, {
      timeout: 15_000,
    });
    await mediaFlows(patient, 'patient', 30_000);
    await mediaFlows(clinician, 'clinician', 30_000);
    const session = [...node.app.calls.all()].find((call) => call.consultationId === consultationId);
    assert.ok(session?.room, 'the call has its media room on this node');
    return { callId: session.id, clinician, patient };
  }

  /** The worker the call's media room is on now. */
  const workerOf = (callId: string) => {
    const session = [...node.app.calls.all()].find((call) => call.id === callId);
    assert.ok(session?.room, `call ${callId} has a media room`);
    return session.room.worker;
  };

  /**
   * A call on the same node with its clinician and patient as socket.io clients (no browser: the
   * machine runs two at a time), the patient admitted: the call that must not notice the death.
   */
  async function socketCall(): Promise<{ callId: string; clinician: Socket; patient: Socket }> {
    const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
    const staff = triage.as(triage.practiceA, 'clinician');
    const response = await staff.inject({ method: 'POST', url: '/calls', payload: { consultationId } });
    assert.equal(response.statusCode, 201, response.body);
    const created = response.json<CreateCallResult>();
    const patientToken = new URLSearchParams(new URL(created.patientLink).hash.slice(1)).get('t');
    const clinician = await sockets.connect(node, { token: created.hostToken });
    await ok(clinician, 'call:join', {});
    const patient = await sockets.connect(node, { token: patientToken });
    const joined = await ok(patient, 'call:join', {});
    const admitted = nextEvent(patient, 'admitted');
    await ok(clinician, 'call:admit', { participantId: joined.self.participantId });
    await admitted;
    return { callId: created.callId, clinician, patient };
  }

  it('brings a call whose mediasoup worker is killed back within 5 seconds, with no new admission, and leaves a call on the other worker undisturbed', async (t) => {
    const hit = await callInProgress();
    const spared = await socketCall();
    const doomed = workerOf(hit.callId);
    const sparedWorker = workerOf(spared.callId);
    assert.notEqual(sparedWorker.index, doomed.index, 'the two calls are on different workers');
    const sparedRejoins: string[] = [];
    for (const socket of [spared.clinician, spared.patient])
      socket.on('call:rejoin', () => sparedRejoins.push(socket.id ?? ''));

    for (const page of [hit.clinician, hit.patient]) await watchStates(page);
    const [clinicianBefore, patientBefore] = await Promise.all([
      reception(hit.clinician),
      reception(hit.patient),
    ]);

    const killedAt = Date.now();
    process.kill(doomed.worker.pid, 'SIGKILL');
    const [clinicianBack, patientBack] = await Promise.all([
      mediaBackOnNewTransport(hit.clinician, 'clinician of the call hit', clinicianBefore),
      mediaBackOnNewTransport(hit.patient, 'patient of the call hit', patientBefore),
    ]);
    const recoveryMs = Math.max(clinicianBack, patientBack) - killedAt;
    const report =
      `worker ${doomed.worker.pid} killed: clinician decoding again after ${clinicianBack - killedAt} ms, ` +
      `patient after ${patientBack - killedAt} ms`;
    t.diagnostic(report);
    console.log(`call recovery after a mediasoup worker was killed: ${report}`);
    assert.ok(recoveryMs <= recoveryLimitMs, `both sides back within ${recoveryLimitMs} ms: ${report}`);

    // the call moved to a live worker, and the patient was never sent back to the waiting room
    assert.ok(!workerOf(hit.callId).worker.closed, 'the call is on a live worker');
    assert.ok(!(await statesSeen(hit.patient)).includes('waiting'), 'the patient did not wait again');
    assert.equal(await hit.patient.locator('#step-waiting').isVisible(), false);
    assert.equal(
      await hit.clinician.getByRole('button', { name: 'Admit Pat Example' }).count(),
      0,
      'the clinician is not asked to admit the patient again',
    );
    await mediaFlows(hit.patient, 'patient after recovery');
    await mediaFlows(hit.clinician, 'clinician after recovery');

    // the other call kept its room on its worker, was never asked to rejoin, and still works
    assert.equal(workerOf(spared.callId), sparedWorker, 'the other call is on the worker it had');
    assert.ok(!sparedWorker.worker.closed);
    assert.deepEqual(sparedRejoins, [], 'the other call was not asked to rejoin');
    assert.ok(spared.clinician.connected && spared.patient.connected);
    const said = nextEvent<[{ text: string }]>(spared.clinician, 'chat:message');
    await ok(spared.patient, 'chat:send', { text: 'still here' });
    assert.equal((await said)[0].text, 'still here');
    const transport = await ok(spared.patient, 'transport:create', { direction: 'recv' });
    assert.equal(transport.iceCandidates[0]?.port, node.rtcPort + sparedWorker.index);
  });
});
