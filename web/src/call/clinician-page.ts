import type { Participant } from '@gpc/contracts';
import { button, element } from '../shared/nhsuk';
import { CallClient } from './call-client';
import { CallsApi } from './calls-api';
import { bindCallView, byId, explainMediaError, showStep, takeFragmentParams } from './page-common';

const params = takeFragmentParams();
/** The member of staff's access token: from the page's link, then each renewal the dashboard that opened it sends. */
let staffToken = params.get('t');
const calls = new CallsApi({ token: () => staffToken ?? '' });
window.addEventListener('message', (event: MessageEvent<{ type?: unknown; accessToken?: unknown }>) => {
  if (event.origin !== window.location.origin || event.source !== window.opener) return;
  if (event.data.type === 'gpc-staff-token' && typeof event.data.accessToken === 'string')
    staffToken = event.data.accessToken;
});

function renderWaiting(client: CallClient, participants: Participant[]): void {
  const waiting = participants.filter((p) => p.state === 'waiting');
  byId('nobody-waiting').hidden = waiting.length > 0;
  const list = byId('waiting-list');
  list.replaceChildren(
    ...waiting.map((participant) => {
      const role = participant.role === 'patient' ? 'patient' : 'guest';
      const admit = button(`Admit ${participant.name}`);
      admit.addEventListener('click', () => void client.admit(participant.participantId));
      const remove = button('Remove', { variant: 'secondary' });
      remove.addEventListener('click', () => void client.remove(participant.participantId));
      // side by side in the list, so no space under each
      for (const action of [admit, remove]) action.classList.add('nhsuk-u-margin-bottom-0');
      const item = element('li');
      item.append(element('span', {}, `${participant.name} (${role}) is waiting`), admit, remove);
      return item;
    }),
  );
}

/** Joins the call with a host token from triage, and a fresh one for every reconnect. */
async function enterCall(callId: string): Promise<void> {
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
  } catch (error) {
    const explained = explainMediaError(error);
    byId('start-error').textContent = `${explained.title}. ${explained.text}`;
    byId('start-error').hidden = false;
    return;
  }
  showStep('step-call');
  const client = new CallClient(async () => (await calls.hostToken(callId)).token, stream);
  window.__call = client;
  client.on('participants', (participants) => renderWaiting(client, participants));
  bindCallView(client, stream, (state) => {
    stream.getTracks().forEach((track) => track.stop());
    showStep(state === 'expired' ? 'step-expired' : 'step-ended');
  });
  byId('invite-guest').addEventListener('click', () => {
    const name = prompt('Name of the interpreter or carer');
    if (!name) return;
    void calls.inviteGuest(callId, { name }).then(({ link }) => {
      const anchor = byId<HTMLAnchorElement>('guest-link');
      anchor.href = link;
      anchor.textContent = link;
      byId('guest-link-row').hidden = false;
    });
  });
}

byId('start-form').addEventListener('submit', (event) => {
  event.preventDefault();

  const consultationId = byId<HTMLInputElement>('consultation-id').value.trim();
  const error = byId('start-error');
  if (!consultationId) {
    error.textContent = 'Enter the request ID';
    error.hidden = false;
    return;
  }
  // the patient's name on the link is the request's own: triage takes it from the record
  calls.create({ consultationId }).then(
    ({ callId, patientLink }) => {
      const anchor = byId<HTMLAnchorElement>('patient-link');
      anchor.href = patientLink;
      anchor.textContent = patientLink;
      void enterCall(callId);
    },
    (failure: unknown) => {
      error.textContent = failure instanceof Error ? failure.message : 'Could not start the call';
      error.hidden = false;
    },
  );
});

if (!staffToken) showStep('step-expired');
else if (params.get('call')) void enterCall(params.get('call')!);
