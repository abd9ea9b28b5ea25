import type {
  AttachmentView,
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
}

export interface OpenRequest {
  detail: ConsultationDetail;
  attachments: AttachmentView[];
  messages: ThreadMessage[];
}

/** The request open in the dashboard, if any: live updates reload it. */
export const dashboard: { openId: string | undefined } = { openId: undefined };

export async function loadQueueData(client: StaffClient, filter: QueueFilter): Promise<QueueData> {
  const items =
    filter === 'open'
      ? (await Promise.all(openStatuses.map((status) => client.queue(status)))).flat()
      : await client.queue(filter);
  const [failed, unmatched] = await Promise.all([
    client.writeBacks('failed'),
    client.writeBacks('needs_patient_match'),
  ]);
  return { items, needsAttention: [...failed, ...unmatched] };
}

/** A request with its files and messages; either of those may be refused without hiding the request. */
export async function loadOpenRequest(client: StaffClient, id: string): Promise<OpenRequest> {
  const detail = await client.consultation(id);
  const attachments = await client.attachments(id).catch(() => []);
  const messages = await client.messages(id).catch(() => []);
  return { detail, attachments, messages };
}
