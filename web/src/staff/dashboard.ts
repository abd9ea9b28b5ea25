import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import '../call/call.css';
import { io, type Socket } from 'socket.io-client';
import { consultationOutcomes } from '@gpc/contracts';

/**
 * The staff dashboard: sign in, the practice's queue kept live over socket.io, a request's detail,
 * assign, start a video call, close with a coded outcome and a summary for the GP record, and see
 * that summary into the GP record (patient match, replay of a refused one).
 */

interface Session {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  staff: { id: string; name: string; role: string; practiceId: string };
}
interface QueueItem {
  id: string;
  reference: string;
  kind: string;
  status: string;
  priority: string;
  patientName: string;
  assignedTo: string | null;
  ageMinutes: number;
  writeBackStatus: WriteBackStatus | null;
}
type WriteBackStatus = 'pending' | 'filed' | 'failed' | 'needs_patient_match';
interface WriteBackView {
  status: WriteBackStatus;
  attempts: number;
  lastError: string | null;
  lastAttemptAt: string | null;
  filedAt: string | null;
  serverLocations: string[];
}
interface WriteBackListItem extends WriteBackView {
  consultationId: string;
  reference: string;
  patientName: string;
  closedAt: string;
}
interface Detail extends QueueItem {
  birthDate: string;
  nhsNumber: string | null;
  contact: { phone: string | null; email: string | null; preferred: string | null; times: string | null };
  submittedBy: { name: string; relationship: string } | null;
  formTitle: string | null;
  answers: { item?: { linkId: string; text?: string; answer?: Record<string, unknown>[] }[] } | null;
  claimedBy: { id: string; name: string } | null;
  outcome: string | null;
  summary: string | null;
  writeBack: WriteBackView | null;
  notifications: NotificationView[];
}
interface NotificationView {
  channel: 'email' | 'sms';
  destination: string;
  status: 'queued' | 'sent' | 'delivered' | 'failed';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
}

/** One link sent to the patient, in words: how, to where, and whether it got there. */
function notificationText(notification: NotificationView): string {
  const how = `${notification.channel === 'email' ? 'Email' : 'Text message'}${notification.destination ? ` to ${notification.destination}` : ''}`;
  switch (notification.status) {
    case 'queued':
      return `${how}: waiting to send${notification.lastError ? ` (tried ${notification.attempts} times; last: ${notification.lastError})` : ''}`;
    case 'sent':
      return `${how}: sent ${when(notification.sentAt ?? notification.createdAt)}`;
    case 'delivered':
      return `${how}: delivered ${when(notification.deliveredAt ?? notification.createdAt)}`;
    case 'failed':
      return `Not sent: ${notification.lastError ?? 'the provider refused it'}`;
  }
}

const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
let session: Session | undefined;
let live: Socket | undefined;
let openId: string | undefined;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;

function show(section: 'sign-in' | 'queue' | 'detail'): void {
  for (const id of ['sign-in', 'queue', 'detail']) byId(id).hidden = id !== section;
  byId(section).querySelector('h1')?.focus();
}

