import { Type, type Static } from '@sinclair/typebox';

/** Queue names, shared by producers and workers. */
export const QueueNames = {
  /** Consultation summaries bound for the GP record over FHIR. */
  writeBack: 'fhir-write-back',
  /** Links to message threads, on their way to patients by email or text message. */
  patientNotifications: 'patient-notifications',
} as const;

/** A notification to send (or whose delivery to check): the `notification` row says the rest. */
export interface NotificationJob {
  notificationId: string;
}

/**
 * Jobs carry ids, never snapshots: the worker loads the current data when it runs. The practice
 * id is there so the queue can rate-limit each practice's GP system on its own.
 */
export const WriteBackJobSchema = Type.Object(
  { consultationId: Type.String({ format: 'uuid' }), practiceId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);
export type WriteBackJob = Static<typeof WriteBackJobSchema>;

/**
 * One job per consultation: enqueueing the same consultation twice is a no-op. Bull's per-group
 * rate limiter appends `:<practiceId>` to the id it is given, so this is the id the queue holds.
 */
export const writeBackJobId = (job: WriteBackJob): string =>
  `write-back-${job.consultationId}:${job.practiceId}`;
/** The id handed to `queue.add`, before bull appends the practice. */
export const writeBackJobIdBase = (consultationId: string): string => `write-back-${consultationId}`;

/**
 * Where a consultation's summary stands on its way into the GP record:
 * - `needs_patient_match`: no valid NHS number yet; it waits for staff and is never filed against a guess
 * - `pending`: queued, or being retried
 * - `sent` (GP Connect Send Document only): MESH has the message; it waits for the GP system's
 *   infrastructure and business acknowledgements
 * - `filed`: the GP system accepted it (Send Document: business acknowledgement 30001)
 * - `needs_attention` (Send Document only): an acknowledgement says a person must look (patient not
 *   registered here, deceased), none came in time, or MESH could not deliver it
 * - `failed`: refused, or out of retries; kept for a person to fix and replay
 */
export const WriteBackStatuses = [
  'needs_patient_match',
  'pending',
  'sent',
  'filed',
  'needs_attention',
  'failed',
] as const;
export type WriteBackStatus = (typeof WriteBackStatuses)[number];
