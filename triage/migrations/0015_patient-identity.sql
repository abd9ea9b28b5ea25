-- Up Migration
-- Who the patient is, as far as the service can tell, and who confirmed it. A summary is filed only
-- once identity is confirmed for the NHS number it would be filed under: a trace against PDS that
-- verified the number, date of birth, surname and registration at this practice, confirmed by a
-- member of staff; or NHS login at P9, which arrives confirmed.
ALTER TABLE consultation
  -- where the patient's details came from: typed into the form, or NHS login's token (not editable)
  ADD COLUMN identity_source text NOT NULL DEFAULT 'form' CHECK (identity_source IN ('form', 'nhs_login')),
  -- NHS login's identity_proofing_level when the details came from it
  ADD COLUMN identity_proofing_level text CHECK (identity_proofing_level IN ('P0', 'P5', 'P9')),
  -- the latest trace's result (or why there is none)
  ADD COLUMN identity_status text NOT NULL DEFAULT 'tracing' CHECK (identity_status IN (
    'tracing', 'verified', 'registered_elsewhere', 'details_disagree', 'not_found', 'restricted',
    'trace_unavailable', 'no_nhs_number', 'nhs_login_p9')),
  -- confirmation: who and when, and the number it was for (changing the number undoes it)
  ADD COLUMN identity_confirmed_at timestamptz,
  ADD COLUMN identity_confirmed_by uuid REFERENCES staff (id) ON DELETE SET NULL,
  ADD COLUMN identity_confirmed_nhs_number text CHECK (identity_confirmed_nhs_number ~ '^[0-9]{10}$'),
  ADD CONSTRAINT consultation_identity_confirmed CHECK (
    (identity_confirmed_at IS NULL) = (identity_confirmed_nhs_number IS NULL));

-- A trace owed to a request: written with the request (or when staff change its NHS number), so a
-- queue that loses the job loses no trace; the sweep queues rows still owed.
CREATE TABLE patient_trace (
  consultation_id uuid PRIMARY KEY REFERENCES consultation (id) ON DELETE CASCADE,
  practice_id uuid NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'owed' CHECK (status IN ('owed', 'done')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- what went wrong on the way to PDS (never the patient's details)
  last_error text,
  -- what PDS said, for staff: the registered practice's ODS code, whether restricted, which fields disagreed
  result jsonb,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patient_trace_owed ON patient_trace (next_attempt_at) WHERE status = 'owed';

-- requests already here: those without a number cannot be traced; the others are owed a trace
UPDATE consultation SET identity_status = 'no_nhs_number' WHERE patient_nhs_number IS NULL;
INSERT INTO patient_trace (consultation_id, practice_id)
SELECT id, practice_id FROM consultation WHERE patient_nhs_number IS NOT NULL;

-- Down Migration
DROP TABLE patient_trace;
ALTER TABLE consultation
  DROP CONSTRAINT consultation_identity_confirmed,
  DROP COLUMN identity_confirmed_nhs_number,
  DROP COLUMN identity_confirmed_by,
  DROP COLUMN identity_confirmed_at,
  DROP COLUMN identity_status,
  DROP COLUMN identity_proofing_level,
  DROP COLUMN identity_source;
