import type { ConsultationDetail } from '@gpc/contracts';
import { addSummaryRow, byId } from '../shared/nhsuk';
import { recordStatusText, when } from './words';

/** Where the summary stands on its way into the GP record, in words, and what a person can do. */
export function renderRecord(detail: ConsultationDetail, role: string | undefined): void {
  const writeBack = detail.writeBack;
  byId('record').hidden = !writeBack;
  const list = byId('record-list');
  list.replaceChildren();
  byId('match-form').hidden = writeBack?.status !== 'needs_patient_match';
  // a Send Document write-back that needs attention may be sent again, as a replacement
  const replayable = writeBack?.status === 'failed' || writeBack?.status === 'needs_attention';
  byId('replay').hidden = !(replayable && role === 'admin');
  byId('replay-ask-admin').hidden = !(replayable && role !== 'admin');
  if (!writeBack) return;
  // with a number, what it waits for is the patient's identity (the identity panel says why)
  const waitsForIdentity = writeBack.status === 'needs_patient_match' && detail.nhsNumber !== null;
  addSummaryRow(
    list,
    'Status',
    waitsForIdentity
      ? `Not filed: the patient is not confirmed for this NHS number yet. ${detail.identity.reason}`
      : recordStatusText(writeBack),
  );
  if (detail.outcome) addSummaryRow(list, 'Outcome', detail.outcome);
  // the clinician's own line breaks, as the GP record keeps them
  if (detail.summary) addSummaryRow(list, 'Summary', detail.summary).style.whiteSpace = 'pre-line';
  if (writeBack.lastError && writeBack.status !== 'filed' && writeBack.status !== 'needs_attention') {
    addSummaryRow(list, 'Reason', writeBack.lastError);
  }
  const message = writeBack.sendDocument;
  if (message?.meshMessageId) addSummaryRow(list, 'MESH message', message.meshMessageId);
  for (const [label, ack] of [
    ['Received', message?.infrastructure],
    ['GP system', message?.business],
    ['MESH report', message?.report],
  ] as const) {
    if (ack) addSummaryRow(list, label, `${ack.code} ${ack.text} (${when(ack.at)})`);
  }
  if (writeBack.attempts > 0) {
    const last = writeBack.lastAttemptAt ? `, the last on ${when(writeBack.lastAttemptAt)}` : '';
    addSummaryRow(list, 'Attempts', `${writeBack.attempts}${last}`);
  }
  if (writeBack.serverLocations.length > 0) {
    const filedAs = writeBack.serverLocations.map((location) => location.split('/_history')[0]);
    addSummaryRow(list, 'Filed as', filedAs.join(', '));
  }
}

/** Shows (or clears) the NHS number field's own error, the design system's way. */
export function showMatchError(message?: string): void {
  byId('match-group').classList.toggle('nhsuk-form-group--error', Boolean(message));
  byId('match-nhs-number').classList.toggle('nhsuk-input--error', Boolean(message));
  byId('match-error').hidden = !message;
  byId('match-error').textContent = message ? `Error: ${message}` : '';
  byId('match-nhs-number').setAttribute(
    'aria-describedby',
    message ? 'match-hint match-error' : 'match-hint',
  );
}
