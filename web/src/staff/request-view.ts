import type { ConsultationDetail, StaffSession } from '@gpc/contracts';
import { addSummaryRow, byId, element, messageItem, newTabLink } from '../shared/nhsuk';
import { renderIdentity } from './identity-view';
import { renderRecord } from './record-view';
import { renderCalls } from './calls-view';
import type { OpenRequest } from './state';
import { assigneeLabel, calendarDate, notificationText, statusLabel, when } from './words';

/** The detail section: one request, its answers and files, its messages, where its summary stands. */

export function renderRequest(request: OpenRequest, staff: StaffSession['staff'] | undefined): void {
  const { detail } = request;
  byId('detail-title').textContent = `${detail.reference}: ${detail.formTitle ?? detail.kind}`;
  renderPatient(detail, staff?.id);
  renderIdentity(detail.identity, staff?.role);
  renderAnswers(request);
  byId('message-list').replaceChildren(
    ...request.messages.map((message) =>
      messageItem(
        `${message.author === 'staff' ? 'Practice' : 'Patient'}, ${when(message.at)}: `,
        message.body,
      ),
    ),
  );
  renderRecord(detail, staff?.role);
  renderCalls(request.calls);
  byId('notification-list').replaceChildren(
    ...detail.notifications.map((notification) => element('li', {}, notificationText(notification))),
  );
  byId('notifications').hidden = detail.notifications.length === 0;
  byId<HTMLSelectElement>('priority').value = detail.priority;
  byId('actions').hidden = detail.status === 'closed';
  // once it is theirs there is nothing to assign: the Assigned row says "You"
  byId('assign-me').hidden = Boolean(staff) && detail.assignedTo === staff?.id;
  // two people should never work the same request without knowing
  const heldByColleague =
    detail.claimedBy && detail.claimedBy.id !== staff?.id ? detail.claimedBy : undefined;
  byId('claim-notice').hidden = !heldByColleague;
  byId('claim-text').textContent = heldByColleague
    ? `${heldByColleague.name} opened this request in the last 15 minutes.`
    : '';
}

function renderPatient(detail: ConsultationDetail, me: string | undefined): void {
  const list = byId('detail-list');
  list.replaceChildren();
  addSummaryRow(list, 'Patient', detail.patientName);
  addSummaryRow(list, 'Date of birth', calendarDate(detail.birthDate));
  addSummaryRow(list, 'NHS number', detail.nhsNumber ?? 'Not given');
  const { preferred, phone, email, times } = detail.contact;
  addSummaryRow(list, 'Contact', [preferred, phone, email, times].filter(Boolean).join(', '));
  if (detail.submittedBy)
    addSummaryRow(list, 'Sent by', `${detail.submittedBy.name} (${detail.submittedBy.relationship})`);
  addSummaryRow(list, 'Status', `${statusLabel(detail.status)}, ${detail.priority}`);
  addSummaryRow(
    list,
    'Assigned',
    assigneeLabel(detail.assignedTo, me, { colleague: 'A colleague', nobody: 'Nobody' }),
  );
}

/** Every answer to a question: one as text, several as a list (a multi-answer question shows them all). */
function answersShown(answers: string[]): string | Node {
  if (answers.length === 1) return answers[0]!;
  const list = element('ul', { class: 'nhsuk-list nhsuk-list--bullet' });
  list.append(...answers.map((answer) => element('li', {}, answer)));
  return list;
}

function renderAnswers({ detail, attachments }: OpenRequest): void {
  const answers = byId('detail-answers');
  answers.replaceChildren();
  // resolved by the server: the form version's own words, never text the patient's browser sent
  for (const shown of detail.answers) addSummaryRow(answers, shown.question, answersShown(shown.answers));
  attachments.forEach((file, index) => {
    const size = `${file.contentType}, ${Math.ceil(file.size / 1024)} KB (link valid 5 minutes)`;
    addSummaryRow(answers, `Attachment ${index + 1}`, newTabLink(file.url, size));
  });
  if (!answers.hasChildNodes())
    addSummaryRow(answers, 'Answers', 'None: the request was made without a form');
}