function showError(message?: string): void {
  byId('error-summary').hidden = !message;
  byId('error-text').textContent = message ?? '';
  if (message) byId('error-summary').focus();
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`/api${path}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(session ? { authorization: `Bearer ${session.accessToken}` } : {}),
    },
  });
  const body = (await response.json().catch(() => ({}))) as T & { message?: string };
  if (!response.ok) throw new Error(body.message ?? `request failed (${response.status})`);
  return body;
}

function startSession(next: Session): void {
  session = next;
  sessionStorage.setItem('gpc-refresh', next.refreshToken);
  clearTimeout(refreshTimer);
  // renew a minute before the access token runs out
  refreshTimer = setTimeout(() => void refresh(), Math.max(10, next.expiresIn - 60) * 1000);
  live?.disconnect();
  live = io('/staff', { path: '/staff-live', auth: { token: next.accessToken } });
  live.on('queue:changed', () => {
    void loadQueue();
    if (openId) void openRequest(openId, false);
  });
}

async function refresh(): Promise<void> {
  const refreshToken = sessionStorage.getItem('gpc-refresh');
  if (!refreshToken) return show('sign-in');
  try {
    startSession(
      await call<Session>('/auth/refresh', { method: 'POST', body: JSON.stringify({ refreshToken }) }),
    );
  } catch {
    session = undefined;
    show('sign-in');
  }
}

const cell = (text: string) => {
  const td = document.createElement('td');
  td.className = 'nhsuk-table__cell';
  td.textContent = text;
  return td;
};
/** A table cell with the request's reference, opening it. */
function requestLinkCell(id: string, reference: string): HTMLTableCellElement {
  const td = cell('');
  const link = document.createElement('a');
  link.href = `#${id}`;
  link.textContent = reference;
  link.addEventListener('click', (event) => {
    event.preventDefault();
    void openRequest(id);
  });
  td.append(link);
  return td;
}
const label = (value: string) => value.replace('_', ' ');
const age = (minutes: number) =>
  minutes < 60
    ? `${minutes} min`
    : minutes < 1440
      ? `${Math.floor(minutes / 60)} h`
      : `${Math.floor(minutes / 1440)} d`;

async function loadQueue(): Promise<void> {
  if (!session) return;
  const filter = byId<HTMLSelectElement>('status-filter').value;
  const items =
    filter === 'open'
      ? (
          await Promise.all(
            ['new', 'in_progress', 'awaiting_patient'].map((status) =>
              call<QueueItem[]>(`/consultations?status=${status}`),
            ),
          )
        ).flat()
      : await call<QueueItem[]>(`/consultations?status=${filter}`);
  const rows = items.map((item) => {
    const row = document.createElement('tr');
    row.className = 'nhsuk-table__row';
    row.append(
      requestLinkCell(item.id, item.reference),
      cell(item.patientName),
      cell(item.kind),
      cell(item.priority),
      cell(label(item.status)),
      cell(age(item.ageMinutes)),
      cell(item.assignedTo === session?.staff.id ? 'You' : item.assignedTo ? 'Colleague' : '—'),
      cell(item.writeBackStatus ? recordStatusShort[item.writeBackStatus] : '—'),
    );
    return row;
  });
  byId('queue-rows').replaceChildren(...rows);
  byId('queue-empty').hidden = rows.length > 0;
  await loadRecordAttention();
}

const recordStatusShort: Record<WriteBackStatus, string> = {
  pending: 'Sending',
  filed: 'Filed',
  failed: 'Not filed',
  needs_patient_match: 'Needs NHS number',
};

/** Closed requests whose summary cannot reach the GP record until someone acts: shown above the queue. */
async function loadRecordAttention(): Promise<void> {
  const [failed, unmatched] = await Promise.all([
    call<WriteBackListItem[]>('/write-backs?status=failed'),
    call<WriteBackListItem[]>('/write-backs?status=needs_patient_match'),
  ]);
  const rows = [...failed, ...unmatched].map((item) => {
    const row = document.createElement('tr');
    row.className = 'nhsuk-table__row';
    row.append(
      requestLinkCell(item.consultationId, item.reference),
      cell(item.patientName),
      cell(when(item.closedAt)),
      cell(
        item.status === 'failed'
          ? 'The GP system refused it: fix the problem, then send it again'
          : 'The patient’s NHS number',
      ),
    );
    return row;
  });
  byId('record-attention-rows').replaceChildren(...rows);
  byId('record-attention').hidden = rows.length === 0;
}

const when = (iso: string) =>
  new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

