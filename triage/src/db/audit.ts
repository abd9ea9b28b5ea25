import type { Queryable } from './queryable';

/** Who touched which record: ids only, never patient data. */
export interface AuditEvent {
  practiceId: string;
  /** A member of staff's id, or a fixed name for the patient's side ('patient-form', 'patient-thread'). */
  actor: string;
  action: string;
  entity: 'consultation' | 'practice' | 'practice_pause' | 'staff' | 'video_call';
  entityId: string;
}

/** Records one audit event; run it on the transaction that makes the change it records. */
export async function recordAudit(db: Queryable, event: AuditEvent): Promise<void> {
  await db.query(
    'INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, $2, $3, $4, $5)',
    [event.practiceId, event.actor, event.action, event.entity, event.entityId],
  );
}
