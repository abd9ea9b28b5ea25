/**
 * `@gpc/record/write-back`: the one owner of the `write_back` table, the outbox a closed request's
 * summary waits in on its way into the GP record. Every change to a row is a named transition here,
 * on a pool or a transaction's client. Needs only `pg` and `@gpc/contracts` (no bull, no FHIR
 * definitions), so triage uses it without loading the worker's side.
 *
 * - `createWriteBack` (with the close): → pending, or → needs_patient_match without a valid NHS number
 * - pending: `claimAttemptSql` counts an attempt; `noteRetryableError` stays pending;
 *   `markFiled` → filed; `markFailed` → failed; `markNeedsPatientMatch` → needs_patient_match
 * - needs_patient_match: `resumeAfterPatientMatch` → pending
 * - pending (Send Document): `recordOutgoingMessage`, then `markSent` → sent
 * - sent: `applyAcknowledgement` → sent (20013), filed (30001), needs_attention (30002/3/4, a MESH
 *   report) or failed (a negative infrastructure code); `markAckOverdue` → needs_attention
 * - failed, needs_attention: `resetForReplay` → pending
 */
export * from './state';
export * from './transitions';
export * from './reads';
export * from './send-document';