/** Where the summary stands on its way into the GP record, in words, and what a person can do. */
function renderRecord(detail: Detail): void {
  const writeBack = detail.writeBack;
  byId('record').hidden = !writeBack;
  const list = byId('record-list');
  list.replaceChildren();
  byId('match-form').hidden = writeBack?.status !== 'needs_patient_match';
  byId('replay').hidden = !(writeBack?.status === 'failed' && session?.staff.role === 'admin');
  byId('replay-ask-admin').hidden = !(writeBack?.status === 'failed' && session?.staff.role !== 'admin');
  if (!writeBack) return;
  const status = {
    pending:
      writeBack.attempts === 0
        ? 'Being sent to the GP record'
        : 'Not filed yet: the GP system has not accepted it so far, and it will keep trying',
    filed: `Filed in the GP record${writeBack.filedAt ? ` on ${when(writeBack.filedAt)}` : ''}`,
    failed: 'Not filed: the GP system refused it',
    needs_patient_match:
      'Not filed: there is no NHS number, and a summary is never filed against a guess. Record the number below.',
  }[writeBack.status];
  summaryRow(list, 'Status', status);
  if (detail.outcome) summaryRow(list, 'Outcome', detail.outcome);
  // the clinician's own line breaks, as the GP record keeps them
  if (detail.summary) summaryRow(list, 'Summary', detail.summary).style.whiteSpace = 'pre-line';
  if (writeBack.lastError && writeBack.status !== 'filed') summaryRow(list, 'Reason', writeBack.lastError);
  if (writeBack.attempts > 0) {
    summaryRow(
      list,
      'Attempts',
      `${writeBack.attempts}${writeBack.lastAttemptAt ? `, the last on ${when(writeBack.lastAttemptAt)}` : ''}`,
    );
  }
  if (writeBack.serverLocations.length > 0) {
    summaryRow(
      list,
      'Filed as',
      writeBack.serverLocations.map((location) => location.split('/_history')[0]).join(', '),
    );
  }
}

function summaryRow(list: HTMLElement, key: string, value: string): HTMLElement {
  const row = document.createElement('div');
  row.className = 'nhsuk-summary-list__row';
  const dt = document.createElement('dt');
  dt.className = 'nhsuk-summary-list__key';
  dt.textContent = key;
  const dd = document.createElement('dd');
  dd.className = 'nhsuk-summary-list__value';
  dd.textContent = value;
  row.append(dt, dd);
  list.append(row);
  return dd;
}

