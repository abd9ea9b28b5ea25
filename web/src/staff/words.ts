import type { ConsultationStatus, NotificationView, WriteBackStatus, WriteBackView } from '@gpc/contracts';

/** The dashboard's data in words: dates, waiting times, statuses. No DOM. */

export const when = (iso: string): string =>
  new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

/** A calendar date (`1985-07-14`) as staff read it: `14 July 1985`, whatever the browser's locale. */
export const calendarDate = (isoDate: string): string =>
  new Date(`${isoDate}T00:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });

/** A status code as words (`in_progress` → `in progress`). */
export const statusLabel = (value: string): string => value.replace('_', ' ');

/** How long a request has waited, in its largest whole unit. */
/** How long an open request has waited; a closed one waits no longer. */
export const waitingText = (status: ConsultationStatus, minutes: number): string =>
  status === 'closed' ? '—' : waitingTime(minutes);

export const waitingTime = (minutes: number): string =>
  minutes < 60
    ? `${minutes} min`
    : minutes < 1440
      ? `${Math.floor(minutes / 60)} h`
      : `${Math.floor(minutes / 1440)} d`;

/** Who has a request, as the person looking at it would say it. */
export const assigneeLabel = (
  assignedTo: string | null,
  me: string | undefined,
  words: { colleague: string; nobody: string },
): string => (assignedTo === me ? 'You' : assignedTo ? words.colleague : words.nobody);

/** A write-back's state in the queue's GP record column. */
export const recordStatusShort: Record<WriteBackStatus, string> = {
  pending: 'Sending',
  sent: 'Sent',
  filed: 'Filed',
  needs_attention: 'Needs attention',
  failed: 'Not filed',
  needs_patient_match: 'Needs NHS number',
};

/** Where a summary stands on its way into the GP record, in a sentence. */
export function recordStatusText(writeBack: WriteBackView): string {
  switch (writeBack.status) {
    case 'pending':
      // an attempt is counted when it starts: until one has failed (and said why), it is on its way
      return writeBack.attempts === 0 || writeBack.lastError === null
        ? 'Being sent to the GP record'
        : 'Not filed yet: the GP system has not accepted it so far, and it will keep trying';
    case 'sent':
      return sentText(writeBack);
    case 'filed':
      return writeBack.transport === 'gp-connect-send-document'
        ? `Filed in the GP system's workflow${writeBack.filedAt ? ` on ${when(writeBack.filedAt)}` : ''}`
        : `Filed in the GP record${writeBack.filedAt ? ` on ${when(writeBack.filedAt)}` : ''}`;
    case 'needs_attention':
      // the reason says what went wrong with its own colon ("the GP system did not file it: …")
      return `Needs attention. ${attentionReason(writeBack.lastError)}`;
    case 'failed':
      return 'Not filed: the GP system refused it';
    case 'needs_patient_match':
      return 'Not filed: there is no NHS number, and a summary is never filed against a guess. Record the number below.';
  }
}

/** Why a summary needs a person, as a sentence: "The GP system did not file it: … (ITK 30002)". */
export const attentionReason = (lastError: string | null): string => {
  const reason = lastError ?? 'the GP system did not file it';
  return reason.charAt(0).toUpperCase() + reason.slice(1);
};

/** A Send Document summary MESH has taken: delivered to the GP system yet, or still on its way. */
function sentText(writeBack: WriteBackView): string {
  const message = writeBack.sendDocument;
  if (message?.infrastructure) {
    return `Sent: the GP system received it on ${when(message.infrastructure.at)} and has yet to file it in its workflow`;
  }
  return `Sent to the GP system by MESH${message?.sentAt ? ` on ${when(message.sentAt)}` : ''}: waiting for it to say it has received it`;
}

/** One link sent to the patient, in words: how, to where, and whether it got there. */
export function notificationText(notification: NotificationView): string {
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

/**
 * Why a view shows what it does when it could not be refreshed: what failed, as of when it is, and
 * that it is being tried again (staff must never take a stale list for the live one).
 */
export function staleText(view: 'list' | 'request', reason: string, shownAt: Date | undefined): string {
  const as = shownAt
    ? `It shows the ${view === 'list' ? 'requests' : 'request'} as they were at ${shownAt.toLocaleTimeString('en-GB')}`
    : 'It may not show the latest changes';
  return `This ${view} could not be refreshed (${reason}). ${as}. Trying again by itself…`;
}
