import type { HostTokenResult, Participant } from '@gpc/contracts';
import { button, element } from '../shared/nhsuk';
import { CallClient } from './call-client';
import { CallsApi } from './calls-api';
import { bindShareButton } from './screen-share';
import {
  bindCallView,
  byId,
  explainMediaError,
  forcedRelay,
  showStep,
  takeFragmentParams,
} from './page-common';

const params = takeFragmentParams();
/** The member of staff's access token: from the page's link, then each renewal of the dashboard's session. */
let staffToken = params.get('t');
const calls = new CallsApi({ token: () => staffToken ?? '' });
/** Whose token the page's link carried: a renewal is taken only for the same member of staff. */
const staffId = staffToken ? staffIdOf(staffToken) : undefined;
new BroadcastChannel('gpc-staff-token').addEventListener(
  'message',
  (event: MessageEvent<{ staffId?: unknown; accessToken?: unknown }>) => {
    const { accessToken } = event.data;
    if (typeof accessToken === 'string' && staffId && event.data.staffId === staffId)
      staffToken = accessToken;
  },
);

/** The `sub` of a staff access token (only to match renewals: triage checks the token itself). */
function staffIdOf(token: string): string | undefined {
  try {
    const claims = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as {
      sub?: unknown;
    };
    return typeof claims.sub === 'string' ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

/** Admit and Remove, side by side, for one waiting participant or device. */
function decisions(client: CallClient, participantId: string, admitLabel: string): HTMLButtonElement[] {
  const admit = button(admitLabel);
  admit.addEventListener('click', () => void client.admit(participantId));
  const remove = button('Remove', { variant: 'secondary' });
  remove.addEventListener('click', () => void client.remove(participantId));
  // side by side, so no space under each
  for (const action of [admit, remove]) action.classList.add('nhsuk-u-margin-bottom-0');
  return [admit, remove];
}

/**
 * A link another device holds was opened on a second device: the clinician decides. Admit lets the
 * second device take the link over (the device in the call now leaves it); Remove keeps it out.
 */
function anotherDeviceNotice(client: CallClient, device: Participant): HTMLElement {
  const callout = element('div', { class: 'nhsuk-warning-callout', role: 'alert' });
  const heading = element('h3', { class: 'nhsuk-warning-callout__label' });
  const label = element('span', { role: 'text' });
  label.append(
    element('span', { class: 'nhsuk-u-visually-hidden' }, 'Important: '),
    'This link was opened on another device',
  );
  heading.append(label);
  const role = device.role === 'patient' ? 'patient' : 'guest';
  const actions = element('div', { class: 'gpc-decisions' });
  actions.append(...decisions(client, device.participantId, 'Admit'));
  callout.append(
    heading,
    element(
      'p',
      {},
      `${device.name}'s link (${role}) was opened on a second device, which is waiting. Admit it only if ${device.name} says it is them: it takes their place, and the device they are using now leaves the call. Remove keeps it out.`,
    ),
    actions,
  );
  return callout;
}

function renderWaiting(client: CallClient, participants: Participant[]): void {
  const waiting = participants.filter((p) => p.state === 'waiting' && !p.anotherDevice);
  byId('nobody-waiting').hidden = waiting.length > 0;
  byId('waiting-list').replaceChildren(
    ...waiting.map((participant) => {
      const role = participant.role === 'patient' ? 'patient' : 'guest';
      const item = element('li');
      item.append(
        element('span', {}, `${participant.name} (${role}) is waiting`),
        ...decisions(client, participant.participantId, `Admit ${participant.name}`),
      );
      return item;
    }),
  );
  byId('other-devices').replaceChildren(
    ...participants.filter((p) => p.anotherDevice).map((device) => anotherDeviceNotice(client, device)),
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
  // each host token says where the call lives now: asked before each join and rejoin, and the token
  // of that answer is the one the next connection presents (a fresh one after that)
  let latest: HostTokenResult | undefined;
  const client = new CallClient(
    async () => {
      const fresh = latest ?? (await calls.hostToken(callId));
      latest = undefined;
      return fresh.token;
    },
    stream,
    {
      locate: async () => {
        latest = await calls.hostToken(callId);
        return latest.nodeUrl;
      },
      ...forcedRelay(),
    },
  );
  window.__call = client;
  client.on('participants', (participants) => renderWaiting(client, participants));
  bindCallView(client, stream, (state) => {
    stream.getTracks().forEach((track) => track.stop());
    showStep(state === 'expired' ? 'step-expired' : 'step-ended');
  });
  bindShareButton(client);
  byId('end-call').addEventListener('click', () => void client.endForEveryone());
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