async function openRequest(id: string, focus = true): Promise<void> {
  const detail = await call<Detail>(`/consultations/${id}`);
  openId = id;
  byId('detail-title').textContent = `${detail.reference}: ${detail.formTitle ?? detail.kind}`;
  const list = byId('detail-list');
  list.replaceChildren();
  summaryRow(list, 'Patient', detail.patientName);
  summaryRow(list, 'Date of birth', detail.birthDate);
  summaryRow(list, 'NHS number', detail.nhsNumber ?? 'Not given');
  summaryRow(
    list,
    'Contact',
    [detail.contact.preferred, detail.contact.phone, detail.contact.email, detail.contact.times]
      .filter(Boolean)
      .join(', '),
  );
  if (detail.submittedBy)
    summaryRow(list, 'Sent by', `${detail.submittedBy.name} (${detail.submittedBy.relationship})`);
  summaryRow(list, 'Status', `${label(detail.status)}, ${detail.priority}`);
  summaryRow(
    list,
    'Assigned',
    detail.assignedTo === session?.staff.id ? 'You' : detail.assignedTo ? 'A colleague' : 'Nobody',
  );
  const answers = byId('detail-answers');
  answers.replaceChildren();
  for (const item of detail.answers?.item ?? []) {
    const answer = item.answer?.[0] ?? {};
    const coding = answer.valueCoding as { display?: string; code?: string } | undefined;
    const text =
      typeof answer.valueString === 'string'
        ? answer.valueString
        : coding
          ? (coding.display ?? coding.code ?? '')
          : answer.valueBoolean === true
            ? 'Yes'
            : 'No';
    summaryRow(answers, item.text ?? item.linkId, text);
  }
  const files = await call<{ id: string; contentType: string; size: number; url: string }[]>(
    `/consultations/${id}/attachments`,
  ).catch(() => []);
  files.forEach((file, index) => {
    const row = document.createElement('div');
    row.className = 'nhsuk-summary-list__row';
    const dt = document.createElement('dt');
    dt.className = 'nhsuk-summary-list__key';
    dt.textContent = `Attachment ${index + 1}`;
    const dd = document.createElement('dd');
    dd.className = 'nhsuk-summary-list__value';
    const link = document.createElement('a');
    link.href = file.url;
    link.target = '_blank';
    link.rel = 'noopener';
    link.textContent = `${file.contentType}, ${Math.ceil(file.size / 1024)} KB (link valid 5 minutes)`;
    dd.append(link);
    row.append(dt, dd);
    answers.append(row);
  });
  if (!answers.hasChildNodes()) summaryRow(answers, 'Answers', 'None: the request was made without a form');
  const messages = await call<{ author: string; body: string; at: string }[]>(
    `/consultations/${id}/messages`,
  ).catch(() => []);
  byId('message-list').replaceChildren(
    ...messages.map((message) => {
      const item = document.createElement('li');
      const who = document.createElement('strong');
      who.textContent = `${message.author === 'staff' ? 'Practice' : 'Patient'}, ${new Date(message.at).toLocaleString()}: `;
      item.append(who, document.createTextNode(message.body));
      return item;
    }),
  );
  renderRecord(detail);
  byId('notification-list').replaceChildren(
    ...detail.notifications.map((notification) => {
      const item = document.createElement('li');
      item.textContent = notificationText(notification);
      return item;
    }),
  );
  byId('notifications').hidden = detail.notifications.length === 0;
  byId<HTMLSelectElement>('priority').value = detail.priority;
  byId('actions').hidden = detail.status === 'closed';
  // two people should never work the same request without knowing
  const heldByColleague = detail.claimedBy && detail.claimedBy.id !== session?.staff.id;
  byId('claim-notice').hidden = !heldByColleague;
  byId('claim-text').textContent = heldByColleague
    ? `${detail.claimedBy!.name} opened this request in the last 15 minutes.`
    : '';
  if (focus) show('detail');
}

byId('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  showError();
  const body = {
    odsCode: byId<HTMLInputElement>('ods').value.trim(),
    email: byId<HTMLInputElement>('email').value.trim(),
    password: byId<HTMLInputElement>('password').value,
  };
  call<Session>('/auth/login', { method: 'POST', body: JSON.stringify(body) }).then(
    (next) => {
      startSession(next);
      byId('signed-in-as').textContent = `Signed in as ${next.staff.name} (${next.staff.role})`;
      show('queue');
      void loadQueue();
    },
    (error: unknown) => showError(error instanceof Error ? error.message : 'Could not sign in'),
  );
});

byId('status-filter').addEventListener('change', () => void loadQueue());
byId('back').addEventListener('click', (event) => {
  event.preventDefault();
  openId = undefined;
  show('queue');
  void loadQueue();
});
byId('assign-me').addEventListener('click', () => {
  if (!openId || !session) return;
  void call(`/consultations/${openId}`, {
    method: 'PATCH',
    body: JSON.stringify({ assignedTo: session.staff.id, status: 'in_progress' }),
  })
    .then(() => openRequest(openId!, false))
    .catch((error: unknown) => showError(error instanceof Error ? error.message : 'Could not assign'));
});
byId('start-call').addEventListener('click', () => {
  if (!openId || !session) return;
  const patientName = byId('detail-list').querySelector('dd')?.textContent ?? 'Patient';
  fetch('/calls', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` },
    body: JSON.stringify({ consultationId: openId, patientName }),
  })
    .then(async (response) => {
      const body = (await response.json()) as { callId?: string; patientLink?: string; message?: string };
      if (!response.ok || !body.callId || !body.patientLink)
        throw new Error(body.message ?? 'Could not start a call');
      const anchor = byId<HTMLAnchorElement>('call-link');
      anchor.href = body.patientLink;
      anchor.textContent = body.patientLink;
      byId('call-link-row').hidden = false;
      window.open(`/clinician.html#t=${session!.accessToken}&call=${body.callId}`, '_blank', 'noopener');
    })
    .catch((error: unknown) => showError(error instanceof Error ? error.message : 'Could not start a call'));
});

