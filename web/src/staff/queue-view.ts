import { actionLink, byId, tableRow } from '../shared/nhsuk';
import type { QueueData } from './state';
import { assigneeLabel, recordStatusShort, statusLabel, waitingTime, when } from './words';

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
      item.priority,
      statusLabel(item.status),
      waitingTime(item.ageMinutes),
      assigneeLabel(item.assignedTo, me, { colleague: 'Colleague', nobody: '—' }),
      item.writeBackStatus ? recordStatusShort[item.writeBackStatus] : '—',
    ),
  );
  byId('queue-rows').replaceChildren(...rows);
  byId('queue-empty').hidden = rows.length > 0;
  renderNeedsAttention(queue, open);
}

function renderNeedsAttention(queue: QueueData, open: OpenRequestHandler): void {
  const rows = queue.needsAttention.map((item) =>
    tableRow(
      referenceLink(item.consultationId, item.reference, open),
      item.patientName,
      when(item.closedAt),
      item.status === 'failed'
        ? 'The GP system refused it: fix the problem, then send it again'
        : 'The patient’s NHS number',
    ),
  );
  byId('record-attention-rows').replaceChildren(...rows);
  byId('record-attention').hidden = rows.length === 0;
}
