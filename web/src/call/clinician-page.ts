import type { Participant } from '@gpc/contracts';
import { CallClient } from './call-client';
import { bindCallView, byId, explainMediaError, showStep, takeFragmentParams } from './page-common';

const params = takeFragmentParams();
const staffToken = params.get('t');

async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${staffToken ?? ''}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = (await response.json()) as T & { message?: string };
  if (!response.ok) throw new Error(data.message ?? `request failed (${response.status})`);
  return data;
}

function renderWaiting(client: CallClient, participants: Participant[]): void {
  const waiting = participants.filter((p) => p.state === 'waiting');
  byId('nobody-waiting').hidden = waiting.length > 0;
  const list = byId('waiting-list');
  list.replaceChildren(
    ...waiting.map((participant) => {
      const item = document.createElement('li');
      const label = document.createElement('span');
      label.textContent = `${participant.name} (${participant.role === 'patient' ? 'patient' : 'guest'}) is waiting`;
      const admit = document.createElement('button');
      admit.className = 'nhsuk-button nhsuk-u-margin-bottom-0';
      admit.type = 'button';
      admit.textContent = `Admit ${participant.name}`;
      admit.addEventListener('click', () => void client.admit(participant.participantId));
      const remove = document.createElement('button');
      remove.className = 'nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0';
      remove.type = 'button';
      remove.textContent = 'Remove';
      remove.addEventListener('click', () => void client.remove(participant.participantId));
      item.append(label, admit, remove);
      return item;
    }),
  );
}

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
  const client = new CallClient(staffToken ?? '', stream, { callId });
  window.__call = client;
  client.on('participants', (participants) => renderWaiting(client, participants));
  bindCallView(client, stream, (state) => {
    stream.getTracks().forEach((track) => track.stop());
    showStep(state === 'expired' ? 'step-expired' : 'step-ended');
  });
  byId('invite-guest').addEventListener('click', () => {
    const name = prompt('Name of the interpreter or carer');
    if (!name) return;
    void postJson<{ link: string }>(`/calls/${encodeURIComponent(callId)}/guests`, { name }).then(
      ({ link }) => {
        const anchor = byId<HTMLAnchorElement>('guest-link');
        anchor.href = link;
        anchor.textContent = link;
        byId('guest-link-row').hidden = false;
      },
    );
  });
}

byId('start-form').addEventListener('submit', (event) => {
  event.preventDefault();

  const consultationId = byId<HTMLInputElement>('consultation-id').value.trim();
  const patientName = byId<HTMLInputElement>('patient-name').value.trim();
  const error = byId('start-error');
  if (!consultationId || !patientName) {
    error.textContent = 'Enter the consultation reference and the patient’s name';
    error.hidden = false;
    return;
  }
  postJson<{ callId: string; patientLink: string }>('/calls', { consultationId, patientName }).then(
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