byId('priority').addEventListener('change', () => {
  if (!openId) return;
  const priority = byId<HTMLSelectElement>('priority').value;
  void call(`/consultations/${openId}`, { method: 'PATCH', body: JSON.stringify({ priority }) })
    .then(() => openRequest(openId!, false))
    .catch((error: unknown) =>
      showError(error instanceof Error ? error.message : 'Could not change the priority'),
    );
});

byId('message-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId<HTMLTextAreaElement>('message-body');
  const body = input.value.trim();
  if (!body || !openId) return showError('Write a message');
  void call<{ threadLink: string; notification: NotificationView | null }>(
    `/consultations/${openId}/messages`,
    {
      method: 'POST',
      body: JSON.stringify({ body }),
    },
  )
    .then(({ threadLink, notification }) => {
      input.value = '';
      const anchor = byId<HTMLAnchorElement>('thread-link');
      anchor.href = threadLink;
      anchor.textContent = threadLink;
      // the practice's provider sends it; staff get the link to send themselves only when it cannot
      byId('thread-link-row').hidden = notification !== null && notification.status !== 'failed';
      return openRequest(openId!, false);
    })
    .catch((error: unknown) => showError(error instanceof Error ? error.message : 'Could not send'));
});

function showMatchError(message?: string): void {
  byId('match-group').classList.toggle('nhsuk-form-group--error', Boolean(message));
  byId('match-nhs-number').classList.toggle('nhsuk-input--error', Boolean(message));
  byId('match-error').hidden = !message;
  byId('match-error').textContent = message ? `Error: ${message}` : '';
  byId('match-nhs-number').setAttribute(
    'aria-describedby',
    message ? 'match-hint match-error' : 'match-hint',
  );
}

byId('match-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const nhsNumber = byId<HTMLInputElement>('match-nhs-number').value.trim();
  if (!/^[0-9 ]{10,12}$/.test(nhsNumber)) {
    showMatchError('Enter the 10-digit NHS number');
    return byId('match-nhs-number').focus();
  }
  showMatchError();
  void call(`/consultations/${openId ?? ''}/nhs-number`, {
    method: 'PUT',
    body: JSON.stringify({ nhsNumber }),
  })
    .then(() => {
      byId<HTMLInputElement>('match-nhs-number').value = '';
      return openRequest(openId!, false);
    })
    .catch((error: unknown) => {
      showMatchError(error instanceof Error ? error.message : 'Could not save the NHS number');
      byId('match-nhs-number').focus();
    });
});

byId('replay').addEventListener('click', () => {
  void call(`/consultations/${openId ?? ''}/write-back/replay`, { method: 'POST', body: '{}' })
    .then(() => openRequest(openId!, false))
    .catch((error: unknown) => showError(error instanceof Error ? error.message : 'Could not send it again'));
});

const outcome = byId<HTMLSelectElement>('outcome');
for (const option of consultationOutcomes) outcome.append(new Option(option.display, option.code));
byId('close-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const summary = byId<HTMLTextAreaElement>('summary').value.trim();
  if (!summary) return showError('Write a summary for the GP record');
  const chosen = consultationOutcomes.find((option) => option.code === outcome.value);
  void call(`/consultations/${openId ?? ''}/close`, {
    method: 'POST',
    body: JSON.stringify({ outcomeCode: chosen?.code, outcomeDisplay: chosen?.display, summary }),
  })
    .then(() => {
      byId<HTMLTextAreaElement>('summary').value = '';
      openId = undefined;
      show('queue');
      return loadQueue();
    })
    .catch((error: unknown) => showError(error instanceof Error ? error.message : 'Could not close'));
});

void refresh();
