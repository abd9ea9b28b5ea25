import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import '../call/call.css';
// Through its own subpath, like every value the pages take from contracts: the index would bring TypeBox.
import { consultationOutcomes } from '@gpc/contracts/outcomes';
import type { ConsultationPriority } from '@gpc/contracts';
import { errorText } from '../shared/api';
import { byId, showErrorSummary as showError } from '../shared/nhsuk';
import { resumeStaffSession } from '../shared/cis2-sign-in';
import { showSignedOut, wireSignIn } from '../shared/sign-in';
import { StaffClient, UnseenRepliesError } from './api';
import { renderQueue } from './queue-view';
import { showMatchError } from './record-view';
import { renderRequest } from './request-view';
import { CoalescedRefresh } from './refresh';
import { dashboard, loadOpenRequest, loadQueueData, queueRefreshIn, type QueueFilter } from './state';
import { hideUnseenReplies, showUnseenReplies } from './unseen-view';
import { staleText } from './words';

/**
 * The staff dashboard: sign in, the practice's queue kept live over socket.io, a request's detail,
 * assign, start a video call, close with a coded outcome and a summary for the GP record, and see
 * that summary into the GP record (patient match, replay of a refused one). This file wires the
 * page's controls to the client (api.ts) and the views; it renders nothing itself.
 */

/** Every renewed access token, for the call pages this session opened (to get host tokens for their calls). */
const staffTokens = new BroadcastChannel('gpc-staff-token');

const client = new StaffClient({
  signedOut: () => {
    queueRefresh.stop();
    openRequestRefresh.stop();
    show('sign-in');
    showSignedOut();
  },
  renewed: (accessToken) => staffTokens.postMessage({ staffId: client.staff?.id, accessToken }),
  // what is shown is loaded again, a burst of changes costing one load (refresh.ts); the queue,
  // hidden while a request is open, is loaded again on going back
  queueChanged: () => (dashboard.openId ? openRequestRefresh : queueRefresh).ask(),
});

function show(section: 'sign-in' | 'queue' | 'detail'): void {
  for (const id of ['sign-in', 'queue', 'detail']) byId(id).hidden = id !== section;
  byId(section).querySelector('h1')?.focus();
}

// A request is loaded again by live changes and by actions, and answers can arrive out of order:
// only the newest load is shown, or an older answer would put back what has since changed (a summary
// shown as being sent after it was filed). The queue's loads run one at a time (CoalescedRefresh).
let requestLoads = 0;

/** Says a view could not be refreshed, and when what it shows is from, until a load succeeds. */
function staleNotice(view: 'list' | 'request', section: 'queue' | 'detail') {
  let shownAt: Date | undefined;
  return {
    shown: () => (shownAt = new Date()),
    failed: (error: unknown) => {
      byId(`${section}-stale-text`).textContent = staleText(
        view,
        errorText(error, 'the service did not answer'),
        shownAt,
      );
      byId(`${section}-stale`).hidden = false;
    },
    recovered: () => (byId(`${section}-stale`).hidden = true),
  };
}
const queueStale = staleNotice('list', 'queue');
const requestStale = staleNotice('request', 'detail');
// a queue load is 7 requests: at most 30 a minute (210 requests) leaves room under the member of
// staff's 300 a minute for the open request's reloads and their own actions
const refreshPace = { minGapMs: 2000, retryMs: 2000, maxRetryMs: 30_000 };
const queueRefresh = new CoalescedRefresh(loadQueue, { ...refreshPace, ...queueStale });
const openRequestRefresh = new CoalescedRefresh(
  () => (dashboard.openId ? openRequest(dashboard.openId, false) : Promise.resolve()),
  { ...refreshPace, ...requestStale },
);

async function loadQueue(): Promise<void> {
  if (!client.staff) return;
  const filter = byId<HTMLSelectElement>('status-filter').value as QueueFilter;
  const data = await loadQueueData(client, filter);
  if (!client.staff) return;
  renderQueue(data, client.staff.id, (id) => void openRequest(id));
  queueStale.shown();
  // a request falls overdue with no event: read the queue again when the next one is due
  clearTimeout(overdueCheck);
  overdueCheck = setTimeout(() => queueRefresh.ask(), queueRefreshIn(data.items));
}
let overdueCheck: ReturnType<typeof setTimeout> | undefined;

/**
 * Loads and shows a request. `focus`: staff chose to open it (not a live update or a reload after an
 * action). `shown`: its messages are put in front of them now and count as seen (closing needs it);
 * a background reload must not count, or a reply could be "seen" while they were typing the summary.
 */
async function openRequest(id: string, focus = true, shown = focus): Promise<void> {
  if (focus) hideUnseenReplies();
  const load = ++requestLoads;
  const request = await loadOpenRequest(client, id, shown);
  if (load !== requestLoads) return;
  if (dashboard.openId !== id) byId('detail-stale').hidden = true; // another request's notice
  dashboard.openId = id;
  renderRequest(request, client.staff);
  requestStale.shown();
  if (focus) show('detail');
}

/** Runs an action on the open request, then shows it again; a refusal goes to the error summary. */
function actOnOpenRequest(action: (id: string) => Promise<unknown>, failure: string): void {
  const id = dashboard.openId;
  if (!id) return;
  void action(id)
    .then(() => openRequest(id, false))
    .catch((error: unknown) => showError(errorText(error, failure)));
}

/** Wires a form's submit to `onSubmit`, without the browser's own submission. */
function onSubmit(formId: string, handler: () => void): void {
  byId(formId).addEventListener('submit', (event) => {
    event.preventDefault();
    handler();
  });
}

