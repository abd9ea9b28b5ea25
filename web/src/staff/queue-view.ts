import type { IdentityStatus, QueueItem } from '@gpc/contracts';
import { actionLink, byId, element, tableRow } from '../shared/nhsuk';
import type { QueueData } from './state';
import { assigneeLabel, attentionReason, recordStatusShort, statusLabel, waitingText, when } from './words';

/** The queue section: requests in the queue, and closed ones whose summary needs someone first. */

/** Opens a request from its reference in a table. */
export type OpenRequestHandler = (id: string) => void;

const referenceLink = (id: string, reference: string, open: OpenRequestHandler) =>
  actionLink(`#${id}`, reference, () => open(id));

export function renderQueue(queue: QueueData, me: string | undefined, open: OpenRequestHandler): void {
  const rows = queue.items.map((item) =>
    tableRow(
      referenceLink(item.id, item.reference, open),
      item.patientName,
      item.kind,
      priorityCell(item),
      statusLabel(item.status),
      waitingCell(item),
      assigneeLabel(item.assignedTo, me, { colleague: 'Colleague', nobody: '—' }),
      item.writeBackStatus ? recordStatusShort[item.writeBackStatus] : '—',
    ),
  );
  byId('queue-rows').replaceChildren(...rows);
  byId('queue-empty').hidden = rows.length > 0;
  renderOverdue(queue.overdue);
  renderNeedsAttention(queue, open);
}

/** How long it has waited, tagged when it is past the practice's response target and not actioned. */
function waitingCell(item: QueueItem): string | Node {
  const waited = waitingText(item.status, item.ageMinutes);
  if (!item.overdue) return waited;
  const cell = element('span');
  const due = item.dueAt
    ? `Not actioned by ${when(item.dueAt)}, the practice’s target for ${item.priority}`
    : '';
  cell.append(
    `${waited} `,
    element('strong', { class: 'nhsuk-tag nhsuk-tag--orange', title: due }, 'Overdue'),
  );
  return cell;
}

/** The count of overdue requests above the queue, whatever the queue is showing. */
function renderOverdue(overdue: number): void {
  byId('overdue').hidden = overdue === 0;
  byId('overdue-text').textContent =
    overdue === 1
      ? '1 request has not been actioned within the practice’s response time.'
      : `${overdue} requests have not been actioned within the practice’s response time.`;
}

/** The priority, with a red tag when the patient sent the request past an urgent red flag. */
function priorityCell(item: QueueItem): string | Node {
  if (!item.redFlag) return item.priority;
  const cell = element('span');
  cell.append(
    `${item.priority} `,
    element(
      'strong',
      { class: 'nhsuk-tag nhsuk-tag--red', title: 'Told to call 111 or the surgery now, and sent it anyway' },
      'Urgent red flag',
    ),
  );
  return cell;
}

/** What a summary held for a patient match waits for, by the request's identity status. */
function identityNeeded(status: IdentityStatus): string {
  switch (status) {
    case 'no_nhs_number':
      return 'The patient’s NHS number';
    case 'tracing':
    case 'trace_unavailable':
      return 'PDS to trace the patient, then a clinician to confirm them';
    case 'verified':
      return 'A clinician to confirm the patient (PDS verified them)';
    default:
      return 'The patient’s identity: PDS did not verify it (open the request for why)';
  }
}

function renderNeedsAttention(queue: QueueData, open: OpenRequestHandler): void {
  const rows = queue.needsAttention.map((item) =>
    tableRow(
      referenceLink(item.consultationId, item.reference, open),
      item.patientName,
      when(item.closedAt),
      item.status === 'failed'
        ? 'The GP system refused it: fix the problem, then send it again'
        : item.status === 'needs_attention'
          ? attentionReason(item.lastError)
          : identityNeeded(item.identityStatus),
    ),
  );
  byId('record-attention-rows').replaceChildren(...rows);
  byId('record-attention').hidden = rows.length === 0;
}
