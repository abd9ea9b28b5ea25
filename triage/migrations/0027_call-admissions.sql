-- Up Migration
-- When a participant's connection was let into the call (a patient admitted from the waiting room,
-- or joining again already admitted; the clinician as they join). A request whose patient was
-- admitted to one of its video calls has been actioned, as one messaged is: it is no longer overdue.
ALTER TABLE video_call_attendance ADD COLUMN admitted_at timestamptz;
CREATE INDEX video_call_attendance_admitted_patient ON video_call_attendance (call_id)
  WHERE role = 'patient' AND admitted_at IS NOT NULL;

-- Down Migration
DROP INDEX video_call_attendance_admitted_patient;
ALTER TABLE video_call_attendance DROP COLUMN admitted_at;