/** Signed in, or back with this tab's session (e.g. from the practice settings page): the queue. */
function signedIn(staff: NonNullable<StaffClient['staff']>): void {
  byId('signed-in-as').textContent = `Signed in as ${staff.name} (${staff.role})`;
  // only admins can change the practice's settings (triage refuses everyone else too)
  byId('settings-link-row').hidden = staff.role !== 'admin';
  show('queue');
  queueRefresh.ask(true);
}

wireSignIn(client.signInFlow, (session) => signedIn(session.staff));

byId('status-filter').addEventListener('change', () => queueRefresh.ask(true));
byId('back').addEventListener('click', (event) => {
  event.preventDefault();
  dashboard.openId = undefined;
  show('queue');
  queueRefresh.ask(true);
});

byId('assign-me').addEventListener('click', () => {
  const me = client.staff?.id;
  if (me)
    actOnOpenRequest(
      (id) => client.change(id, { assignedTo: me, status: 'in_progress' }),
      'Could not assign',
    );
});

byId('priority').addEventListener('change', () => {
  // the select's options are the contract's priorities (staff.html)
  const priority = byId<HTMLSelectElement>('priority').value as ConsultationPriority;
  actOnOpenRequest((id) => client.change(id, { priority }), 'Could not change the priority');
});

byId('start-call').addEventListener('click', () => {
  const consultationId = dashboard.openId;
  if (!consultationId || !client.staff) return;
  // the patient's name on the link is the request's own: triage takes it from the record
  client
    .startCall({ consultationId })
    .then(({ callId, patientLink }) => {
      const anchor = byId<HTMLAnchorElement>('call-link');
      anchor.href = patientLink;
      anchor.textContent = patientLink;
      byId('call-link-row').hidden = false;
      // it hears each renewed access token on the `gpc-staff-token` channel (see `renewed`); support
      // trying the relay opens the dashboard as staff.html?relay=tcp (say), which the call page takes
      const relay = new URLSearchParams(location.search).get('relay');
      const search = relay && ['any', 'udp', 'tcp', 'tls'].includes(relay) ? `?relay=${relay}` : '';
      window.open(
        `/clinician.html${search}#t=${client.accessToken ?? ''}&call=${callId}`,
        '_blank',
        'noopener',
      );
    })
    .catch((error: unknown) => showError(errorText(error, 'Could not start a call')));
});

onSubmit('message-form', () => {
  const input = byId<HTMLTextAreaElement>('message-body');
  const body = input.value.trim();
  if (!body || !dashboard.openId) return showError('Write a message');
  actOnOpenRequest(async (id) => {
    const { threadLink, notification } = await client.sendMessage(id, { body });
    input.value = '';
    const anchor = byId<HTMLAnchorElement>('thread-link');
    anchor.href = threadLink;
    anchor.textContent = threadLink;
    // the practice's provider sends it; staff get the link to send themselves only when it cannot
    byId('thread-link-row').hidden = notification !== null && notification.status !== 'failed';
  }, 'Could not send');
});

onSubmit('match-form', () => {
  const field = byId<HTMLInputElement>('match-nhs-number');
  const nhsNumber = field.value.trim();
  if (!/^[0-9 ]{10,12}$/.test(nhsNumber)) {
    showMatchError('Enter the 10-digit NHS number');
    return field.focus();
  }
  showMatchError();
  void client
    .recordNhsNumber(dashboard.openId ?? '', { nhsNumber })
    .then(() => {
      field.value = '';
      return openRequest(dashboard.openId!, false);
    })
    .catch((error: unknown) => {
      showMatchError(errorText(error, 'Could not save the NHS number'));
      field.focus();
    });
});

byId('confirm-patient').addEventListener('click', () =>
  actOnOpenRequest((id) => client.confirmPatient(id), 'Could not confirm the patient'),
);

byId('replay').addEventListener('click', () =>
  actOnOpenRequest((id) => client.replayWriteBack(id), 'Could not send it again'),
);

const outcome = byId<HTMLSelectElement>('outcome');
// no outcome until the clinician picks one: a preselected first code would be filed unchosen
outcome.append(new Option('Choose an outcome', ''));
for (const option of consultationOutcomes) outcome.append(new Option(option.display, option.code));
onSubmit('close-form', () => {
  const summaryField = byId<HTMLTextAreaElement>('summary');
  const summary = summaryField.value.trim();
  const chosen = consultationOutcomes.find((option) => option.code === outcome.value);
  if (!chosen) return showError('Choose an outcome for the GP record');
  if (!summary) return showError('Write a summary for the GP record');
  const id = dashboard.openId ?? '';
  // held until the close, or the re-opening that shows (and so marks seen) a new reply, is done: a
  // second press before then would be refused for the same reply
  const closeButton = byId('close-form').querySelector<HTMLButtonElement>('button[type="submit"]');
  if (closeButton) closeButton.disabled = true;
  void client
    .close(id, {
      outcomeCode: chosen.code,
      outcomeDisplay: chosen.display,
      summary,
    })
    .then(() => {
      summaryField.value = '';
      outcome.value = '';
      hideUnseenReplies();
      dashboard.openId = undefined;
      show('queue');
      queueRefresh.ask(true);
    })
    .catch((error: unknown) => {
      if (!(error instanceof UnseenRepliesError)) return showError(errorText(error, 'Could not close'));
      // the patient wrote since this request was opened: show what they said, and the thread with it
      showError();
      showUnseenReplies(error.messages);
      return openRequest(id, false, true);
    })
    .finally(() => {
      if (closeButton) closeButton.disabled = false;
    });
});

// a CIS2 sign-in coming back, or this tab's session
void resumeStaffSession(client, 'staff').then((staff) => (staff ? signedIn(staff) : show('sign-in')));
