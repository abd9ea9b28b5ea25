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
 * - failed: `resetForReplay` → pending
 */
export * from './state';
export * from './transitions';
export * from './reads';
