import type {
  AttachmentView,
  CallDataView,
  ConsultationDetail,
  ConsultationStatus,
  QueueItem,
  ThreadMessage,
  WriteBackListItem,
} from '@gpc/contracts';
import { openStatuses, type StaffClient } from './api';

/**
 * What the dashboard shows, loaded through the client: the queue, and the request that is open.
 * The views render these; the wiring in dashboard.ts decides when to load them. No DOM.
 */

/** The queue's "Show" choice: one status, or every open one. */
export type QueueFilter = ConsultationStatus | 'open';

export interface QueueData {
  items: QueueItem[];
  /** Closed requests whose summary cannot reach the GP record until someone acts. */
  needsAttention: WriteBackListItem[];
  /** How many open requests are past the practice's response target (all of them, whatever is shown). */
  overdue: number;
}

export interface OpenRequest {
  detail: ConsultationDetail;
  attachments: AttachmentView[];
  messages: ThreadMessage[];
  /** Its video calls (call data); none shown if they cannot be read. */
  calls: CallDataView[];
}

/** The request open in the dashboard, if any: live updates reload it. */
export const dashboard: { openId: string | undefined } = { openId: undefined };

export async function loadQueueData(client: StaffClient, filter: QueueFilter): Promise<QueueData> {
  const items =
    filter === 'open'
      ? (await Promise.all(openStatuses.map((status) => client.queue(status)))).flat()
      : await client.queue(filter);
  const [failed, attention, unmatched, { overdue }] = await Promise.all([
    client.writeBacks('failed'),
    client.writeBacks('needs_attention'),
    client.writeBacks('needs_patient_match'),
    client.overdueCount(),
  ]);
  return { items, needsAttention: [...failed, ...attention, ...unmatched], overdue };
}

/**
 * A request with its files and messages; either of those may be refused without hiding the request.
 * `shown`: the member of staff is opening it (not a background reload), so the patient's messages
 * loaded count as seen by them (closing needs that).
 */
export async function loadOpenRequest(client: StaffClient, id: string, shown = false): Promise<OpenRequest> {
  const detail = await client.consultation(id);
  const attachments = await client.attachments(id).catch(() => []);
  const messages = await client.messages(id, shown).catch(() => []);
  const calls = await client.callData(id).catch(() => []);
  return { detail, attachments, messages, calls };
}

/**
 * How long until the queue should be read again so a request shows as overdue when it falls due:
 * nothing announces that (no event), so the page sets a timer from the items' `dueAt`. At most a
 * minute (waiting times and the count of requests not shown stay fresh), at least 5 seconds (a
 * browser clock ahead of the database's would otherwise read it again and again).
 */
export function queueRefreshIn(items: QueueItem[], now = Date.now()): number {
  const untilDue = items.flatMap((item) =>
    !item.overdue && item.dueAt ? [Date.parse(item.dueAt) - now + 1000] : [],
  );
  return Math.min(60_000, Math.max(5000, Math.min(...untilDue)));
}
