-- Up Migration
-- The write-back outbox: one row per closed consultation, written in the same transaction as the
-- close, so a summary bound for the GP record survives whatever happens to the queue. The record
-- worker moves it along; a sweep re-queues pending rows whose job the queue has lost.
CREATE TABLE write_back (
  consultation_id uuid PRIMARY KEY REFERENCES consultation (id) ON DELETE CASCADE,
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  status text NOT NULL CHECK (status IN ('needs_patient_match', 'pending', 'filed', 'failed')),
  -- attempts at the GP system since the last (re)queue
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- the GP system's own words (OperationOutcome text) or what went wrong on the way there
  last_error text,
  last_attempt_at timestamptz,
  -- where the GP system filed each resource: ["Encounter/…/_history/1", …]
  server_locations jsonb,
  filed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'filed') = (filed_at IS NOT NULL))
);
CREATE INDEX write_back_practice_status ON write_back (practice_id, status);
CREATE INDEX write_back_pending ON write_back (updated_at) WHERE status = 'pending';

-- consultations closed before this table existed are owed a write-back too
INSERT INTO write_back (consultation_id, practice_id, status)
SELECT id, practice_id, CASE WHEN patient_nhs_number IS NULL THEN 'needs_patient_match' ELSE 'pending' END
  FROM consultation WHERE status = 'closed';

-- Down Migration
DROP TABLE write_back;
